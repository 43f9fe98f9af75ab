"""``benchframe history``: the asv results of every benchmark across commits, read through asv's own API
(``asv.results``): one series per benchmark, parameter set, machine and environment (asv's ``machine/env``:
results of two machines or two environments are never one series), parameters in numeric order where they are
numbers. ``history_compare`` compares two commits of them as ``asv compare`` does; ``series_document`` is the
per-commit view, each change against the previous commit flagged beyond a factor.

A commit whose benchmark could not run (a design or parameter it lacks: asv records nothing, or NaN) is left
out of the series, not shown as ``nan``. By default only the series with a change beyond ``factor`` are
printed; ``show_all`` prints every one. Every table says its unit: the benchmark's ``unit`` as asv recorded it
in ``benchmarks.json``, else what the benchmark's kind measures (``time_`` seconds, ``peakmem_`` bytes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import product
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.io import check_file, load_json
from benchframe.output import Document, Note, Table

if TYPE_CHECKING:
    from pathlib import Path

    from benchframe.output.document import Block

KIND_UNITS = {"time_": "seconds", "peakmem_": "bytes", "mem_": "bytes"}


def param_key(combo: tuple[str, ...]) -> tuple[tuple[int, float, str], ...]:
    """A parameter set's order: numbers by value (``8`` before ``64`` before ``256``), then text."""
    out = []
    for v in combo:
        text = str(v).strip("'\"")
        try:
            out.append((0, float(text), ""))
        except ValueError:
            out.append((1, 0.0, text))
    return tuple(out)


@dataclass
class Series:
    """One benchmark with one parameter combination on one machine and environment: ``(commit, date_ms,
    value)`` points, the commit by its full hash."""

    benchmark: str
    machine: str
    unit: str
    points: list[tuple[str, int, float]] = field(default_factory=list)
    #: the benchmark's parameters by asv's names (``{"design": "array", "bulk": "64"}``)
    params: dict[str, str] = field(default_factory=dict)
    #: asv's environment (``existing-py3.11``): a series never mixes two
    env: str = "?"
    #: the benchmark without its parameters, and its parameter values as asv gives them (``'array'``, ``64``)
    name: str = ""
    combo: tuple[str, ...] = ()
    #: each commit's benchmark version and asv's (stats, samples), for ``asv compare``'s marks
    versions: dict[str, str | None] = field(default_factory=dict)
    stats: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """asv's name for a series' machine and environment: ``machine/env``."""
        return f"{self.machine}/{self.env}"

    def sort_key(self) -> tuple[Any, ...]:
        return (self.machine, self.env, self.name or self.benchmark, param_key(self.combo))

    @property
    def metric(self) -> str:
        """What the benchmark tracks: its method's name without asv's kind (``track_irqs_off_max_cycles`` ->
        ``irqs_off_max_cycles``)."""
        method = self.benchmark.partition("(")[0].rsplit(".", 1)[-1]
        return method.partition("_")[2]

    def changes(self) -> list[float | None]:
        """The ratio of each point to the previous one (``None`` for the first, or after a 0)."""
        out: list[float | None] = [None]
        for (_, _, prev), (_, _, value) in zip(self.points, self.points[1:]):
            out.append(value / prev if prev else None)
        return out

    def changed(self, factor: float) -> bool:
        return any(r is not None and (r > factor or r < 1 / factor) for r in self.changes())


def _asv() -> Any:
    try:
        import asv.results
    except ImportError:
        raise BenchframeError("benchframe history reads asv's results through asv: pip install asv (or "
                              "pip install -e '.[dev]')") from None
    return asv.results


def _benchmarks(results_dir: Path) -> dict[str, dict[str, Any]]:
    """What asv recorded of each benchmark (``benchmarks.json``, written by ``asv run``); ``{}`` without it."""
    path = results_dir / "benchmarks.json"
    if not path.is_file():
        return {}
    try:
        doc = load_json(path, kind="asv result")
    except BenchframeError:
        return {}
    if not isinstance(doc, dict):
        return {}
    return {name: b for name, b in doc.items() if isinstance(b, dict)}


def _units(results_dir: Path) -> dict[str, str]:
    """Each benchmark's unit as asv recorded it."""
    return {name: str(b["unit"]) for name, b in _benchmarks(results_dir).items() if b.get("unit")}


def unit_of(name: str, units: dict[str, str]) -> str:
    if name in units:
        return units[name]
    method = name.rsplit(".", 1)[-1]
    for prefix, unit in KIND_UNITS.items():
        if method.startswith(prefix):
            return unit
    return "cycles" if method.endswith("_cycles") else "unit unknown"


def _check_files(results_dir: Path) -> None:
    """What asv will read whole is a regular file within the bound of a result file (not a device, not a FIFO
    that never ends)."""
    for path in sorted(results_dir.rglob("*.json")):
        check_file(path, "--results", kind="asv result")


def load_asv_history(results_dir: Path) -> list[Series]:
    """Every series in asv's results directory, through ``asv.results.iter_results``: one per benchmark,
    parameter combination, machine and environment, commits in date order, commits that could not run left
    out; the benchmarks by name, their parameter sets in numeric order."""
    if not results_dir.is_dir():
        raise BenchframeError(f"--results {results_dir}: no such directory (run `asv run` first)")
    asv_results = _asv()
    _check_files(results_dir)
    units = _units(results_dir)
    names = {n: [str(p) for p in b.get("param_names") or []] for n, b in _benchmarks(results_dir).items()}
    series: dict[tuple[str, str, str], Series] = {}
    try:
        for res in asv_results.iter_results(str(results_dir)):
            machine, env = str(res.params.get("machine", "?")), str(res.env_name or "?")
            commit, date = str(res.commit_hash), int(res.date or 0)
            for name in sorted(res.get_all_result_keys()):
                params = res.get_result_params(name) or []
                values = res.get_result_value(name, params)
                stats = zip(res.get_result_stats(name, params), res.get_result_samples(name, params))
                combos = list(product(*params)) if params else [()]
                for combo, value, ss in zip(combos, values if isinstance(values, list) else [values], stats):
                    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
                        continue  # this commit could not run it
                    key = f"{name}({', '.join(map(str, combo))})" if combo else name
                    named = {k: str(v).strip("'\"") for k, v in zip(names.get(name, []), combo)}
                    s = series.setdefault((key, machine, env), Series(
                        key, machine, unit_of(name, units), params=named, env=env, name=name,
                        combo=tuple(map(str, combo))))
                    s.points.append((commit, date, float(value)))
                    s.versions[commit] = res.benchmark_version.get(name)
                    s.stats[commit] = ss
    except Exception as exc:  # noqa: BLE001 - asv's own errors (a corrupted result file) name the file
        raise BenchframeError(f"--results {results_dir}: asv cannot read it: {type(exc).__name__}: {exc}") from None
    for s in series.values():
        s.points.sort(key=lambda p: (p[1], p[0]))
    return sorted(series.values(), key=Series.sort_key)


def narrow(series: list[Series], wanted: str | None = None, designs: list[str] | None = None,
           metrics: list[str] | None = None) -> list[Series]:
    """The series whose name contains ``wanted``, of one of ``designs`` (their ``design`` parameter) and
    tracking one of ``metrics``, each where given."""
    return [s for s in series if (not wanted or wanted in s.benchmark) and
            (designs is None or s.params.get("design") in designs) and (metrics is None or s.metric in metrics)]


def when(date_ms: int) -> str:
    """A result's date (asv's: the commit's), in UTC to the minute."""
    return datetime.fromtimestamp(date_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") if date_ms else "?"


def series_document(series: list[Series], factor: float, show_all: bool = False) -> Document:
    """One table per series, each commit a row (by default only the series with a change beyond ``factor``),
    and a closing line saying how many were left out."""
    shown = [s for s in series if show_all or s.changed(factor)]
    blocks: list[Block] = []
    for s in shown:
        rows = []
        for (commit, date, value), ratio in zip(s.points, s.changes()):
            change = f"{(ratio - 1) * 100:+.2f}%" if ratio is not None else ""
            flag = ""
            if ratio is not None and (ratio > factor or ratio < 1 / factor):  # asv values: better may be either way
                flag = f"{'up' if ratio > 1 else 'down'} x{ratio:.2f}"
            rows.append([commit[:8], when(date), f"{value:.6g}", change, flag])
        blocks.append(Table(f"{s.benchmark} on {s.where} ({s.unit})", ["commit", "date (UTC)", f"value ({s.unit})",
                                                                       "change vs previous",
                                                                       f"flag (beyond x{factor:g})"], rows))
    left = len(series) - len(shown)
    wheres = len({s.where for s in series})
    blocks.append(Note(f"{len(shown)} of {len(series)} series ({wheres} machine/environment"
                       f"{'s' if wheres != 1 else ''}) shown"
                       + (f"; {left} without a change beyond x{factor:g} left out (--all shows them)"
                          if left else "")))
    return Document(blocks)
