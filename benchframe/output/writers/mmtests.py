"""Comparison tables as mmtests ``compare-kernels`` prints them."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from benchframe.output.writers.base import PLAIN_WIDTH
from benchframe.output.writers.plain import Plain

if TYPE_CHECKING:
    from benchframe.output.document import Document, Table


class MMTests(Plain):
    """Comparison tables laid out as mmtests ``compare-kernels`` prints them, so they read (and parse) beside its
    output: the table's name, a two-line header (the kernel, then each column's name, right-aligned over it),
    then stat-major rows -- the stat left-aligned in ten columns (``Amean     64``), the parameter's value after
    it -- and cells ``value (  pct%)``, ``*  pct%*`` in place of the brackets where the change is significant.
    A table wider than ``PLAIN_WIDTH`` is split into groups of columns, the baseline in each; everything else
    as the plain format."""

    name = "mmtests"
    extension = "txt"

    def __init__(self) -> None:
        self.kernel = ""

    def render(self, doc: Document) -> str:
        self.kernel = dict(doc.header()).get("kernel", "").strip("`")
        return super().render(doc)

    def table(self, t: Table) -> str:
        if not t.cells:
            return super().table(t)
        labels = [_mmtests_label(label) for label, _ in t.cells]
        stat_w = max(10, *(len(stat) + 1 for stat, point in labels if point))
        point_w = max(max((len(point) for _, point in labels), default=0),
                      *(len(stat) - stat_w + 1 for stat, point in labels if not point))
        cells = [[_split_cell(c.render()) for c in cells] for _, cells in t.cells]
        widths = [max(len(t.headers[i + 1]), len(self.kernel),
                      *(len(_joined(row[i], 0)) for row in cells)) + 2 for i in range(len(t.headers) - 1)]
        prefix = stat_w + point_w
        groups = _mmtests_groups(widths, prefix, t.keep_first)
        parts = []
        for g, group in enumerate(groups):
            title = t.title + (f" ({g + 1}/{len(groups)})" if len(groups) > 1 else "")
            lines = [title] if title else []
            lines.append(" " * prefix + "".join(f"{self.kernel:>{widths[i]}}" for i in group))
            lines.append(" " * prefix + "".join(f"{t.headers[i + 1]:>{widths[i]}}" for i in group))
            for (stat, point), row in zip(labels, cells):
                body = "".join(f"{_joined(row[i], widths[i]):>{widths[i]}}" for i in group)
                lines.append(f"{stat:<{stat_w}}{point:<{point_w}}{body}".rstrip())
            parts.append("\n".join(lines) + "\n")
        note = textwrap.fill(t.note, PLAIN_WIDTH) + "\n" if t.note else ""
        return "\n".join(parts) + note


def _mmtests_label(label: str) -> tuple[str, str]:
    """``Amean bulk=64`` -> (``Amean``, ``64``): the stat and the point, a single parameter by its value."""
    stat, _, point = label.partition(" ")
    if stat == "Gmean":
        return label, ""
    if point.count("=") == 1 and ", " not in point:
        point = point.split("=", 1)[1]
    return stat, point


def _split_cell(text: str) -> tuple[str, str]:
    """A rendered cell's value and its change (``(   2.05%)`` or ``*   2.05%*``), or its text alone."""
    for mark in (" (", " *"):
        if mark in text and text.endswith((")", "*")):
            value, _, rest = text.partition(mark)
            return value, mark.strip() + rest
    return text, ""


def _joined(cell: tuple[str, str], width: int) -> str:
    value, change = cell
    if not change:
        return value
    return f"{value} {change}"


def _mmtests_groups(widths: list[int], prefix: int, keep_first: bool) -> list[list[int]]:
    """Column indices in groups whose lines fit ``PLAIN_WIDTH``, the first (the baseline) in each."""
    first = [0] if keep_first and widths else []
    groups: list[list[int]] = []
    current: list[int] = []
    used = prefix + sum(widths[i] for i in first)
    for i in range(len(first), len(widths)):
        if current and used + widths[i] > PLAIN_WIDTH:
            groups.append(first + current)
            current, used = [], prefix + sum(widths[j] for j in first)
        current.append(i)
        used += widths[i]
    if current or not groups:
        groups.append(first + current)
    return groups
