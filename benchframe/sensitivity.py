"""How far the model's rankings rest on its fitted prices: each fitted cost of a profile moved by one standard
error (what ``benchframe calibrate`` wrote next to it), the designs re-run, and every pair of designs whose
order changes named.

A profile line ``page_access = 0.512  # fitted by benchframe calibrate +- 0.041, to ...`` is a fitted cost
with its standard error; ``fitted_errors`` reads them. ``ordering_flips`` runs each design at one workload
point for the profile as it is and with each fitted cost at minus and plus one standard error (the others
unchanged; kept within the range the fit allowed it, its ``[fit]`` bounds or zero), and returns the pairs
whose order differs from the profile's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe.calibrate import fit_spec
from benchframe.hw.costs import FRACTIONAL
from benchframe.io import read_text
from benchframe.run.runner import run_one
from benchframe.run.spec import RunSpec

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from benchframe.hw.costs import CostModel
    from benchframe.registry import Registry

_FITTED = re.compile(r"^(\w+)\s*=\s*([0-9.]+)\s*#\s*fitted by benchframe calibrate \+- ([0-9.]+)", re.MULTILINE)


def fitted_errors(costs: CostModel) -> dict[str, float]:
    """The fitted costs of a profile file and their standard errors (none for a profile nothing was fitted
    in, or one given by name without a file)."""
    if not costs.source or not Path(costs.source).is_file():
        return {}
    text = read_text(costs.source, "profile", kind="profile")
    return {name: float(sigma) for name, _value, sigma in _FITTED.findall(text)}


@dataclass(frozen=True)
class Flip:
    """Two designs whose order changes when ``cost`` moves by ``sign`` standard errors."""

    cost: str
    sign: int
    cheaper: str  # the cheaper one with the profile as it is
    dearer: str
    before: tuple[float, float]  # their metric with the profile as it is
    after: tuple[float, float]  # and with the cost moved


def _perturbed(costs: CostModel, name: str, delta: float, bounds: tuple[float, float]) -> CostModel:
    value = min(max(costs.cost(name) + delta, bounds[0]), bounds[1])
    return costs.with_costs(**{name: round(value, 3) if name in FRACTIONAL else int(round(value))})


def ordering_flips(reg: Registry, costs: CostModel, designs: Sequence[str], workload: str,
                   params: Mapping[str, Any], metric: str, kernel: str | None = None) -> tuple[dict[str, float],
                                                                                           list[Flip]]:
    """The designs' ``metric`` with the profile as it is, and each pair whose order changes under a one
    standard error move of one fitted cost (lower is better)."""
    def values(model: CostModel) -> dict[str, float]:
        out = {}
        for design in designs:
            spec = RunSpec(design=design, workload=workload, params=dict(params), kernel=kernel or "5.13")
            out[design] = float(run_one(spec, reg, model).metrics[metric])
        return out

    base = values(costs)
    limits = fit_spec(read_text(costs.source, "profile", kind="profile")).bounds if fitted_errors(costs) else {}
    flips: list[Flip] = []
    for name, sigma in fitted_errors(costs).items():
        for sign in (-1, 1):
            moved = values(_perturbed(costs, name, sign * sigma, limits.get(name, (0.0, float("inf")))))
            for a, b in combinations(designs, 2):
                cheaper, dearer = (a, b) if base[a] <= base[b] else (b, a)
                if (base[cheaper] < base[dearer]) != (moved[cheaper] < moved[dearer]):
                    flips.append(Flip(name, sign, cheaper, dearer, (base[cheaper], base[dearer]),
                                      (moved[cheaper], moved[dearer])))
    return base, flips


__all__ = ["Flip", "fitted_errors", "ordering_flips"]
