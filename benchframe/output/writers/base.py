"""What every writer shares: the ``Writer`` base class, the mail's width (``PLAIN_WIDTH``), wrapping lines to it
and rendering a table with ``tabulate`` (numbers as the cells give them, never re-parsed)."""

from __future__ import annotations

import textwrap
from typing import ClassVar

from tabulate import tabulate

from benchframe.output.document import Document, Heading, Note, Preamble, Section, Table

#: the widest line of the plain format: a mail
PLAIN_WIDTH = 100


def fit_lines(text: str, width: int = PLAIN_WIDTH) -> str:
    """``text`` with each line over ``width`` wrapped, its continuation lines indented four more than it."""
    out = []
    for line in text.splitlines():
        indent = line[:len(line) - len(line.lstrip())]
        out.append(textwrap.fill(line, width, subsequent_indent=indent + "    ", break_on_hyphens=False)
                   if len(line) > width else line)
    return "\n".join(out)


def _tabulate(table: Table, tablefmt: str, rows: list[list[str]] | None = None, cols: list[int] | None = None,
              maxcolwidths: list[int | None] | None = None, wrap_headers: bool = False) -> str:
    rows = table.rows if rows is None else rows
    headers = table.headers
    if cols is not None:
        headers = [headers[c] for c in cols]
        rows = [[r[c] for c in cols] for r in rows]
    # a table with no rows: tabulate 0.9 (the lowest allowed) fails on both widths (it counts the first row's
    # columns); without rows its headers are all there is, as they are
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True, stralign=table.stralign,
                    maxcolwidths=maxcolwidths if rows else None,
                    maxheadercolwidths=maxcolwidths if wrap_headers and rows else None)


class Writer:
    """A format: ``name`` (``--format``), ``extension`` of its file, and how each block looks in it. A document
    is its blocks rendered in order, a blank line between them."""

    name: ClassVar[str]
    extension: ClassVar[str]

    def render(self, doc: Document) -> str:
        return "\n".join(self.block(b) for b in doc.blocks)

    def block(self, b: Preamble | Heading | Note | Section | Table) -> str:
        if isinstance(b, Preamble):
            return self.preamble(b)
        if isinstance(b, Heading):
            return self.heading(b.text)
        if isinstance(b, Note):
            return self.note(b.text)
        if isinstance(b, Section):
            return self.section(b.title, b.lines)
        return self.section(b.title, [b.note]) if b.is_text else self.table(b)

    def preamble(self, p: Preamble) -> str:
        raise NotImplementedError

    def heading(self, text: str) -> str:
        raise NotImplementedError

    def note(self, text: str) -> str:
        return text + "\n"

    def section(self, title: str, lines: list[str]) -> str:
        return self.note(title) + "".join(self.note(line) for line in lines)

    def table(self, t: Table) -> str:
        raise NotImplementedError



def _widest(text: str) -> int:
    return max((len(ln) for ln in text.splitlines()), default=0)

