"""Comparison tables in the style of mmtests ``compare-kernels``, and their rendering in every ``--format``.

Reporters read only flat run records (``RunResult`` or its dict form); they know nothing of the simulator.

A table has one column per design (baseline first) and, per parameter value, stat rows over the seeds:
``Amean``, ``Stddev``, ``CoeffVar``, ``Min``, ``Max`` (``Hmean`` too for rates, i.e. metrics where higher is
better). Each design's cell reads ``value (  pct%)`` against the baseline, positive meaning *better* whichever
way the metric points; the percentage is wrapped in ``*...*`` when Welch's t-test (scipy) finds the difference
significant across seeds (p < 0.05). Metrics with zero variance in every column are deterministic: only their
``Amean`` row is shown and nothing is starred. A ``Gmean`` row summarises each design's ratio to the baseline
over all parameter values.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass
from html import escape

from tabulate import tabulate

from benchframe.metrics import HIGHER
from benchframe.report.stats import Stats, pct_better, significant

#: tabulate formats per --format; the golden tests pin "pipe" for Markdown
TABLEFMT = {"md": "pipe", "github": "github", "plain": "plain", "latex": "latex", "html": "html"}
#: --format -> file extension of the report
EXTENSIONS = {"md": "md", "github": "md", "plain": "txt", "latex": "tex", "html": "html", "csv": "csv"}
FORMATS = tuple(EXTENSIONS)


def fmt_value(v: float | None) -> str:
    if v is None:
        return "-"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 0.01):
        return f"{v:.4g}"
    return f"{v:.2f}"


def fmt_cell(value: float | None, pct: float | None, star: bool) -> str:
    if value is None:
        return "-"
    if pct is None:
        return fmt_value(value)
    if math.isinf(pct):
        p = "  inf%" if pct > 0 else " -inf%"
    else:
        p = f"{pct:7.2f}%"
    if star:
        p = f"*{p.strip()}*"
    return f"{fmt_value(value)} ({p})"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""
    stralign: str = "right"  # numbers line up on the right; text tables read better on the left


def compare_table(title: str, designs: list[str], baseline: str, points: list[str],
                  samples: dict[tuple[str, str], list[float]], better: str, note: str = "") -> Table:
    """Build one compare-kernels table.

    ``samples[(design, point)]`` are the metric's values over seeds for one parameter value ``point``.
    Designs missing a sample show ``-``.
    """
    order = [baseline] + [d for d in designs if d != baseline] if baseline in designs else list(designs)
    deterministic = all(len(set(v)) <= 1 for v in samples.values())
    stat_names = ["Amean"] if deterministic else ["Amean", "Stddev", "CoeffVar", "Min", "Max"]
    if better == HIGHER and not deterministic:
        stat_names.insert(1, "Hmean")
    rows: list[list[str]] = []
    ratios: dict[str, list[float]] = {d: [] for d in order}
    for point in points:
        base = samples.get((baseline, point))
        for stat in stat_names:
            row = [f"{stat} {point}".strip()]
            for design in order:
                vals = samples.get((design, point))
                if not vals:
                    row.append("-")
                    continue
                st = Stats(tuple(vals))
                value = {"Amean": st.amean, "Hmean": st.hmean, "Stddev": st.stddev, "CoeffVar": st.coeffvar,
                         "Min": st.min, "Max": st.max}[stat]
                if stat in ("Stddev", "CoeffVar") or not base or value is None:
                    row.append(fmt_cell(value, None, False))
                    continue
                bst = Stats(tuple(base))
                bvalue = {"Amean": bst.amean, "Hmean": bst.hmean, "Min": bst.min, "Max": bst.max}[stat]
                if bvalue is None:
                    row.append(fmt_cell(value, None, False))
                    continue
                pct = pct_better(value, bvalue, better)
                star = stat == "Amean" and design != baseline and significant(vals, base)
                row.append(fmt_cell(value, pct, star))
                if stat == "Amean" and bvalue > 0 and value > 0:
                    ratios[design].append(value / bvalue)
            rows.append(row)
    gmean_row = ["Gmean ratio"]
    for design in order:
        r = ratios[design]
        if not r:
            gmean_row.append("-")
            continue
        g = statistics.geometric_mean(r)
        pct = (g - 1.0) * 100.0 if better == HIGHER else (1.0 - g) * 100.0
        gmean_row.append(f"{g:.3f} ({pct:7.2f}%)")
    rows.append(gmean_row)
    if deterministic and not note:
        note = "Deterministic: identical across seeds, so only Amean is shown and nothing is starred."
    return Table(title, [""] + order, rows, note)


def render(table: Table, fmt: str) -> str:
    """Render one table as text in the given --format (csv is handled by ``render_csv``)."""
    body = tabulate(table.rows, headers=table.headers, tablefmt=TABLEFMT[fmt], disable_numparse=True,
                    stralign=table.stralign)
    if fmt in ("md", "github"):
        out = f"### {table.title}\n\n{body}\n"
        if table.note:
            out += f"\n{table.note}\n"
        return out
    if fmt == "latex":
        return f"% {table.title}\n{body}\n" + (f"% {table.note}\n" if table.note else "")
    if fmt == "html":
        return f"<h3>{escape(table.title)}</h3>\n{body}\n" + (f"<p>{escape(table.note)}</p>\n" if table.note else "")
    return f"{table.title}\n{body}\n" + (f"{table.note}\n" if table.note else "")


def render_csv(tables: list[Table]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["table", "row", "design", "cell"])
    for t in tables:
        for row in t.rows:
            for design, cell in zip(t.headers[1:], row[1:]):
                writer.writerow([t.title, row[0], design, cell])
    return buf.getvalue()
