"""Comparison tables in the style of mmtests ``compare-kernels``: cells that keep their numbers, rendered by the
output stack (``benchframe.output``) in every ``--format``.

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
significance in columns of their own; the text formats render them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchframe.metrics import HIGHER
from benchframe.output import Table
from benchframe.report.stats import RATIO_BEYOND, SIGNIFICANCE, Stats, adjust, pct_better, welch_p

if TYPE_CHECKING:
    from benchframe.output.document import Cell as OutputCell


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

    def record(self) -> dict[str, Any]:
        """The numbers of the cell (a change only where one is shown), for the CSV and JSON formats."""
        shown = self.compared or self.text is not None
        return {"value": self.value, "ratio": self.ratio if shown else None,
                "pct_better": self.pct if shown else None, "p_value": self.p_value, "p_adjusted": self.p_adjusted,
                "significant": self.significant if self.p_value is not None else None, "text": self.text}


def tests(table: Table) -> list[Cell]:
    """The comparison cells of ``table`` that hold a Welch test."""
    return [c for _, cells in table.cells for c in cells if isinstance(c, Cell) and c.p_value is not None]


def correct(tables: list[Table]) -> int:
    """Adjust the p-values of every Welch test in ``tables`` as one family (Benjamini-Hochberg); returns the
    number of tests."""
    found = [c for t in tables for c in tests(t)]
    for cell, p in zip(found, adjust([c.p_value for c in found if c.p_value is not None])):
        cell.p_adjusted = p
    return len(found)


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
    rows: list[tuple[str, list[OutputCell]]] = []
    ratios: dict[str, list[float]] = {d: [] for d in order}
    for point in points:
        base = samples.get((baseline, point))
        for stat in stat_names:
            row: list[OutputCell] = []
            for design in order:
                vals = samples.get((design, point))
                cell = _cell(stat, vals, base, better, design != baseline) if vals else Cell(None)
                row.append(cell)
                if stat == "Amean" and cell.ratio is not None and cell.value is not None and cell.value > 0:
                    ratios[design].append(cell.ratio)
            rows.append((f"{stat} {point}".strip(), row))
        if counts is not None:
            rows.append((f"Samples {point}".strip(), [_count_cell(counts.get((d, point))) for d in order]))
    gmean_row: list[OutputCell] = []
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
    table = Table(title, headers, note=note, stralign="right", cells=rows, keep_first=True)
    correct([table])
    return table
