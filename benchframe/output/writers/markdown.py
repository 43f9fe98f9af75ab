"""Markdown (``md``) and GitHub-flavoured (``github``) tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from benchframe.output.writers.base import Writer, _tabulate

if TYPE_CHECKING:
    from benchframe.output.document import Preamble, Table


class Markdown(Writer):
    name = "md"
    extension = "md"
    tablefmt = "pipe"

    def preamble(self, p: Preamble) -> str:
        parts = [f"# {p.title}\n", "\n".join(f"- **{k}**: {v}" for k, v in p.header) + "\n"]
        parts += [p.text + "\n"] if p.text else []
        parts += [f"![{Path(png).stem}]({Path(png).name})\n" for png in p.images]
        return "\n".join(parts)

    def heading(self, text: str) -> str:
        return f"## {text}\n"

    def section(self, title: str, lines: list[str]) -> str:
        return f"## {title}\n\n" + "".join(self.note(line) for line in lines)

    def table(self, t: Table) -> str:
        rows = [[_linked(cell.replace("|", "\\|"), link) for cell, link in zip(row, links)]  # "|" separates cells
                for row, links in zip(t.rows, t.links)]
        anchor = f'<a id="{t.anchor}"></a>\n\n' if t.anchor else ""  # an HTML block: a blank line ends it
        out = anchor + (f"### {t.title}\n\n" if t.title else "") + f"{_tabulate(t, self.tablefmt, rows)}\n"
        return out + (f"\n{t.note}\n" if t.note else "")


def _linked(text: str, anchor: str) -> str:
    return f"[{text}](#{anchor})" if anchor and text not in ("", "-") else text


class GitHub(Markdown):
    name = "github"
    tablefmt = "github"
