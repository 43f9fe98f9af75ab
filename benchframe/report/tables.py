"""Comparison tables in the style of mmtests ``compare-kernels``, and their rendering in every ``--format``.

Reporters read only flat run records (``RunResult`` or its dict form); they know nothing of the simulator.

A table has one column per design (baseline first) and, per parameter value, stat rows over the seeds:
``Amean``, ``Stddev``, ``CoeffVar``, ``Min``, ``Max`` (``Hmean`` too for rates, i.e. metrics where higher is
better). Each design's cell reads ``value (  pct%)`` against the baseline, positive meaning *better* whichever
way the metric points, or ``value (229x)`` -- the ratio to the baseline -- where the change exceeds a factor of
2 (a percentage misleads there); ``(vs 0)`` where the baseline is 0. The change is wrapped in ``*...*`` when
Welch's t-test (scipy) finds the difference significant across seeds after the Benjamini-Hochberg correction
over every test of the report (adjusted p < 0.05). Metrics with zero variance in every column are
deterministic: only their ``Amean`` row is shown and nothing is starred. A percentile metric gets a ``Samples``
row: the number of events each run's percentile was taken over. A ``Gmean`` row summarises each design's ratio
to the baseline over all parameter values.

Every cell keeps its numbers (``Cell``): the CSV and JSON formats write value, ratio, change, p-values and
significance in columns of their own; the text formats render them. The plain format fits a mail: tables wider
than ``PLAIN_WIDTH`` columns are split into groups of designs (the baseline in each), as compare-kernels does.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import textwrap
from dataclasses import dataclass, field
from html import escape
from typing import Any

from tabulate import tabulate

from benchframe.metrics import HIGHER
from benchframe.report.stats import RATIO_BEYOND, SIGNIFICANCE, Stats, adjust, pct_better, welch_p

#: tabulate formats per --format; the golden tests pin "pipe" for Markdown
TABLEFMT = {"md": "pipe", "github": "github", "plain": "plain", "latex": "latex", "html": "html"}
#: --format -> file extension of the report
EXTENSIONS = {"md": "md", "github": "md", "plain": "txt", "latex": "tex", "html": "html", "csv": "csv",
              "json": "json"}
FORMATS = tuple(EXTENSIONS)
#: the widest line of the plain format: a mail
PLAIN_WIDTH = 100
CSV_COLUMNS = ("table", "row", "design", "value", "ratio", "pct_better", "p_value", "p_adjusted", "significant",
               "text")


def fmt_value(v: float | None) -> str:
    if v is None:
        return "-"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 0.01):
        return f"{v:.4g}"
    return f"{v:.2f}"


def fmt_ratio(ratio: float) -> str:
    """``229x``, ``3.4x``, ``0.043x``: a ratio to the baseline, never ``inf``."""
    if ratio >= 10:
        return f"{ratio:.0f}x"
    if ratio >= 1:
        return f"{ratio:.1f}x"
    return f"{ratio:.2g}x"


def beyond(ratio: float | None) -> bool:
    """Whether a change is shown as a ratio: more than ``RATIO_BEYOND`` times, or less than its inverse (but
    not 0, which a percentage says exactly: 100% less)."""
    return ratio is not None and (ratio > RATIO_BEYOND or 0 < ratio < 1 / RATIO_BEYOND)


@dataclass
class Cell:
    """One cell of a comparison table with its numbers: the value, its change against the baseline (``pct``,
    positive meaning better, and ``ratio`` = value / baseline value), the Welch test's p-value and the p-value
    adjusted over the report's family of tests. ``compared`` says a change is shown at all (not for Stddev,
    CoeffVar and sample counts); ``text`` overrides the rendering (sample counts, the Gmean row)."""

    value: float | None
    pct: float | None = None
    ratio: float | None = None
    compared: bool = False
    p_value: float | None = None
    p_adjusted: float | None = None
    text: str | None = None

    @property
    def significant(self) -> bool:
        return self.p_adjusted is not None and self.p_adjusted < SIGNIFICANCE

    def render(self) -> str:
        if self.text is not None:
            return self.text
        if self.value is None:
            return "-"
        if not self.compared:
            return fmt_value(self.value)
        if beyond(self.ratio):
            assert self.ratio is not None
            change = f"{fmt_ratio(self.ratio):>8}"
        elif self.pct is None:
            change = "  vs 0"  # the baseline is 0: no finite percentage
        else:
            change = f"{self.pct:7.2f}%"
        if self.significant:
            change = f"*{change.strip()}*"
        return f"{fmt_value(self.value)} ({change})"


@dataclass
class Table:
    """A table: text rows (``text_rows``) or, for a comparison table, labelled rows of ``Cell``s."""

    title: str
    headers: list[str]
    text_rows: list[list[str]]
    note: str = ""
    stralign: str = "right"  # numbers line up on the right; text tables read better on the left
    cells: list[tuple[str, list[Cell]]] = field(default_factory=list)
    #: a comparison table's baseline column stays in every group when the plain format splits the table
    keep_first: bool = False
    #: which tests this table holds, for the document: e.g. the section (study) it belongs to
    section: str = ""

    @property
    def rows(self) -> list[list[str]]:
        if self.cells:
            return [[label] + [c.render() for c in cells] for label, cells in self.cells]
        return self.text_rows

    def tests(self) -> list[Cell]:
        return [c for _, cells in self.cells for c in cells if c.p_value is not None]


def correct(tables: list[Table]) -> int:
    """Adjust the p-values of every Welch test in ``tables`` as one family (Benjamini-Hochberg); returns the
    number of tests."""
    tests = [c for t in tables for c in t.tests()]
    for cell, p in zip(tests, adjust([c.p_value for c in tests if c.p_value is not None])):
        cell.p_adjusted = p
    return len(tests)


STAT_FNS = {"Amean": lambda s: s.amean, "Hmean": lambda s: s.hmean, "Stddev": lambda s: s.stddev,
            "CoeffVar": lambda s: s.coeffvar, "Min": lambda s: s.min, "Max": lambda s: s.max}


def _cell(stat: str, vals: list[float], base: list[float] | None, better: str, tested: bool) -> Cell:
    value = STAT_FNS[stat](Stats(tuple(vals)))
    if stat in ("Stddev", "CoeffVar") or not base or value is None:
        return Cell(value)
    bvalue = STAT_FNS[stat](Stats(tuple(base)))
    if bvalue is None:
        return Cell(value)
    ratio = value / bvalue if bvalue else None
    p = welch_p(vals, base) if stat == "Amean" and tested else None
    return Cell(value, pct_better(value, bvalue, better), ratio, True, p)


def _count_cell(counts: list[int] | None) -> Cell:
    if not counts:
        return Cell(None)
    lo, hi = min(counts), max(counts)
    return Cell(float(lo), text=str(lo) if lo == hi else f"{lo}-{hi}")


def compare_table(title: str, designs: list[str], baseline: str, points: list[str],
                  samples: dict[tuple[str, str], list[float]], better: str, note: str = "",
                  counts: dict[tuple[str, str], list[int]] | None = None,
                  labels: dict[str, str] | None = None) -> Table:
    """Build one compare-kernels table.

    ``samples[(design, point)]`` are the metric's values over seeds for one parameter value ``point``;
    ``counts[(design, point)]``, for a percentile metric, the number of events each seed's percentile was taken
    over (a ``Samples`` row). Designs missing a sample show ``-``. ``labels`` renames column headers (a design
    marked UNSAFE). The table's p-values are adjusted among themselves; ``correct`` re-adjusts a report's
    tables as one family.
    """
    order = [baseline] + [d for d in designs if d != baseline] if baseline in designs else list(designs)
    deterministic = all(len(set(v)) <= 1 for v in samples.values())
    stat_names = ["Amean"] if deterministic else ["Amean", "Stddev", "CoeffVar", "Min", "Max"]
    if better == HIGHER and not deterministic:
        stat_names.insert(1, "Hmean")
    rows: list[tuple[str, list[Cell]]] = []
    ratios: dict[str, list[float]] = {d: [] for d in order}
    for point in points:
        base = samples.get((baseline, point))
        for stat in stat_names:
            row = []
            for design in order:
                vals = samples.get((design, point))
                cell = _cell(stat, vals, base, better, design != baseline) if vals else Cell(None)
                row.append(cell)
                if stat == "Amean" and cell.ratio is not None and cell.value is not None and cell.value > 0:
                    ratios[design].append(cell.ratio)
            rows.append((f"{stat} {point}".strip(), row))
        if counts is not None:
            rows.append((f"Samples {point}".strip(), [_count_cell(counts.get((d, point))) for d in order]))
    gmean_row = []
    for design in order:
        r = ratios[design]
        if not r:
            gmean_row.append(Cell(None))
            continue
        g = statistics.geometric_mean(r)
        pct = (g - 1.0) * 100.0 if better == HIGHER else (1.0 - g) * 100.0
        text = fmt_ratio(g) if beyond(g) else f"{g:.3f} ({pct:7.2f}%)"
        gmean_row.append(Cell(g, pct, g, False, text=text))
    rows.append(("Gmean ratio", gmean_row))
    if deterministic and not note:
        note = "Deterministic: identical across seeds, so only Amean is shown and nothing is starred."
    headers = [""] + [(labels or {}).get(d, d) for d in order]
    table = Table(title, headers, [], note, cells=rows, keep_first=True)
    correct([table])
    return table


# -- rendering -------------------------------------------------------------------------------------------------
def _tabulate(headers: list[str], rows: list[list[str]], fmt: str, stralign: str,
              maxcolwidths: list[int | None] | None = None) -> str:
    return tabulate(rows, headers=headers, tablefmt=TABLEFMT[fmt], disable_numparse=True, stralign=stralign,
                    maxcolwidths=maxcolwidths)


def _widest(text: str) -> int:
    return max((len(ln) for ln in text.splitlines()), default=0)


def column_groups(table: Table, width: int = PLAIN_WIDTH) -> list[list[int]]:
    """Data column indices (1-based, as in ``headers``) split into groups whose plain rendering fits ``width``:
    each group as many columns as fit, in order; a comparison table's baseline column in every group."""
    rows = table.rows
    n = len(table.headers)
    first = [1] if table.keep_first and n > 1 else []
    rest = [i for i in range(1, n) if i not in first]
    groups: list[list[int]] = []
    current: list[int] = []
    for i in rest:
        trial = current + [i]
        cols = [0] + first + trial
        text = _tabulate([table.headers[c] for c in cols], [[r[c] for c in cols] for r in rows], "plain",
                         table.stralign)
        if current and _widest(text) > width:
            groups.append(first + current)
            current = [i]
        else:
            current = trial
    if current or not groups:
        groups.append(first + current)
    return groups


def _plain(table: Table, width: int) -> str:
    parts = []
    groups = column_groups(table, width)
    for g, group in enumerate(groups):
        cols = [0] + group
        headers = [table.headers[c] for c in cols]
        rows = [[r[c] for c in cols] for r in table.rows]
        body = _tabulate(headers, rows, "plain", table.stralign)
        if _widest(body) > width:  # one column is too wide alone: wrap the text cells
            each = max(12, (width - 2 * len(cols)) // len(cols))
            body = _tabulate(headers, rows, "plain", table.stralign, [each] * len(cols))
        title = table.title + (f" ({g + 1}/{len(groups)})" if len(groups) > 1 else "")
        parts.append(textwrap.fill(title, width) + "\n" + body + "\n")
    note = textwrap.fill(table.note, width) + "\n" if table.note else ""
    return "\n".join(parts) + note


def render(table: Table, fmt: str, width: int = PLAIN_WIDTH) -> str:
    """Render one table as text in the given --format (csv and json are ``render_csv``/``render_json``); the
    plain format splits a table wider than ``width`` columns into groups of designs."""
    if fmt == "plain":
        return _plain(table, width)
    body = _tabulate(table.headers, table.rows, fmt, table.stralign)
    if fmt in ("md", "github"):
        out = f"### {table.title}\n\n{body}\n"
        if table.note:
            out += f"\n{table.note}\n"
        return out
    if fmt == "latex":
        return f"% {table.title}\n{body}\n" + (f"% {table.note}\n" if table.note else "")
    return f"<h3>{escape(table.title)}</h3>\n{body}\n" + (f"<p>{escape(table.note)}</p>\n" if table.note else "")


def _number(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


def records(tables: list[Table]) -> list[dict[str, Any]]:
    """Every cell of ``tables`` as a flat record: the numbers of a comparison cell in fields of their own, the
    text of a text table's cell in ``text``."""
    out: list[dict[str, Any]] = []
    for t in tables:
        designs = t.headers[1:]
        if t.cells:
            for label, cells in t.cells:
                for design, c in zip(designs, cells):
                    out.append({"table": t.title, "row": label, "design": design, "value": _number(c.value),
                                "ratio": _number(c.ratio) if c.compared or c.text else None,
                                "pct_better": _number(c.pct) if c.compared or c.text else None,
                                "p_value": _number(c.p_value), "p_adjusted": _number(c.p_adjusted),
                                "significant": c.significant if c.p_value is not None else None,
                                "text": c.text})
            continue
        for row in t.text_rows:
            for column, text in zip(designs, row[1:]):
                out.append({"table": t.title, "row": row[0], "design": column, "value": None, "ratio": None,
                            "pct_better": None, "p_value": None, "p_adjusted": None, "significant": None,
                            "text": text})
    return out


def render_csv(tables: list[Table]) -> str:
    """One line per cell, its numbers in columns of their own (empty where there is none)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rec in records(tables):
        writer.writerow(["" if rec[c] is None else str(rec[c]).lower() if isinstance(rec[c], bool) else rec[c]
                         for c in CSV_COLUMNS])
    return buf.getvalue()


def render_json(tables: list[Table], header: list[tuple[str, str]]) -> str:
    """The report as one JSON document: the header and every cell as a record (``records``)."""
    doc = {"header": {k: v.strip("`") for k, v in header}, "cells": records(tables),
           "notes": {t.title: t.note for t in tables if t.note}}
    return json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n"
