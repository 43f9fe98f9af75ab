"""The document model every command renders: a list of blocks -- a preamble, headings, notes, sections and
tables -- that a writer (``benchframe.output.writers``) turns into one format.

A ``Table`` has a title, headers and rows: text rows, or labelled rows of cells that keep their numbers (a
comparison cell: value, ratio, change, p-values), which the CSV and JSON writers give in fields of their own
(``records``) while the text formats render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

#: the fields of a cell's record, after ``table``, ``row`` and the column
FIELDS = ("value", "ratio", "pct_better", "p_value", "p_adjusted", "significant", "test", "n", "low", "high",
          "link", "text")


class Cell(Protocol):
    """A table cell that keeps its numbers: its text (``render``) and its record (``record``: the ``FIELDS``,
    None where it has none; ``text`` only where the text is not made from the numbers)."""

    def render(self) -> str: ...

    def record(self) -> dict[str, Any]: ...


@dataclass
class Table:
    """A table: text rows (``text_rows``, the first column the row's label) or labelled rows of ``Cell``s.
    ``stralign``: text reads better on the left, numbers line up on the right. ``keep_first``: the first
    data column (a comparison's baseline) stays in every group when the plain format splits a wide table. A
    table without headers and rows is a titled text (a plugin's report section): its ``note`` is the text.
    ``anchor``: the name other tables' cells link to (``Cell.record()["link"]``), where a format has links.
    ``keys``: the columns' names in a record (JSON), where a header is made for the eye (a metric's name
    wrapped over lines, its unit under it); default the headers."""

    title: str
    headers: list[str]
    text_rows: list[list[str]] = field(default_factory=list)
    note: str = ""
    stralign: str = "left"
    cells: list[tuple[str, list[Cell]]] = field(default_factory=list)
    keep_first: bool = False
    anchor: str = ""
    keys: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[list[str]]:
        if self.cells:
            return [[label] + [c.render() for c in cells] for label, cells in self.cells]
        return self.text_rows

    @property
    def links(self) -> list[list[str]]:
        """Each cell's link (the anchor of the table it comes from; "" for none), row by row, the label's first."""
        if self.cells:
            return [[""] + [str(c.record().get("link") or "") for c in cells] for _, cells in self.cells]
        return [[""] * len(r) for r in self.text_rows]

    @property
    def names(self) -> list[str]:
        """The columns' names in a record: ``keys``, else the headers (an empty one: ``row``)."""
        return list(self.keys) if self.keys else [h or "row" for h in self.headers]

    @property
    def is_text(self) -> bool:
        return not self.headers and not self.rows


@dataclass(frozen=True)
class Preamble:
    """A document's title and header lines (``(key, value)``, a value in backticks is code), a paragraph after
    them and the images it shows (file names beside the document; ``image_data``: their bytes, for a format
    that embeds them)."""

    title: str
    header: list[tuple[str, str]]
    text: str = ""
    images: list[str] = field(default_factory=list)
    image_data: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Note:
    """A paragraph."""

    text: str


@dataclass(frozen=True)
class Section:
    """A titled list of lines (a document's closing notes)."""

    title: str
    lines: list[str]


Block = Preamble | Heading | Note | Section | Table


@dataclass(frozen=True)
class Document:
    """The blocks in order. ``column``: what a record calls the column a cell is in (a comparison's columns
    are designs)."""

    blocks: list[Block]
    column: str = "column"

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def header(self) -> list[tuple[str, str]]:
        return [kv for b in self.blocks if isinstance(b, Preamble) for kv in b.header]


def _number(v: Any) -> Any:
    return round(v, 6) if isinstance(v, float) else v


def records(doc: Document) -> list[dict[str, Any]]:
    """Every cell of the document's tables as a flat record: ``table``, ``row``, the column's header, and the
    cell's ``FIELDS`` (floats rounded to 6 places; a text table's cell is all ``text``)."""
    out: list[dict[str, Any]] = []
    for t in doc.tables:
        columns = t.names[1:]  # a record's names, not the headers wrapped for the eye
        if t.cells:
            for label, cells in t.cells:
                for column, c in zip(columns, cells):
                    rec = {k: _number(v) for k, v in {**dict.fromkeys(FIELDS), **c.record()}.items()}
                    out.append({"table": t.title, "row": label, doc.column: column, **rec})
            continue
        for row in t.text_rows:
            for column, text in zip(columns, row[1:]):
                out.append({"table": t.title, "row": row[0], doc.column: column, **dict.fromkeys(FIELDS),
                            "text": text})
    return out
