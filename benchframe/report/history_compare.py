"""``benchframe history``'s default view: two recorded commits side by side, as ``asv compare A B`` prints them.

One section per machine and environment (asv's ``machine/env``; never merged), headed by the two commits and
their dates; in it one table per benchmark, a row per parameter set (numeric order) with the value before and
after, their ratio (after / before) and asv's mark: ``+`` the value grew beyond the factor, ``-`` it shrank
beyond it, ``x`` the benchmark's version differs (not comparable), a ratio prefixed ``~`` where it is beyond
the factor but asv's statistics do not tell the two apart. Like ``asv compare --only-changed``, only the
parameter sets marked ``+``/``-`` are listed unless ``show_all``. Whether larger is worse depends on the
metric (asv takes it so for every benchmark): the marks say the direction, not a verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.output import Document, Heading, Note, Table
from benchframe.report.history import when

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.output.document import Block, Cell
    from benchframe.report.history import Series

KEYS = ["parameters", "before", "after", "ratio", "change"]
#: an unknown commit's error lists the recorded ones up to this many
LISTED = 6


@dataclass(frozen=True)
class Value:
    """A cell that keeps its number for CSV and JSON: a value before or after (``value``) or their ratio."""

    text: str
    value: float | None = None
    ratio: float | None = None

    def render(self) -> str:
        return self.text

    def record(self) -> dict[str, Any]:
        return {"value": self.value, "ratio": self.ratio, "text": self.text}


def _by_factor(a: float, b: float, _a_ss: object, _b_ss: object, factor: float) -> bool:
    return a < b / factor


def _better() -> Callable[..., bool]:
    """asv compare's own test of "a is better than b by the factor" (its statistics where both have them);
    asv keeps it private, so an asv without it falls back to the factor alone."""
    try:
        from asv.commands.compare import _is_result_better
    except ImportError:
        return _by_factor
    return _is_result_better


def resolve(prefix: str, commits: list[str], option: str) -> str:
    """The recorded commit ``prefix`` names (a hash's prefix); one line if none or several do."""
    found = [c for c in commits if c.startswith(prefix.lower())] if prefix else []
    if len(found) == 1:
        return found[0]
    if found:
        raise BenchframeError(f"{option} {prefix}: names {len(found)} recorded commits "
                              f"({', '.join(c[:8] for c in found[:LISTED])}); give more of the hash")
    newest = ", ".join(c[:8] for c in reversed(commits[-LISTED:]))
    raise BenchframeError(f"{option} {prefix}: not a recorded commit (newest recorded: {newest})")


def commits_of(series: list[Series]) -> list[str]:
    """Every recorded commit, oldest first (by asv's date)."""
    dated = {c: d for s in series for c, d, _ in s.points}
    return sorted(dated, key=lambda c: (dated[c], c))


def _mark(s: Series, before: str, after: str, factor: float) -> tuple[str, str, float | None]:
    """asv compare's (mark, ratio text, ratio) of one series between two commits."""
    values = {c: v for c, _, v in s.points}
    a, b = values.get(before, math.nan), values.get(after, math.nan)
    if math.isnan(a) or math.isnan(b) or a == 0:
        return " ", "n/a", None
    ratio = b / a
    text = f"{ratio:.2f}"
    va, vb = s.versions.get(before), s.versions.get(after)
    if va is not None and vb is not None and va != vb:
        return "x", text, ratio
    better = _better()
    if better(b, a, s.stats.get(after), s.stats.get(before), factor):
        return "-", text, ratio
    if better(a, b, s.stats.get(before), s.stats.get(after), factor):
        return "+", text, ratio
    if better(a, b, None, None, factor) or better(b, a, None, None, factor):
        return " ", "~" + text, ratio  # beyond the factor, within asv's statistical noise
    return " ", text, ratio


def _params(s: Series) -> str:
    return ", ".join(s.combo) if s.combo else "(none)"


def _section(series: list[Series], before: str, after: str, factor: float,
             show_all: bool) -> tuple[list[Block], int, int]:
    """One machine/environment's tables: (blocks, parameter sets listed, parameter sets compared)."""
    blocks: list[Block] = []
    listed = compared = 0
    names = list(dict.fromkeys(s.name or s.benchmark for s in series))
    for name in names:
        rows: list[tuple[str, list[Cell]]] = []
        unit = ""
        for s in (s for s in series if (s.name or s.benchmark) == name):
            mark, text, ratio = _mark(s, before, after, factor)
            values = {c: v for c, _, v in s.points}
            if ratio is None and before not in values and after not in values:
                continue
            compared += 1
            if show_all or mark in ("+", "-"):
                unit = s.unit
                sides = [Value(f"{values[c]:.6g}", values[c]) if c in values else Value("n/a")
                         for c in (before, after)]
                rows.append((_params(s), [*sides, Value(text, ratio=ratio), Value(mark.strip())]))
        if rows:
            listed += len(rows)
            headers = ["parameters", f"before {before[:8]}", f"after {after[:8]}", "ratio", "change"]
            blocks.append(Table(f"{name} on {series[0].where} ({unit})", headers, cells=rows, keys=KEYS))
    return blocks, listed, compared


def compare_document(series: list[Series], factor: float, show_all: bool = False, before: str | None = None,
                     after: str | None = None) -> Document:
    """Two commits (``before``/``after``: prefixes of recorded hashes; by default each machine/environment's
    two newest) compared as ``asv compare`` does, one section per machine and environment."""
    everything = commits_of(series)
    chosen = [resolve(c, everything, o) if c is not None else None for c, o in ((before, "--from"), (after, "--to"))]
    dates = {c: d for s in series for c, d, _ in s.points}
    blocks: list[Block] = []
    for where in dict.fromkeys(s.where for s in series):
        group = [s for s in series if s.where == where]
        recorded = commits_of(group)
        a, b = chosen[0] or (recorded[-2] if len(recorded) > 1 else None), chosen[1] or recorded[-1]
        if chosen[0] is None and chosen[1] is not None:
            older = [c for c in recorded if dates[c] < dates[b]]
            a = older[-1] if older else None
        blocks.append(Heading(f"{where}: {a[:8] if a else '-'} -> {b[:8]}"))
        missing = [c[:8] for c in (a, b) if c is not None and c not in recorded]
        if a is None or missing:
            why = f"{', '.join(missing)} not recorded here" if missing else "only one commit recorded here"
            blocks.append(Note(f"Nothing to compare on {where}: {why} (--series shows every commit)."))
            continue
        blocks.append(Note(f"Before {a[:8]} ({when(dates[a])} UTC), after {b[:8]} ({when(dates[b])} UTC); machine "
                           f"{group[0].machine}, environment {group[0].env}. Ratio: after / before; change: + grew, "
                           f"- shrank beyond x{factor:g}."))
        tables, listed, compared = _section(group, a, b, factor, show_all)
        blocks.extend(tables)
        left = compared - listed
        blocks.append(Note(f"{listed} of {compared} parameter sets listed"
                           + (f"; {left} within x{factor:g} left out (--all lists them)" if left else "")))
    return Document(blocks)

