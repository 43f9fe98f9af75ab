"""A cost profile's fit, as ``benchframe calibrate`` reads and writes it: the profile's ``[fit]`` table
(``FitSpec``: what ``--fit auto`` fits, to which measurement files) and the profile written back with the fitted
costs, their spread and the fit's correlation.

The fit itself is ``benchframe.costfit``; its names are re-exported here, where the command and the model check
import them from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from benchframe import BenchframeError
from benchframe.costfit import DECIMALS, MAX_STEPS, UPPER, UPPER_ABS, Fit, bootstrap_refits, fit_costs
from benchframe.hw.costs import COST_NAMES, FRACTIONAL
from benchframe.io import parse_toml

__all__ = ["DECIMALS", "MAX_STEPS", "UPPER", "UPPER_ABS", "Fit", "FitSpec", "bootstrap_refits", "check_names",
           "fit_costs", "fit_spec", "write_profile"]


# -- the profile file ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FitSpec:
    """A profile's ``[fit]`` table: the costs ``--fit auto`` fits, the measurement files, and ``machine``: the
    profile name the rows of those files carry for this machine ("": the profile's own name; a profile
    recalibrated from another keeps fitting to its base machine's rows)."""

    costs: list[str] = field(default_factory=list)
    measurements: list[str] = field(default_factory=list)
    machine: str = ""
    #: cost -> (low, high): the range the evidence allows it (e.g. two time_bench figures), else [0, ...)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: the fitted costs' correlation matrix, in ``costs`` order (written by calibrate; empty: not recorded)
    correlation: list[list[float]] = field(default_factory=list)


def fit_spec(text: str, source: str = "profile") -> FitSpec:
    """The ``[fit]`` table of profile ``text`` (empty without one)."""
    table = parse_toml(text, source).get("fit", {})
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
    raw = table.get("bounds", {})
    bounds: dict[str, tuple[float, float]] = {}
    if not isinstance(raw, dict):
        raise BenchframeError("profile: [fit] bounds must be a table of cost = [low, high]")
    for cost, pair in raw.items():
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, int | float) for v in pair)
                and 0 <= pair[0] <= pair[1]):
            raise BenchframeError(f"profile: [fit] bounds.{cost} must be [low, high] with 0 <= low <= high")
        bounds[cost] = (float(pair[0]), float(pair[1]))
    return FitSpec(costs, files, machine, bounds, _checked_correlation(table.get("correlation", []), len(costs)))


def _checked_correlation(raw: object, n: int) -> list[list[float]]:
    """``[fit] correlation``: a symmetric n x n matrix (n: the fitted costs), ones on the diagonal, every entry in
    [-1, 1]; a one-line error otherwise."""
    if raw == []:
        return []
    matrix: list[list[float]] = []
    for row in raw if isinstance(raw, list) else [None]:
        if not isinstance(row, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in row):
            matrix = []
            break
        matrix.append([float(v) for v in row])
    square = len(matrix) == n and all(len(row) == n for row in matrix)
    if not square or any(matrix[i][i] != 1 or matrix[i][j] != matrix[j][i] or abs(matrix[i][j]) > 1
                         for i in range(n) for j in range(n)):
        raise BenchframeError(f"profile: [fit] correlation must be a symmetric {n} x {n} matrix (one row per fitted "
                              "cost) with ones on its diagonal and entries in [-1, 1]")
    return matrix


def check_names(names: list[str]) -> None:
    unknown = [n for n in names if n not in COST_NAMES]
    if unknown:
        raise BenchframeError(f"--fit: unknown cost(s) {', '.join(unknown)}; known: {', '.join(COST_NAMES)}")
    if len(set(names)) != len(names):
        raise BenchframeError("--fit: a cost is named twice")


def write_profile(text: str, result: Fit, name: str | None = None, description: str | None = None,
                  measurements: list[str] | None = None, machine: str = "",
                  bounds: dict[str, tuple[float, float]] | None = None) -> str:
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
               + (f"machine = {json.dumps(machine)}\n" if machine else "")
               + (f"bounds = {{ {', '.join(f'{k} = [{lo:g}, {hi:g}]' for k, (lo, hi) in bounds.items())} }}\n"
                  if bounds else "") + _correlation_line(result) + "\n")
        table = re.compile(r"^\[fit\]\n(?:(?!\[).*\n)*", re.MULTILINE)
        match = table.search(text)
        if match is None:
            text = text.replace("\n[costs]", f"\n{fit}[costs]", 1)
        else:
            text = text[:match.start()] + fit + text[match.end():]
    else:
        text = _with_correlation(text, result)
    return text


def _correlation_line(result: Fit) -> str:
    if result.correlation is None:
        return ""
    rows = "".join("    [" + ", ".join(f"{v:g}" for v in row) + "],\n" for row in result.correlation)
    return (f"# the fitted costs' correlation (in costs order): compare's model check draws them from it\n"
            f"correlation = [\n{rows}]\n")


def _with_correlation(text: str, result: Fit) -> str:
    """``text`` with its ``[fit]`` table's correlation (and the comment before it) replaced by the fit's, or added
    at the table's end; unchanged without a [fit] table."""
    old = re.compile(r"^# the fitted costs' correlation.*\ncorrelation = \[(?:.*\]\n|\n(?: +\[.*\],\n)*\]\n)",
                     re.MULTILINE)
    text = old.sub("", text, count=1)
    table = re.compile(r"^\[fit\]\n(?:(?!\[)(?!\n).*\n)*", re.MULTILINE)
    match = table.search(text)
    if match is None:
        return text
    return text[:match.end()] + _correlation_line(result) + text[match.end():]


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
