"""Measurement files (CSV) as ``benchframe validate`` and ``benchframe calibrate`` read them: the rows, each
checked on its own (``read_measurements``) and against the registry and its metric's unit (``check_rows``).

A run row's ``unit`` is read, not assumed: it must be its metric's unit (``benchframe list metrics``), or ``ns``
for a metric in cycles (or ``cycles`` for one in ns), converted with the clock of the profile of the machine
that measured the row (``to_model_units``). Anything else is refused, so a fit never mixes units. A row's
``profile`` column names a profile -- a registered one (``benchframe list profiles``) or the one given with
``--profile`` (a file's ``[profile] name``) -- and is never opened as a path. At most ``MAX_ROWS`` rows are
read, from a file of at most 16 MiB (``benchframe.io.LIMITS``); a file named twice is read once.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benchframe import BenchframeError
from benchframe.io import read_text, schema_problem
from benchframe.kconfig import DEFAULT_KERNEL, kernel_version
from benchframe.metrics import metric
from benchframe.mm.symbols import ALIASES, SYMBOLS
from benchframe.run.spec import RunSpec

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.hw.costs import CostModel
    from benchframe.registry import Registry

#: rows a measurement file may hold: each is a simulation (repeated points once), a fit runs them many times
MAX_ROWS = 10_000
#: units a measurement converts from, to the metric's unit, with the measuring machine's clock in GHz
CONVERSIONS: dict[tuple[str, str], Callable[[float, float], float]] = {
    ("ns", "cycles"): lambda value, ghz: value * ghz,
    ("cycles", "ns"): lambda value, ghz: value / ghz,
}


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
    given: str = ""  # the value as the file gave it, where it was converted to the metric's unit ("207 ns")

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
    text = read_text(path, kind="measurements").removeprefix("\ufeff")  # the byte-order mark a spreadsheet writes
    lines = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise BenchframeError(f"{path}: no header line")
    if len(lines) > MAX_ROWS + 1:
        raise BenchframeError(f"{path}: {len(lines) - 1} measurement rows is over the bound of {MAX_ROWS} (each is "
                              "simulated)")
    rows = [_fields(path, n, ln) for n, ln in lines]
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


def _fields(path: Path, lineno: int, line: str) -> list[str]:
    """The fields of one line: a quoted field that runs on to the next line is malformed (read across lines, it
    would join two lines' text into one value and shift every later line number)."""
    try:
        return next(csv.reader([line], strict=True))
    except csv.Error as exc:
        raise BenchframeError(f"{path}:{lineno}: malformed CSV: {exc} (a quoted field ends on its line)") from None


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


def distinct_files(paths: list[Path]) -> list[Path]:
    """``paths`` with each file once (a file named twice would count each of its rows twice), with a warning."""
    seen: dict[Path, Path] = {}
    for p in paths:
        if p.resolve() in seen:
            logging.getLogger("benchframe").warning(f"--measurements {p}: named twice (as {seen[p.resolve()]}): "
                                                    "read once")
        seen.setdefault(p.resolve(), p)
    return list(seen.values())


def check_rows(rows: list[Row], reg: Registry) -> None:
    """Every run row names a known workload, design and parameters, a metric the workload reports and a unit
    that is the metric's or converts to it: a one-line error before any simulation."""
    for row in rows:
        if row.workload not in reg.workloads:
            raise BenchframeError(f"{row.where}: unknown workload {row.workload!r}")
        if row.design not in reg.designs:
            raise BenchframeError(f"{row.where}: unknown design {row.design!r}")
        try:
            reg.workload(row.workload).resolve_params(row.params)
        except BenchframeError as exc:
            raise BenchframeError(f"{row.where}: {exc}") from None
        if row.symbol:
            continue
        known = metric(row.metric, reg.workload(row.workload))
        if known is None:
            raise BenchframeError(f"{row.where}: workload {row.workload} has no metric {row.metric!r}")
        if row.unit != known.unit and (row.unit, known.unit) not in CONVERSIONS:
            other = [a for a, b in CONVERSIONS if b == known.unit]
            also = f" (or {', '.join(other)}, converted with the profile's clock)" if other else ""
            raise BenchframeError(f"{row.where}: unit {row.unit!r} is not the unit of {row.metric}, "
                                  f"{known.unit}{also}")


def profile_for(row: Row, reg: Registry, default: str | None) -> CostModel:
    """The profile of the machine that measured ``row``: its ``profile`` column, a name (registered, or that
    of the ``default`` profile given), else ``default``."""
    chosen = reg.cost_model(default)
    if row.profile is None or row.profile == chosen.name:
        return chosen
    if row.profile in reg.profiles:
        return reg.cost_model(row.profile)
    raise BenchframeError(f"{row.where}: unknown profile {row.profile!r}: the profile column names a profile "
                          f"(known: {', '.join(reg.profiles)}; or the [profile] name of the --profile file)")


def to_model_units(rows: list[Row], reg: Registry, clock_of: Callable[[Row], float]) -> None:
    """Each run row's value in its metric's unit (``check_rows`` has checked it converts), ``given`` keeping
    what the file said; ``clock_of(row)``: the GHz of the machine that measured it."""
    for row in rows:
        if row.symbol:
            continue
        known = metric(row.metric, reg.workload(row.workload))
        if known is None or row.unit == known.unit:
            continue
        row.given = f"{row.value:g} {row.unit}"
        row.value = CONVERSIONS[(row.unit, known.unit)](row.value, clock_of(row))
        row.unit = known.unit
