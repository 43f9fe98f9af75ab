"""The plain format: it fits a mail -- no line over ``PLAIN_WIDTH`` columns, tables wider than that split into
groups of columns (a comparison's baseline in each), as mmtests compare-kernels does."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from benchframe.output.writers.base import PLAIN_WIDTH, Writer, _tabulate, _widest

if TYPE_CHECKING:
    from benchframe.output.document import Preamble, Table


class Plain(Writer):
    name = "plain"
    extension = "txt"

    def note(self, text: str) -> str:
        """A paragraph wrapped at ``PLAIN_WIDTH`` (continuation lines indented)."""
        return "\n".join(textwrap.wrap(text, PLAIN_WIDTH, subsequent_indent="    ", break_long_words=True,
                                       break_on_hyphens=False)) + "\n"

    def preamble(self, p: Preamble) -> str:
        return (f"{p.title}\n" + "".join(self.note(f"{k}: {v.strip('`')}") for k, v in p.header) + "\n" +
                (self.note(p.text.replace("`", "")) if p.text else ""))

    def heading(self, text: str) -> str:
        return self.note(f"== {text}")

    def table(self, t: Table) -> str:
        parts = []
        rows = t.rows
        groups = column_groups(t, rows)
        for g, group in enumerate(groups):
            cols = [0] + group
            body = _tabulate(t, "plain", rows, cols)
            if _widest(body) > PLAIN_WIDTH:  # one column is too wide alone: wrap the text cells
                each = max(12, (PLAIN_WIDTH - 2 * len(cols)) // len(cols))
                body = _tabulate(t, "plain", rows, cols, [each] * len(cols))
            title = t.title + (f" ({g + 1}/{len(groups)})" if len(groups) > 1 else "")
            parts.append((textwrap.fill(title, PLAIN_WIDTH) + "\n" if title else "") + body + "\n")
        note = textwrap.fill(t.note, PLAIN_WIDTH) + "\n" if t.note else ""
        return "\n".join(parts) + note



def column_groups(table: Table, rows: list[list[str]], width: int = PLAIN_WIDTH) -> list[list[int]]:
    """Data column indices (1-based, as in ``headers``) split into groups whose plain rendering fits ``width``:
    each group as many columns as fit, in order; with ``keep_first``, the first data column in every group."""
    n = len(table.headers)
    first = [1] if table.keep_first and n > 1 else []
    groups: list[list[int]] = []
    current: list[int] = []
    for i in (i for i in range(1, n) if i not in first):
        trial = current + [i]
        if current and _widest(_tabulate(table, "plain", rows, [0] + first + trial)) > width:
            groups.append(first + current)
            current = [i]
        else:
            current = trial
    if current or not groups:
        groups.append(first + current)
    return groups
