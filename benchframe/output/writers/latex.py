"""LaTeX: tables as ``tabular``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.output.writers.base import Writer, _tabulate

if TYPE_CHECKING:
    from benchframe.output.document import Preamble, Table


class LaTeX(Writer):
    """Tables as ``tabular``; everything else a TeX comment."""

    name = "latex"
    extension = "tex"

    def note(self, text: str) -> str:
        return f"% {text}\n"

    def preamble(self, p: Preamble) -> str:
        return f"% {p.title}\n" + "".join(f"% {k}: {v}\n" for k, v in p.header) + (self.note(p.text) if p.text else "")

    def heading(self, text: str) -> str:
        return f"% == {text}\n"

    def table(self, t: Table) -> str:
        return ((f"% {t.title}\n" if t.title else "") + f"{_tabulate(t, 'latex')}\n" +
                (f"% {t.note}\n" if t.note else ""))
