"""Tables as a terminal shows them, everything within a mail's width."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from typing import TYPE_CHECKING

from benchframe.output.writers.base import PLAIN_WIDTH, Writer, _tabulate, _widest
from benchframe.output.writers.plain import column_groups

if TYPE_CHECKING:
    from benchframe.output.document import Preamble, Table


class Text(Writer):
    """Tables as a terminal shows them (a rule under the headers), everything within a mail's width."""

    name = "text"
    extension = "txt"

    def preamble(self, p: Preamble) -> str:
        return f"{p.title}\n" + "".join(self.note(f"{k}: {v.strip('`')}") for k, v in p.header) + "\n" + \
            (self.note(p.text.replace("`", "")) if p.text else "")

    def heading(self, text: str) -> str:
        return self.note(text)

    def note(self, text: str) -> str:
        """A paragraph wrapped at ``PLAIN_WIDTH``."""
        return "\n".join(textwrap.wrap(text, PLAIN_WIDTH, break_on_hyphens=False)) + "\n"

    def table(self, t: Table) -> str:
        """A table, a rule under its headers; wider than ``PLAIN_WIDTH``, its widest columns wrapped to fit, and
        where that would leave them narrower than ``MIN_WRAP``, split into groups of columns (the label's in
        each) as the plain format does."""
        groups = [list(range(1, len(t.headers)))]
        if _widest(fitted(t, PLAIN_WIDTH, MIN_WRAP)) > PLAIN_WIDTH:
            groups = column_groups(t, t.rows)
        parts = []
        for g, group in enumerate(groups):
            cols = [0] + group
            part = replace(t, headers=[t.headers[c] for c in cols], text_rows=[[r[c] for c in cols] for r in t.rows],
                           cells=[])
            title = " ".join([t.title] * bool(t.title) + [f"({g + 1}/{len(groups)})"] * (len(groups) > 1))
            parts.append((textwrap.fill(title, PLAIN_WIDTH) + "\n" if title else "") + fitted(part, PLAIN_WIDTH))
        return "\n\n".join(parts) + "\n" + (self.note(t.note) if t.note else "")


#: the narrowest a text column is wrapped at to fit a table into a mail; narrower, the table is split instead
MIN_WRAP = 14


def fitted(t: Table, width: int, narrowest: int = 4) -> str:
    """``t`` in tabulate's ``simple`` format, its widest columns wrapped at the one width that makes it fit
    ``width`` (as it is where it fits; wrapped at ``narrowest`` where nothing wider fits)."""
    natural = [max((len(line) for cell in [h, *(r[i] for r in t.rows)] for line in str(cell).splitlines()),
                   default=0) for i, h in enumerate(t.headers)]

    def at(cap: int) -> str:
        return _tabulate(t, "simple", maxcolwidths=[cap if w > cap else None for w in natural], wrap_headers=True)

    body = _tabulate(t, "simple")
    if _widest(body) <= width:
        return body
    low, high = narrowest, max(natural)  # the widest cap that fits: a bisection (narrower never widens it)
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if _widest(at(mid)) <= width else (low, mid - 1)
    return at(low)
