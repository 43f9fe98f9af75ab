"""Published or measured results against the simulator's predictions (``benchframe validate``), and the
measurement files ``benchframe calibrate`` fits to.

A measurement file is CSV (``#`` starts a comment line) of one of two kinds:

* **runs**: ``workload,design,<param columns>,metric,value,unit`` (any order) with the optional columns
  ``profile`` (the cost profile of the machine that measured the row; default ``--profile``), ``kernel`` (the
  kernel version, ``benchframe list kernels``) and ``config`` (``|``-separated CONFIG_ options). Each row is
  simulated at the same point.
* **perf self-time shares**: ``symbol,self_share,workload,design`` (with the optional ``profile``, ``kernel``,
  ``config`` and parameter columns of a run row): a perf profile's self time per symbol while that run ran --
  ``perf report --stdio --no-children --sort symbol`` prints it as ``3.24%  [k] rmqueue``. The model runs the
  same point with attribution on (``benchframe.hw.perf``) and takes each symbol's self cycles as perf counts
  them (inlined callees in their caller); shares are compared normalised over the symbols of the file that
  were measured for the same run, so what the model does not run (the driver, the network stack) drops out.
  A symbol's pre-5.13 name is understood (``__alloc_pages_nodemask``: ``benchframe.mm.symbols.ALIASES``).

With ``--normalize-to DESIGN`` every run value is also divided by that design's value at the same workload,
profile and parameters in the same file (or, if that point was not measured, its only measurement for the
workload and profile there), so clock-rate and fixed-overhead differences cancel. Nothing is tuned to these
numbers by ``validate``: the gaps are the model's, reported as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.hw.perf import self_cycles
from benchframe.measurements import FRAME_OF, Row, check_rows, profile_for, read_measurements, to_model_units
from benchframe.run.runner import run_one

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from benchframe.hw.costs import CostModel
    from benchframe.registry import Registry
    from benchframe.results import RunResult
    from benchframe.run.spec import RunSpec

    #: simulates one measured point: ``run(spec, costs)``
    Runner = Callable[[RunSpec, CostModel], RunResult]


def predict(rows: list[Row], reg: Registry, costs_of: Callable[[Row], CostModel],
            default_profile: str | None = None, run: Runner | None = None) -> list[float | None]:
    """The model's value for each row (on ``costs_of(row)``, the profile it was measured on): run rows
    simulated (each point once), share rows from the same run with attribution on, each symbol's self cycles
    normalised over the symbols measured in that run's rows of the same file. ``run(spec, costs)`` simulates a
    point (default ``run_one``; compare hands in the runs its executor made)."""
    run = run or (lambda spec, costs: run_one(spec, reg, costs))
    cache: dict[tuple[Any, ...], dict[str, Any]] = {}
    shares: dict[tuple[Any, ...], dict[str, int]] = {}
    out: list[float | None] = []
    for row in rows:
        profile = row.profile or default_profile
        costs = costs_of(row)
        key = (row.workload, row.design, tuple(sorted(row.params.items())), row.kernel, row.config, costs)
        if row.symbol:
            if key not in shares:
                shares[key] = self_cycles(run(row.spec(profile, perf=True), costs).perf_stacks)
            own = shares[key]
            group = [r for r in rows if r.symbol and r.file == row.file and r.point()[1:7] == row.point()[1:7]]
            total_measured = sum(r.value for r in group)
            total_model = sum(own.get(FRAME_OF.get(r.symbol, r.symbol), 0) for r in group)
            mine = own.get(FRAME_OF.get(row.symbol, row.symbol), 0)
            out.append(mine / total_model * total_measured if total_model else None)
            continue
        if key not in cache:
            cache[key] = run(row.spec(profile), costs).metrics
        metrics = cache[key]
        if row.metric not in metrics:
            raise BenchframeError(f"{row.where}: workload {row.workload} has no metric {row.metric!r}")
        value = metrics[row.metric]
        out.append(None if value is None else float(value))
    return out


@dataclass
class Validation:
    """The validate table (one line per measurement), each measurement's error as it counts against a
    tolerance (``None``: nothing predicted), and the designs and workloads no run row measured."""

    table: list[list[str]]
    errors: list[tuple[str, float | None]]
    unmeasured_designs: list[str]
    unmeasured_workloads: list[str]
    rows: list[Row] = field(default_factory=list)  # the measurements, as ``errors`` counts them

    def beyond(self, tolerance: float) -> list[tuple[str, float | None]]:
        """The measurements whose error exceeds ``tolerance`` percent either way, or that predicted nothing."""
        return [(w, e) for w, e in self.errors if e is None or abs(e) > tolerance]


def counted_error(pred: float | None, value: float, values: list[float]) -> float | None:
    """The error of a prediction in percent, as it counts against a tolerance: against the range where the
    point was measured several times (0 inside it), else against the one measurement."""
    if pred is None:
        return None
    beyond_range = range_error(pred, values)
    if beyond_range is not None:
        return beyond_range * 100.0
    return (pred - value) / value * 100.0


def validate(paths: list[Path], reg: Registry, profile: str | None, normalize_to: str | None,
             run: Runner | None = None) -> Validation:
    """The validate table: one row per measurement, measured against predicted; where several rows measured
    the same point (three kernel trees, say), also the prediction against their range."""
    rows = [r for p in paths for r in read_measurements(p)]
    check_rows(rows, reg)
    profiles = {id(row): profile_for(row, reg, profile) for row in rows}  # an unknown one: before any simulation
    to_model_units(rows, reg, lambda row: profiles[id(row)].clock_ghz)
    ranges: dict[tuple[Any, ...], list[float]] = {}
    for row in rows:
        ranges.setdefault(row.point(), []).append(row.value)
    predicted = predict(rows, reg, lambda row: profiles[id(row)], profile, run)
    table = []
    errors = []
    for row, pred in zip(rows, predicted):
        errors.append((row.where, counted_error(pred, row.value, ranges[row.point()])))
        err = (pred - row.value) / row.value * 100.0 if pred is not None else None
        where = row.label() if row.symbol else row.workload
        measured = f"{row.value:g} {row.unit}" + (f" ({row.given})" if row.given else "")
        line = [row.where, where, row.design or "-",
                ", ".join(f"{k}={v}" for k, v in row.params.items()) or "-",
                row.kernel if not row.symbol else "-", profiles[id(row)].name,
                row.metric or "self share", measured, "-" if pred is None else f"{pred:.4g}",
                "-" if err is None else f"{err:+.1f}%", _vs_range(pred, ranges[row.point()])]
        if normalize_to:
            line += _normalised(rows, predicted, row, pred, normalize_to)
        table.append(line)
    return Validation(table, errors, [d for d in reg.designs if d not in {r.design for r in rows}],
                      [w for w in reg.workloads if w not in {r.workload for r in rows}], rows)


def range_error(pred: float | None, values: list[float]) -> float | None:
    """How far a prediction lies outside the range of repeated measurements of one point (0 inside it),
    relative to the nearer end; ``None`` for a point measured once or nothing predicted."""
    if pred is None or len(values) < 2:
        return None
    lo, hi = min(values), max(values)
    if lo <= pred <= hi:
        return 0.0
    return (pred - hi) / hi if pred > hi else (pred - lo) / lo


def _vs_range(pred: float | None, values: list[float]) -> str:
    err = range_error(pred, values)
    if err is None:
        return "-"
    span = f"{min(values):g}-{max(values):g}"
    return f"in {span}" if err == 0 else f"{err * 100:+.1f}% beyond {span}"


def _normalised(rows: list[Row], predicted: list[float | None], row: Row, pred: float | None,
                design: str) -> list[str]:
    base = _baseline(rows, row, design)
    if base is None or row.symbol:
        return ["-", "-", "-"]
    base_pred = predicted[rows.index(base)]
    if not base.value or not base_pred or pred is None:
        return ["-", "-", "-"]
    m = row.value / base.value
    p = pred / base_pred
    return [f"{m:.3f}", f"{p:.3f}", f"{(p - m) / m * 100.0:+.1f}%"]


def _baseline(rows: list[Row], row: Row, design: str) -> Row | None:
    """The baseline row for ``row``: itself when it is a baseline-design row (several measurements of the
    same point, e.g. three kernel trees, each normalise to 1, not to whichever came first), else the same
    point measured for ``design`` in the same file, else that design's only point there."""
    if row.design == design:
        return row
    same = [r for r in rows if r.design == design and r.workload == row.workload and r.metric == row.metric
            and r.profile == row.profile and r.kernel == row.kernel and r.file == row.file]
    exact = [r for r in same if r.params == row.params]
    if exact:
        return exact[0]
    return same[0] if len({tuple(sorted(r.params.items())) for r in same}) == 1 else None
