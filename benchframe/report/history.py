"""``benchframe history``: the asv results of every benchmark across commits, read through asv's own API
(``asv.results``), one series per machine, each change against the previous commit flagged beyond a factor.

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


@dataclass
class Series:
    """One benchmark with one parameter combination on one machine: ``(commit, date_ms, value)`` points."""

    benchmark: str
    machine: str
    unit: str
    points: list[tuple[str, int, float]] = field(default_factory=list)
    #: the benchmark's parameters by asv's names (``{"design": "array", "bulk": "64"}``)
    params: dict[str, str] = field(default_factory=dict)

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
    parameter combination and machine, commits in date order, commits that could not run left out."""
    if not results_dir.is_dir():
        raise BenchframeError(f"--results {results_dir}: no such directory (run `asv run` first)")
    asv_results = _asv()
    _check_files(results_dir)
    units = _units(results_dir)
    names = {n: [str(p) for p in b.get("param_names") or []] for n, b in _benchmarks(results_dir).items()}
    series: dict[tuple[str, str], Series] = {}
    try:
        for res in asv_results.iter_results(str(results_dir)):
            machine = str(res.params.get("machine", "?"))
            commit = str(res.commit_hash)[:8]
            date = int(res.date or 0)
            for name in sorted(res.get_all_result_keys()):
                values = res.get_result_value(name, res.get_result_params(name))
                params = res.get_result_params(name) or []
                combos = list(product(*params)) if params else [()]
                for combo, value in zip(combos, values if isinstance(values, list) else [values]):
                    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
                        continue  # this commit could not run it
                    key = f"{name}({', '.join(map(str, combo))})" if combo else name
                    named = {k: str(v).strip("'\"") for k, v in zip(names.get(name, []), combo)}
                    s = series.setdefault((key, machine), Series(key, machine, unit_of(name, units), params=named))
                    s.points.append((commit, date, float(value)))
    except Exception as exc:  # noqa: BLE001 - asv's own errors (a corrupted result file) name the file
        raise BenchframeError(f"--results {results_dir}: asv cannot read it: {type(exc).__name__}: {exc}") from None
    for s in series.values():
        s.points.sort(key=lambda p: (p[1], p[0]))
    return [series[k] for k in sorted(series)]


def history_document(series: list[Series], factor: float, wanted: str | None = None,
                     show_all: bool = False, designs: list[str] | None = None,
                     metrics: list[str] | None = None) -> Document:
    """One table per series (those whose name contains ``wanted``, of one of ``designs`` -- their ``design``
    parameter -- and tracking one of ``metrics``, each where given; by default only those with a change beyond
    ``factor``), and a closing line saying how many were left out."""
    chosen = [s for s in series if (not wanted or wanted in s.benchmark) and
              (designs is None or s.params.get("design") in designs) and (metrics is None or s.metric in metrics)]
    shown = [s for s in chosen if show_all or s.changed(factor)]
    blocks: list[Block] = []
    for s in shown:
        rows = []
        for (commit, date, value), ratio in zip(s.points, s.changes()):
            when = datetime.fromtimestamp(date / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") if date else "?"
            change = f"{(ratio - 1) * 100:+.2f}%" if ratio is not None else ""
            flag = ""
            if ratio is not None and (ratio > factor or ratio < 1 / factor):  # asv values: better may be either way
                flag = f"{'up' if ratio > 1 else 'down'} x{ratio:.2f}"
            rows.append([commit, when, f"{value:.6g}", change, flag])
        blocks.append(Table(f"{s.benchmark} on {s.machine} ({s.unit})", ["commit", "date (UTC)", f"value ({s.unit})",
                                                                         "change vs previous",
                                                                         f"flag (beyond x{factor:g})"], rows))
    left = len(chosen) - len(shown)
    machines = len({s.machine for s in chosen})
    blocks.append(Note(f"{len(shown)} of {len(chosen)} series ({machines} machine{'s' if machines != 1 else ''}) "
                       "shown" + (f"; {left} without a change beyond x{factor:g} left out (--all shows them)"
                                  if left else "")))
    return Document(blocks)
