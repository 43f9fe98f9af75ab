"""``benchframe history``: the asv results of every benchmark across commits, as one table per benchmark with
each change against the previous commit flagged beyond a factor."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from itertools import product
from typing import TYPE_CHECKING

from tabulate import tabulate

from benchframe import BenchframeError

if TYPE_CHECKING:
    from pathlib import Path

Series = dict[str, list[tuple[str, int, float | None]]]


def load_asv_history(results_dir: Path) -> Series:
    """``{benchmark[param combo]: [(commit, date_ms, value), ...]}`` from asv's results directory."""
    if not results_dir.is_dir():
        raise BenchframeError(f"--results {results_dir}: no such directory (run `asv run` first)")
    series: Series = {}
    for f in sorted(results_dir.glob("*/*.json")):
        if f.name in ("machine.json", "benchmarks.json"):
            continue
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BenchframeError(f"{f}: not a valid asv result file ({exc})") from None
        if not isinstance(doc, dict) or "results" not in doc or "commit_hash" not in doc:
            raise BenchframeError(f"{f}: not an asv result file (no results/commit_hash)")
        columns = doc.get("result_columns") or ["result", "params"]
        commit = str(doc["commit_hash"])[:8]
        date = int(doc.get("date") or 0)
        for name, entry in sorted(doc["results"].items()):
            if isinstance(entry, list):
                row = dict(zip(columns, entry))
            elif isinstance(entry, dict):
                row = entry
            else:
                row = {"result": [entry]}
            values = row.get("result")
            params = row.get("params") or []
            if values is None:
                continue
            if not isinstance(values, list):
                values = [values]
            combos = [", ".join(map(str, c)) for c in product(*params)] if params else [""]
            for combo, value in zip(combos, values):
                key = f"{name}({combo})" if combo else name
                series.setdefault(key, []).append((commit, date, value if isinstance(value, int | float) else None))
    return series



def render_history(series: Series, factor: float, wanted: str | None = None) -> str:
    """One Markdown table per benchmark (those whose name contains ``wanted``), commits in date order."""
    out = []
    for key, points in series.items():
        if wanted and wanted not in key:
            continue
        points.sort(key=lambda p: (p[1], p[0]))
        rows = []
        prev = None
        for commit, date, value in points:
            when = datetime.fromtimestamp(date / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") if date else "?"
            change = ""
            flag = ""
            if value is not None and prev:
                ratio = value / prev
                change = f"{(ratio - 1) * 100:+.2f}%"
                if ratio > factor or ratio < 1 / factor:  # asv values: better may be either way
                    flag = f"{'up' if ratio > 1 else 'down'} x{ratio:.2f}"
            rows.append([commit, when, "-" if value is None else f"{value:.6g}", change, flag])
            prev = value if value is not None else prev
        out.append(f"### {key}\n")
        out.append(tabulate(rows, headers=["commit", "date (UTC)", "value", "change vs previous",
                                           f"flag (beyond x{factor:g})"], tablefmt="pipe", disable_numparse=True))
        out.append("")
    return "\n".join(out)
