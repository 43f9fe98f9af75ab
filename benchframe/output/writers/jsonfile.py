"""JSON: the document as one object."""

from __future__ import annotations

import json

from benchframe.output.document import Document, records
from benchframe.output.writers.base import Writer


class JSON(Writer):
    """The document as one JSON object: the header, every cell as a record, and the tables' notes."""

    name = "json"
    extension = "json"

    def render(self, doc: Document) -> str:
        out = {"header": {k: v.strip("`") for k, v in doc.header()}, "cells": records(doc),
               "notes": {t.title: t.note for t in doc.tables if t.note}}
        return json.dumps(out, indent=1, sort_keys=True, allow_nan=False) + "\n"
