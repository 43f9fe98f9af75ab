"""CSV: one line per cell, its numbers in columns of their own."""

from __future__ import annotations

import csv
import io

from benchframe.output.document import FIELDS, Document, records
from benchframe.output.writers.base import Writer


class CSV(Writer):
    """One line per cell, its numbers in columns of their own (empty where there is none)."""

    name = "csv"
    extension = "csv"

    def render(self, doc: Document) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        columns = ("table", "row", doc.column, *FIELDS)
        writer.writerow(columns)
        for rec in records(doc):
            writer.writerow(["" if rec[c] is None else str(rec[c]).lower() if isinstance(rec[c], bool) else rec[c]
                             for c in columns])
        return buf.getvalue()
