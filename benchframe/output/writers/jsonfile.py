"""JSON: the document as one object, parseable by ``json.loads``, its shape the same for every command.

- ``header``: the document's header lines (``{key: value}``; ``{}`` where the command prints none);
- ``text``: what the command prints besides its tables -- headings, paragraphs, sections' lines, text-only
  tables -- in order, a string each;
- ``tables``: each table as ``{"title", "columns", "records", "note"}``, ``records`` a list of its rows, each
  ``{column name: the cell as printed}`` (``columns`` in their order, the first the row's label);
- ``cells``: every cell as a flat record, its numbers in fields of their own (``document.records``);
- ``notes``: each table's note by the table's title.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from benchframe.output.document import Heading, Note, Preamble, Section, Table, records
from benchframe.output.writers.base import Writer

if TYPE_CHECKING:
    from benchframe.output.document import Document


class JSON(Writer):
    """The document as one JSON object: the header, its text, its tables as lists of records, every cell as a
    record, and the tables' notes."""

    name = "json"
    extension = "json"

    def render(self, doc: Document) -> str:
        out = {"header": {k: v.strip("`") for k, v in doc.header()}, "text": text(doc),
               "tables": [table(t) for t in doc.tables if not t.is_text], "cells": records(doc),
               "notes": {t.title: t.note for t in doc.tables if t.note}}
        return json.dumps(out, indent=1, sort_keys=True, allow_nan=False) + "\n"


def table(t: Table) -> dict[str, Any]:
    """A table: its title, column names, rows as records (column name -> the cell's text) and note."""
    names = t.names
    return {"title": t.title, "columns": names, "records": [dict(zip(names, row)) for row in t.rows],
            "note": t.note}


def text(doc: Document) -> list[str]:
    """The document's text blocks in order: headings, notes, preamble paragraphs, sections' titles and lines."""
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Preamble):
            out += [b.title] + ([b.text] if b.text else [])
        elif isinstance(b, Heading | Note):
            out.append(b.text)
        elif isinstance(b, Section):
            out += [b.title, *b.lines]
        elif isinstance(b, Table) and b.is_text:
            out += [b.title, b.note]
    return out
