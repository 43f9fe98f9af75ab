"""Published or measured results against the simulator's predictions (``benchframe validate``).

The CSV has the columns ``workload,design,<param columns>,metric,value,unit`` (any order; ``#`` starts a comment
line); an optional ``profile`` column names the cost profile of the machine that measured the row (default:
``--profile``). Each row is simulated at the same point and the table shows measured vs predicted with the
relative error. With ``--normalize-to DESIGN`` every value is also divided by that design's value at the same
workload, profile and parameters in the same file (or, if that point was not measured, its only measurement
for the workload and profile there), so clock-rate and fixed-overhead differences between the measuring
machine and the profile cancel.
Nothing is tuned to these numbers: the gaps are the model's, and are reported as they are.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any

from benchframe import BenchframeError
from benchframe.io import read_text
from benchframe.plugins import get_registry
from benchframe.run.runner import run_one
from benchframe.run.spec import RunSpec

REQUIRED = ("workload", "design", "metric", "value", "unit")


def shipped_measurements() -> list[Path]:
    folder = resources.files("benchframe") / "data" / "measurements"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".csv"))


def read_measurements(path: Path) -> list[dict]:
    """Rows as dicts with ``line``; every problem is a one-line error naming ``file:line``."""
    text = read_text(path)
    lines = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise BenchframeError(f"{path}: no header line")
    try:
        rows = list(csv.reader([ln for _, ln in lines], strict=True))
    except csv.Error as exc:
        raise BenchframeError(f"{path}: malformed CSV: {exc}") from None
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BenchframeError(f"{path}:{lines[0][0]}: header lacks column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise BenchframeError(f"{path}:{lines[0][0]}: duplicate column names in the header")
    out = []
    for (lineno, _), row in zip(lines[1:], rows[1:]):
        if len(row) != len(header):
            raise BenchframeError(f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}")
        rec: dict[str, Any] = {h: v.strip() for h, v in zip(header, row)}
        try:
            rec["value"] = float(rec["value"])
        except ValueError:
            raise BenchframeError(f"{path}:{lineno}: value {rec['value']!r} is not a number") from None
        rec["line"] = f"{path.name}:{lineno}"
        out.append(rec)
    if not out:
        raise BenchframeError(f"{path}: no measurements after the header")
    return out


def _params(rec: dict) -> dict[str, str]:
    skip = set(REQUIRED) | {"profile", "line", "predicted", "params_resolved", "profile_used"}
    return {k: v for k, v in rec.items() if k not in skip and v != ""}


def validate(paths: list[Path], profile: str | None, normalize_to: str | None, plugins=()) -> list[list]:
    reg = get_registry(tuple(plugins))
    records = [r for p in paths for r in read_measurements(p)]
    cache: dict[tuple, dict] = {}
    for rec in records:
        workload = reg.workload(rec["workload"]) if rec["workload"] in reg.workloads else None
        if workload is None:
            raise BenchframeError(f"{rec['line']}: unknown workload {rec['workload']!r}")
        if rec["design"] not in reg.designs:
            raise BenchframeError(f"{rec['line']}: unknown design {rec['design']!r}")
        try:
            params = workload.resolve_params(_params(rec))
        except BenchframeError as exc:
            raise BenchframeError(f"{rec['line']}: {exc}") from None
        prof = rec.get("profile") or profile
        key = (rec["workload"], rec["design"], tuple(sorted(_params(rec).items())), prof)
        if key not in cache:
            cache[key] = run_one(RunSpec(design=rec["design"], workload=rec["workload"], params=_params(rec),
                                         profile=prof), reg).metrics
        metrics = cache[key]
        if rec["metric"] not in metrics:
            raise BenchframeError(f"{rec['line']}: workload {rec['workload']} has no metric {rec['metric']!r}")
        rec["predicted"] = metrics[rec["metric"]]
        rec["params_resolved"] = params
        rec["profile_used"] = reg.cost_model(prof).name
    rows = []
    for rec in records:
        pred = rec["predicted"]
        err = (pred - rec["value"]) / rec["value"] * 100.0 if pred is not None and rec["value"] else None
        row = [rec["line"], rec["workload"], rec["design"],
               ", ".join(f"{k}={v}" for k, v in _params(rec).items()) or "-", rec["profile_used"], rec["metric"],
               f"{rec['value']:g} {rec['unit']}", "-" if pred is None else f"{pred:g}",
               "-" if err is None else f"{err:+.1f}%"]
        if normalize_to:
            base = _baseline(records, rec, normalize_to)
            if base is None or not base["value"] or not base["predicted"] or pred is None:
                row += ["-", "-", "-"]
            else:
                m = rec["value"] / base["value"]
                p = pred / base["predicted"]
                row += [f"{m:.3f}", f"{p:.3f}", f"{(p - m) / m * 100.0:+.1f}%"]
        rows.append(row)
    return rows


def _baseline(records: list[dict], rec: dict, design: str) -> dict | None:
    """The baseline row for ``rec``: itself when it is a baseline-design row (several measurements of the
    same point, e.g. three kernel trees, each normalise to 1, not to whichever came first), else the same
    point measured for ``design`` in the same file, else that design's only point there."""
    if rec["design"] == design:
        return rec
    where = rec["line"].rsplit(":", 1)[0]
    same = [r for r in records if r["design"] == design and r["workload"] == rec["workload"]
            and r["metric"] == rec["metric"] and r["profile_used"] == rec["profile_used"]
            and r["line"].rsplit(":", 1)[0] == where]
    exact = [r for r in same if _params(r) == _params(rec)]
    if exact:
        return exact[0]
    return same[0] if len({tuple(sorted(_params(r).items())) for r in same}) == 1 else None
