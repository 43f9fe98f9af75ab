"""Comparison tables in the style of mmtests ``compare-kernels``: cells that keep their numbers, rendered by the
output stack (``benchframe.output``) in every ``--format``.

A table has one column per design (baseline first) and, per parameter value, stat rows over the seeds:
``Amean``, ``Stddev``, ``CoeffVar``, ``Min``, ``Max`` (``Hmean`` too for rates, i.e. metrics where higher is
better). Every cell reads ``value (  pct%)`` against the baseline, positive meaning *better* whichever way the
metric points (Stddev and CoeffVar: lower is better), as compare-kernels prints it -- a percentage however large
the change; the ratio to the baseline has a row of its own (``Gmean ratio``), never a cell of another row.
``(  vs 0)`` where the baseline is 0. The change is wrapped in ``*...*`` when Welch's t-test (scipy) finds the
difference significant across seeds after the Benjamini-Hochberg correction over every test of the report
(adjusted p < 0.05).

The statistics say what they are taken over. ``samples`` hold each cell's *distinct* results: a cell run once
because its workload does not use the seed counts once, however many seeds it is shown under (``n`` in each
record, and in the table's note). Where both sides of a comparison are identical across seeds there is nothing
to test: the change is exact and the cell's record says ``deterministic``. A table whose every cell is so shows
only its ``Amean`` row. Counts (``integer``: whole events, such as violations or fallbacks) stay whole: a count
that varies shows ``Min``, ``Max`` and in how many seeds it was not zero (``2 of 3 seeds``), never a fractional
mean. Means, minima and maxima carry the digits their spread supports (down to the first significant digit of
the standard error of the mean, as ``perf stat`` prints ``+- n%``); Stddev and CoeffVar two significant figures.
A percentile metric gets a ``Samples`` row: the number of events each run's percentile was taken over.

Every cell keeps its numbers (``Cell``): the CSV and JSON formats write value, ratio, change, p-values, the test
and ``n`` in columns of their own; the text formats render them.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchframe.metrics import HIGHER, LOWER
from benchframe.output import Table
from benchframe.report.stats import SIGNIFICANCE, Stats, adjust, pct_better, welch_p

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchframe.output.document import Cell as OutputCell

#: a cell's record says how its change was judged
WELCH = "welch"
DETERMINISTIC = "deterministic"


def fmt_value(v: float | None, err: float | None = None) -> str:
    """A value as the table shows it: with ``err`` (its standard error) the digits it supports, else two
    decimals (an exact value), ``1.2e+07`` style from a million on."""
    if v is None:
        return "-"
    if err:
        return _significant(v, err)
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 0.01):
        return f"{v:.4g}"
    return f"{v:.2f}"


def _significant(v: float, err: float) -> str:
    """``v`` down to the first significant digit of ``err``: 451.83 +- 62 is ``450``, 3.313e7 +- 1.5e4
    ``3.313e+07``."""
    place = math.floor(math.log10(abs(err)))  # 62 -> 1 (tens)
    if abs(v) >= 1e6:
        digits = max(0, math.floor(math.log10(abs(v))) - place)
        return f"{v:.{digits}e}"
    if place >= 0:
        return f"{round(v, -place):.0f}"
    return f"{v:.{-place}f}"


def fmt_sig(v: float | None, figures: int = 2) -> str:
    """``v`` to ``figures`` significant figures (a spread: Stddev, CoeffVar): ``1.0``, ``0.50``, ``1200``."""
    if v is None:
        return "-"
    if v == 0:
        return "0"
    if abs(v) >= 1e6:
        return f"{v:.{figures - 1}e}"
    place = figures - 1 - math.floor(math.log10(abs(v)))
    return f"{round(v, place):.{max(0, place)}f}"


def fmt_ratio(ratio: float) -> str:
    """A ratio to the baseline in its own row or column: ``0.651``, ``1.000``, ``229``."""
    return f"{ratio:.3f}" if ratio < 10 else fmt_sig(ratio, 3)


def fmt_pct(pct: float | None) -> str:
    """A change as compare-kernels writes it inside the brackets: ``   2.05%`` (``  vs 0`` without a finite one)."""
    return "  vs 0" if pct is None else f"{pct:7.2f}%"


@dataclass
class Cell:
    """One cell of a comparison table with its numbers: the value, its change against the baseline (``pct``,
    positive meaning better, and ``ratio`` = value / baseline value), the Welch test's p-value and the p-value
    adjusted over the report's family of tests, the ``test`` that judged the change (``welch``,
    ``deterministic`` or none) and ``n``, the distinct results the value is taken over; ``low`` and ``high``:
    its range over the model check's draws of the fitted prices; ``link``: the anchor of the table it comes
    from. ``compared`` says a change is shown at all (not for sample counts); ``shown`` is the value as the
    table prints it (its significant figures); ``text`` overrides the rendering (sample counts, the Gmean
    row)."""

    value: float | None
    pct: float | None = None
    ratio: float | None = None
    compared: bool = False
    p_value: float | None = None
    p_adjusted: float | None = None
    text: str | None = None
    shown: str | None = None
    test: str | None = None
    n: int | None = None
    low: float | None = None
    high: float | None = None
    link: str = ""

    @property
    def significant(self) -> bool:
        return self.p_adjusted is not None and self.p_adjusted < SIGNIFICANCE

    def render(self) -> str:
        if self.text is not None:
            return self.text
        if self.value is None:
            return "-"
        value = self.shown if self.shown is not None else fmt_value(self.value)
        if not self.compared:
            return value
        change = fmt_pct(self.pct)
        if self.significant:
            return f"{value} *{change}*"
        return f"{value} ({change})"

    def record(self) -> dict[str, Any]:
        """The numbers of the cell (a change only where one is shown), for the CSV and JSON formats."""
        shown = self.compared or self.text is not None
        return {"value": self.value, "ratio": self.ratio if shown else None,
                "pct_better": self.pct if shown else None, "p_value": self.p_value, "p_adjusted": self.p_adjusted,
                "significant": self.significant if self.p_value is not None else None, "test": self.test,
                "n": self.n, "low": self.low, "high": self.high, "link": self.link or None, "text": self.text}


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
#: the stat rows whose value is a spread: two significant figures, lower is better
SPREAD = ("Stddev", "CoeffVar")


def stderr(vals: Sequence[float]) -> float | None:
    """The standard error of the mean of ``vals`` (None: a single or constant result, an exact value)."""
    if len(vals) < 2:
        return None
    return statistics.stdev(vals) / math.sqrt(len(vals)) or None


def _shown(stat: str, value: float, vals: Sequence[float], integer: bool) -> str:
    if stat in SPREAD:
        return fmt_sig(value)
    if integer and float(value).is_integer():
        return f"{value:.0f}"
    return fmt_value(value, stderr(vals))


def _test(vals: Sequence[float], base: Sequence[float]) -> tuple[str | None, float | None]:
    """How a change of means is judged: exact where both sides are constant, else Welch's test where each side
    has two results or more."""
    if len(set(vals)) <= 1 and len(set(base)) <= 1:
        return DETERMINISTIC, None
    p = welch_p(vals, base)
    return (WELCH, p) if p is not None else (None, None)


def _cell(stat: str, vals: list[float], base: list[float] | None, better: str, tested: bool,
          integer: bool = False) -> Cell:
    value = STAT_FNS[stat](Stats(tuple(vals)))
    if value is None:
        return Cell(None, n=len(vals))
    shown = _shown(stat, value, vals, integer)
    bvalue = STAT_FNS[stat](Stats(tuple(base))) if base else None
    if bvalue is None:
        return Cell(value, shown=shown, n=len(vals))
    ratio = value / bvalue if bvalue else None
    test, p = _test(vals, base) if stat == "Amean" and tested and base else (None, None)
    direction = LOWER if stat in SPREAD else better
    return Cell(value, pct_better(value, bvalue, direction), ratio, True, p, shown=shown, test=test, n=len(vals))


def _nonzero_cell(vals: list[float]) -> Cell:
    k = sum(1 for v in vals if v)
    return Cell(float(k), text=f"{k} of {len(vals)} seed{'s' if len(vals) != 1 else ''}", n=len(vals))


def _count_cell(counts: list[int] | None) -> Cell:
    if not counts:
        return Cell(None)
    lo, hi = min(counts), max(counts)
    return Cell(float(lo), text=str(lo) if lo == hi else f"{lo}-{hi}")


def stat_rows(samples: dict[tuple[str, str], list[float]], better: str, integer: bool) -> list[str]:
    """The stat rows a table shows: ``Amean`` alone where every cell is one exact result; a varying count its
    ``Min``, ``Max`` and ``Nonzero``; else compare-kernels' rows (``Hmean`` for rates)."""
    if all(len(set(v)) <= 1 for v in samples.values()):
        return ["Amean"]
    if integer:
        return ["Min", "Max", "Nonzero"]
    return ["Amean"] + (["Hmean"] if better == HIGHER else []) + ["Stddev", "CoeffVar", "Min", "Max"]


def _gmean_row(order: list[str], ratios: dict[str, list[float]]) -> list[OutputCell]:
    row: list[OutputCell] = []
    for design in order:
        r = ratios[design]
        g = statistics.geometric_mean(r) if r else None
        row.append(Cell(g, ratio=g, text=fmt_ratio(g)) if g is not None else Cell(None))
    return row


def compare_table(title: str, designs: list[str], baseline: str, points: list[str],
                  samples: dict[tuple[str, str], list[float]], better: str, note: str = "",
                  counts: dict[tuple[str, str], list[int]] | None = None,
                  labels: dict[str, str] | None = None, integer: bool = False, anchor: str = "") -> Table:
    """Build one compare-kernels table.

    ``samples[(design, point)]`` are the metric's distinct results for one parameter value ``point`` (one per
    seed; one in all for a cell run once); ``integer``: the metric counts whole events; ``counts[(design,
    point)]``, for a percentile metric, the number of events each seed's percentile was taken over (a
    ``Samples`` row). Designs missing a sample show ``-``. ``labels`` renames column headers (a design marked
    UNSAFE). The table's p-values are adjusted among themselves; ``correct`` re-adjusts a report's tables as
    one family.
    """
    order = [baseline] + [d for d in designs if d != baseline] if baseline in designs else list(designs)
    names = stat_rows(samples, better, integer)
    rows: list[tuple[str, list[OutputCell]]] = []
    ratios: dict[str, list[float]] = {d: [] for d in order}
    for point in points:
        base = samples.get((baseline, point))
        for stat in names:
            row: list[OutputCell] = []
            for design in order:
                vals = samples.get((design, point))
                if not vals:
                    row.append(Cell(None))
                    continue
                cell = _nonzero_cell(vals) if stat == "Nonzero" else \
                    _cell(stat, vals, base, better, design != baseline, integer)
                row.append(cell)
                if stat == names[0] and cell.ratio is not None and cell.value is not None and cell.value > 0:
                    ratios[design].append(cell.ratio)
            rows.append((f"{stat} {point}".strip(), row))
        if counts is not None:
            rows.append((f"Samples {point}".strip(), [_count_cell(counts.get((d, point))) for d in order]))
    rows.append(("Gmean ratio", _gmean_row(order, ratios)))
    headers = [""] + [(labels or {}).get(d, d) for d in order]
    table = Table(title, headers, note=_note(note, samples, names, better), stralign="right", cells=rows,
                  keep_first=True, anchor=anchor)
    correct([table])
    return table


def _note(note: str, samples: dict[tuple[str, str], list[float]], names: list[str], better: str) -> str:
    """What the table's cells are taken over (n), how they were judged, and what its ratio row is."""
    ns = sorted({len(v) for v in samples.values()}) or [0]  # none: every run had too few for its percentile
    n = f"n = {ns[0]}" if len(ns) == 1 else f"n = {ns[0]}-{ns[-1]}"
    parts = [note] if note else []
    if names == ["Amean"]:
        parts.append(f"Deterministic: every cell one exact result ({n} distinct results per cell), so only "
                     "Amean is shown and nothing is tested.")
    else:
        parts.append(f"{n} distinct results per cell (seeds; a cell its workload runs once counts once).")
    if "Nonzero" in names:
        parts.append("A count: Min and Max over the seeds, Nonzero the seeds that counted any.")
    way = "below 1 is lower" + (", i.e. worse" if better == HIGHER else ", i.e. better")
    parts.append(f"Gmean ratio: geometric mean over the rows of each design's {names[0]} / the baseline's ({way}).")
    return " ".join(parts)
