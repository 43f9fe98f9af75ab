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

import csv
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benchframe import BenchframeError
from benchframe.hw.perf import self_cycles
from benchframe.io import read_text, schema_problem
from benchframe.kconfig import DEFAULT_KERNEL, kernel_version
from benchframe.mm.symbols import ALIASES, SYMBOLS
from benchframe.run.runner import run_one
from benchframe.run.spec import RunSpec

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.hw.costs import CostModel
    from benchframe.registry import Registry
    from benchframe.results import RunResult

    #: simulates one measured point: ``run(spec, costs)``
    Runner = Callable[[RunSpec, CostModel], RunResult]

RUN_COLUMNS = ("workload", "design", "metric", "value", "unit")
SHARE_COLUMNS = ("symbol", "self_share", "workload", "design")
#: a pre-5.13 symbol name in a perf profile -> the model's 5.13 frame
FRAME_OF = {old: new for new, old in ALIASES.items()}
RESERVED = {"workload", "design", "metric", "value", "unit", "profile", "kernel", "config", "symbol", "self_share"}


@dataclass
class Row:
    """One measurement: a run's metric, or a function's perf self-time share."""

    where: str  # file name:line, for people
    value: float
    unit: str
    profile: str | None
    workload: str = ""
    design: str = ""
    metric: str = ""
    params: dict[str, str] = field(default_factory=dict)
    kernel: str = DEFAULT_KERNEL
    config: tuple[str, ...] = ()
    symbol: str = ""  # a perf share row
    path: str = ""  # the file's full path: rows of two files of the same name are not of one file

    @property
    def file(self) -> str:
        return self.path or self.where.rsplit(":", 1)[0]

    def point(self) -> tuple[Any, ...]:
        """What identifies the measured point: rows with the same one measured the same thing."""
        return (self.file, self.workload, self.design, tuple(sorted(self.params.items())), self.kernel,
                self.config, self.profile, self.metric, self.symbol)

    def spec(self, profile: str | None, perf: bool = False) -> RunSpec:
        return RunSpec(design=self.design, workload=self.workload, params=self.params, profile=profile,
                       config=self.config, kernel=self.kernel, perf=perf)

    def label(self) -> str:
        if self.symbol:
            return f"perf self share of {self.symbol}"
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.workload} {self.design}" + (f" ({params})" if params else "")


def shipped_measurements() -> list[Path]:
    folder = resources.files("benchframe") / "data" / "measurements"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".csv"))


def read_measurements(path: Path) -> list[Row]:
    """The rows of a measurement file; every problem is a one-line error naming ``file:line``."""
    text = read_text(path)
    lines = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise BenchframeError(f"{path}: no header line")
    try:
        rows = list(csv.reader([ln for _, ln in lines], strict=True))
    except csv.Error as exc:
        raise BenchframeError(f"{path}: malformed CSV: {exc}") from None
    header = [h.strip() for h in rows[0]]
    shares = "symbol" in header
    missing = [c for c in (SHARE_COLUMNS if shares else RUN_COLUMNS) if c not in header]
    if missing:
        raise BenchframeError(f"{path}:{lines[0][0]}: header lacks column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise BenchframeError(f"{path}:{lines[0][0]}: duplicate column names in the header")
    out = []
    for (lineno, _), row in zip(lines[1:], rows[1:]):
        if len(row) != len(header):
            raise BenchframeError(f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}")
        rec = _row(f"{path.name}:{lineno}", dict(zip(header, (v.strip() for v in row))), shares)
        rec.path = str(path.resolve())
        out.append(rec)
    if not out:
        raise BenchframeError(f"{path}: no measurements after the header")
    return out


Text = Annotated[str, Field(min_length=1)]
Measured = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class RunRow(BaseModel):
    """A run row of a measurement file, as the CSV gives it (text); the other columns are parameters."""

    model_config = ConfigDict(extra="allow")

    workload: Text
    design: Text
    metric: Text
    value: Measured
    unit: str
    profile: str = ""
    kernel: str = ""
    config: str = ""


class ShareRow(BaseModel):
    """A perf self-time share row."""

    model_config = ConfigDict(extra="allow")

    symbol: Text
    self_share: Measured
    workload: Text
    design: Text
    profile: str = ""
    kernel: str = ""
    config: str = ""


def _checked(where: str, rec: dict[str, str], shares: bool) -> float:
    """Check a row against its schema; its value. The value's errors keep the words users and tests know."""
    key = "self_share" if shares else "value"
    try:
        (ShareRow if shares else RunRow).model_validate(rec)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        if err["loc"] == (key,):
            what = "is not a number" if err["type"] == "float_parsing" else "must be a positive finite number"
            raise BenchframeError(f"{where}: value {rec[key]!r} {what}") from None
        raise BenchframeError(f"{where}: {schema_problem(exc)}") from None
    return float(rec[key])


def _row(where: str, rec: dict[str, str], shares: bool) -> Row:
    value = _checked(where, rec, shares)
    profile = rec.get("profile") or None
    kernel = rec.get("kernel") or DEFAULT_KERNEL
    try:
        kernel_version(kernel)
    except BenchframeError as exc:
        raise BenchframeError(f"{where}: {exc}") from None
    params = {k: v for k, v in rec.items() if k not in RESERVED and v != ""}
    config = tuple(c for c in rec.get("config", "").split("|") if c)
    if shares:
        symbol = FRAME_OF.get(rec["symbol"], rec["symbol"])
        if SYMBOLS.get(symbol, (False, ""))[0]:
            raise BenchframeError(f"{where}: {rec['symbol']!r} is inlined in the model's kernel "
                                  f"({SYMBOLS[symbol][1]}): perf shows its cycles in its caller's self time")
        return Row(where, value, "%", profile, rec["workload"], rec["design"], "", params, kernel, config,
                   symbol=rec["symbol"])
    return Row(where, value, rec["unit"], profile, rec["workload"], rec["design"], rec["metric"], params, kernel,
               config)


def check_rows(rows: list[Row], reg: Registry) -> None:
    """Every run row names a known workload, design and parameters: a one-line error before any simulation."""
    for row in rows:
        if row.workload not in reg.workloads:
            raise BenchframeError(f"{row.where}: unknown workload {row.workload!r}")
        if row.design not in reg.designs:
            raise BenchframeError(f"{row.where}: unknown design {row.design!r}")
        try:
            reg.workload(row.workload).resolve_params(row.params)
        except BenchframeError as exc:
            raise BenchframeError(f"{row.where}: {exc}") from None


def predict(rows: list[Row], reg: Registry, costs_of: Callable[[str | None], CostModel],
            default_profile: str | None = None, run: Runner | None = None) -> list[float | None]:
    """The model's value for each row: run rows simulated (each point once), share rows from the same run
    with attribution on, each symbol's self cycles normalised over the symbols measured in that run's rows of
    the same file. ``run(spec, costs)`` simulates a point (default ``run_one``; compare hands in the runs its
    executor made)."""
    run = run or (lambda spec, costs: run_one(spec, reg, costs))
    cache: dict[tuple[Any, ...], dict[str, Any]] = {}
    shares: dict[tuple[Any, ...], dict[str, int]] = {}
    out: list[float | None] = []
    for row in rows:
        profile = row.profile or default_profile
        costs = costs_of(profile)
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
    ranges: dict[tuple[Any, ...], list[float]] = {}
    for row in rows:
        ranges.setdefault(row.point(), []).append(row.value)
    check_rows(rows, reg)
    for row in rows:
        reg.cost_model(row.profile or profile)  # an unknown profile: one line, before any simulation
    predicted = predict(rows, reg, reg.cost_model, profile, run)
    table = []
    errors = []
    for row, pred in zip(rows, predicted):
        errors.append((row.where, counted_error(pred, row.value, ranges[row.point()])))
        err = (pred - row.value) / row.value * 100.0 if pred is not None else None
        where = row.label() if row.symbol else row.workload
        line = [row.where, where, row.design or "-",
                ", ".join(f"{k}={v}" for k, v in row.params.items()) or "-",
                row.kernel if not row.symbol else "-", reg.cost_model(row.profile or profile).name,
                row.metric or "self share", f"{row.value:g} {row.unit}", "-" if pred is None else f"{pred:.4g}",
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
