"""Fitting a cost profile's unknowns to measurements (``benchframe calibrate``).

A profile holds primitives measured with time_bench (an IRQ toggle, a lock, an atomic, a call) and costs
nobody measured directly: the prices of body work (``page_access``, ``data_access``: the code's counted
accesses in ``benchframe.mm.work``) and primitives a machine lacks a figure for. ``fit()`` finds the named
ones that bring the model's predictions closest to measurement rows (``benchframe.validate`` reads them), by a
bounded least-squares fit of the relative residuals (``scipy.optimize.least_squares``, trust region
reflective); every other cost stays at its value in the base profile.

The model is linear in the prices up to rounding to whole cycles, so the Jacobian is taken by forward
differences of one whole cycle (shifting every price by an exact multiple; ``Prices`` rounds half up). What it
reports: each fitted cost with its standard error (from the Jacobian and the residual variance), each row's
residual, and each row's leave-one-out error -- the row's residual when the (linearised) fit is redone
without it. An under-determined fit (fewer independent rows than costs) or one that lands on a bound says so.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from benchframe import BenchframeError
from benchframe.hw.costs import COST_NAMES, FRACTIONAL
from benchframe.validate import check_rows, predict

if TYPE_CHECKING:
    from benchframe.hw.costs import CostModel
    from benchframe.registry import Registry
    from benchframe.validate import Row

#: fitted costs are kept in [0, UPPER x the base value + UPPER_ABS]
UPPER = 10.0
UPPER_ABS = 100.0
DECIMALS = 3  # a fitted price is written with this many decimals


@dataclass
class Fit:
    """The outcome of a fit: values and standard errors of the fitted costs, per-row residuals."""

    names: list[str]
    values: dict[str, float]
    sigmas: dict[str, float | None]
    rows: list[Row]
    predicted: list[float]
    residuals: list[float]  # relative: (predicted - measured) / measured
    loo: list[float | None]  # relative leave-one-out errors
    warnings: list[str] = field(default_factory=list)



def fit_costs(base: CostModel, names: list[str], rows: list[Row], reg: Registry) -> Fit:
    """Fit ``names`` of ``base`` to ``rows`` (rows measured on other machines are the caller's to drop)."""
    if not rows:
        raise BenchframeError(f"no measurement rows for profile {base.name} to fit to")
    check_rows(rows, reg)
    values = np.array([r.value for r in rows])
    x0 = np.array([float(base.cost(n)) for n in names])
    upper = x0 * UPPER + UPPER_ABS

    def model(x: np.ndarray) -> CostModel:
        return base.with_costs(**{n: _as_cost(n, v) for n, v in zip(names, x)})

    def residuals(x: np.ndarray) -> np.ndarray:
        pred = predict(rows, reg, lambda _profile: model(x))
        if any(p is None for p in pred):
            raise BenchframeError("a measurement row's metric is not reported by the model")
        return (np.array(pred, dtype=float) - values) / values

    def jacobian(x: np.ndarray) -> np.ndarray:
        r0 = residuals(x)
        cols = []
        for i in range(len(x)):
            step = np.zeros_like(x)
            step[i] = 1.0 if x[i] + 1.0 <= upper[i] else -1.0  # a whole cycle: prices shift exactly
            cols.append((residuals(x + step) - r0) / step[i])
        return np.array(cols).T

    # Every charge is rounded to whole cycles, so at the scale of a few hundredths of a price the cost surface
    # is flat with shallow steps; the solver stops on one of them. Starts across the plausible range land
    # within about half a standard error of each other (the i7 fit from 0.4..1.2: 0.777..0.800): the fit says
    # no more than its standard errors. It starts from the base profile's values, so a refit is reproducible.
    from scipy.optimize import least_squares  # here: 0.3 s of start-up every other command does not need

    res = least_squares(residuals, x0, jac=jacobian, bounds=(np.zeros_like(x0), upper), method="trf",
                        x_scale=np.maximum(np.abs(x0), 1.0))
    fitted = {n: _rounded(n, v) for n, v in zip(names, res.x)}
    final = base.with_costs(**fitted)
    pred = [float(p) for p in predict(rows, reg, lambda _profile: final) if p is not None]
    resid = [(p - v) / v for p, v in zip(pred, values)]
    jac = jacobian(np.array([fitted[n] for n in names], dtype=float))
    out = Fit(names, fitted, _sigmas(jac, np.array(resid), names), rows, pred, resid, _loo(jac, np.array(resid)))
    out.warnings = _warnings(jac, res.x, x0, upper, names, len(rows))
    return out


def _as_cost(name: str, value: float) -> float:
    return float(value) if name in FRACTIONAL else int(math.floor(value + 0.5))


def _rounded(name: str, value: float) -> float:
    return round(float(value), DECIMALS) if name in FRACTIONAL else int(math.floor(value + 0.5))


def _sigmas(jac: np.ndarray, resid: np.ndarray, names: list[str]) -> dict[str, float | None]:
    """Standard errors: sqrt(diag((J^T J)^-1) * s^2), s^2 the residual variance; None when it cannot be had."""
    m, n = jac.shape
    if m <= n or np.linalg.matrix_rank(jac) < n:
        return dict.fromkeys(names)
    s2 = float(resid @ resid) / (m - n)
    cov = np.linalg.pinv(jac.T @ jac) * s2
    return {name: float(math.sqrt(max(cov[i, i], 0.0))) for i, name in enumerate(names)}


def _loo(jac: np.ndarray, resid: np.ndarray) -> list[float | None]:
    """Each row's error when it is left out: the linearised fit of the other rows, predicting it."""
    m, n = jac.shape
    out: list[float | None] = []
    for i in range(m):
        keep = [j for j in range(m) if j != i]
        if len(keep) < n or np.linalg.matrix_rank(jac[keep]) < n:
            out.append(None)
            continue
        # residual r(x) ~ r + J dx; the others' least squares dx, then row i's residual
        dx, *_ = np.linalg.lstsq(jac[keep], -resid[keep], rcond=None)
        out.append(float(resid[i] + jac[i] @ dx))
    return out


def _warnings(jac: np.ndarray, x: np.ndarray, x0: np.ndarray, upper: np.ndarray, names: list[str],
              rows: int) -> list[str]:
    out = []
    rank = int(np.linalg.matrix_rank(jac)) if jac.size else 0
    if rows <= len(names) or rank < len(names):
        out.append(f"under-determined: {len(names)} cost(s) fitted to {rows} row(s) of rank {rank}; the fit "
                   "cannot tell them apart (fit fewer costs or add measurements)")
    for name, value, start, hi in zip(names, x, x0, upper):
        near = 1e-2 * max(abs(start), 1.0)  # least_squares stays strictly inside its bounds
        if value <= near or value >= hi - near:
            bound = "lower bound (0)" if value <= near else f"upper bound ({hi:g})"
            out.append(f"{name} landed on its {bound}: the measurements push it out of range")
    return out


# -- the profile file ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FitSpec:
    """A profile's ``[fit]`` table: the costs ``--fit auto`` fits, the measurement files, and ``machine``: the
    profile name the rows of those files carry for this machine ("": the profile's own name; a profile
    recalibrated from another keeps fitting to its base machine's rows)."""

    costs: list[str] = field(default_factory=list)
    measurements: list[str] = field(default_factory=list)
    machine: str = ""


def fit_spec(text: str) -> FitSpec:
    """The ``[fit]`` table of profile ``text`` (empty without one)."""
    import tomllib

    table = tomllib.loads(text).get("fit", {})
    if not isinstance(table, dict):
        raise BenchframeError("profile: [fit] must be a table")
    costs = table.get("costs", [])
    files = table.get("measurements", [])
    machine = table.get("machine", "")
    if not isinstance(costs, list) or not all(isinstance(c, str) for c in costs) or \
            not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise BenchframeError("profile: [fit] costs and measurements must be lists of names")
    if not isinstance(machine, str):
        raise BenchframeError("profile: [fit] machine must be a profile name")
    return FitSpec(costs, files, machine)


def check_names(names: list[str]) -> None:
    unknown = [n for n in names if n not in COST_NAMES]
    if unknown:
        raise BenchframeError(f"--fit: unknown cost(s) {', '.join(unknown)}; known: {', '.join(COST_NAMES)}")
    if len(set(names)) != len(names):
        raise BenchframeError("--fit: a cost is named twice")


def write_profile(text: str, result: Fit, name: str | None = None, description: str | None = None,
                  measurements: list[str] | None = None, machine: str = "") -> str:
    """``text`` (the base profile) with each fitted cost's line replaced by its value and a comment naming the
    fit and the rows it was fitted to; everything else, comments included, as it was -- except, when given,
    the profile's ``name`` and ``description`` and the ``[fit]`` table, which then names the costs fitted and
    the ``measurements`` files and whose rows in them (``machine``), so ``calibrate --fit auto`` on the new
    profile repeats this fit."""
    rows = _row_ranges([r.where for r in result.rows])
    for cost in result.names:
        value = result.values[cost]
        sigma = result.sigmas[cost]
        shown = f"{value:.{DECIMALS}f}" if cost in FRACTIONAL else str(int(value))
        spread = "" if sigma is None else (f" +- {sigma:.{DECIMALS}f}" if cost in FRACTIONAL else f" +- {sigma:.1f}")
        text = _replace_line(text, cost, f"{cost} = {shown}  # fitted by benchframe calibrate{spread}, to {rows}")
    if name is not None:
        text = _replace_line(text, "name", f"name = {json.dumps(name)}")
    if description is not None:
        text = _replace_line(text, "description", f"description = {json.dumps(description)}")
    if measurements is not None:
        fit = (f"[fit]\n# written by benchframe calibrate: what --fit auto fits on this profile, and to which files\n"
               f"costs = {json.dumps(list(result.names))}\nmeasurements = {json.dumps(measurements)}\n"
               + (f"machine = {json.dumps(machine)}\n" if machine else "") + "\n")
        table = re.compile(r"^\[fit\]\n(?:(?!\[).*\n)*", re.MULTILINE)
        match = table.search(text)
        if match is None:
            text = text.replace("\n[costs]", f"\n{fit}[costs]", 1)
        else:
            text = text[:match.start()] + fit + text[match.end():]
    return text


def _replace_line(text: str, key: str, line: str) -> str:
    """The first ``key = ...`` line of ``text`` replaced by ``line``."""
    pattern = re.compile(rf"^{re.escape(key)}\s*=.*$", re.MULTILINE)
    if not pattern.search(text):
        raise BenchframeError(f"profile: no line for {key} to replace")
    return pattern.sub(line.replace("\\", "\\\\"), text, count=1)


def _row_ranges(wheres: list[str]) -> str:
    """``["a.csv:9", "a.csv:10", "b.csv:3"]`` -> ``"a.csv:9-10, b.csv:3"``."""
    by_file: dict[str, list[int]] = {}
    for where in wheres:
        name, _, line = where.rpartition(":")
        by_file.setdefault(name, []).append(int(line))
    parts = []
    for name, lines in by_file.items():
        lines = sorted(set(lines))
        spans = []
        start = prev = lines[0]
        for n in lines[1:] + [None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            spans.append(f"{start}" if start == prev else f"{start}-{prev}")
            if n is not None:
                start = prev = n
        parts.append(f"{name}:{','.join(spans)}")
    return ", ".join(parts)
