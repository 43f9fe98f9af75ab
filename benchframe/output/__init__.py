"""The output stack: the document model (``document``) and one writer per format (``writers``), through which
every command renders what it prints or writes."""

from __future__ import annotations

from benchframe.output.document import Document, Heading, Note, Preamble, Section, Table
from benchframe.output.writers import FORMATS, WRITERS, Writer, writer

__all__ = ["FORMATS", "WRITERS", "Document", "Heading", "Note", "Preamble", "Section", "Table", "Writer", "writer"]
