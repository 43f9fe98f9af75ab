"""One writer per format: each says how a preamble, a heading, a note, a section and a table look in it, and the
file extension it is saved with. Every command renders through them; a new format is one class here, in a module
of its own.

The text formats render a table with ``tabulate`` (numbers as the cells give them, never re-parsed); the plain
format fits a mail: no line over ``PLAIN_WIDTH`` columns, tables wider than that split into groups of columns
(a comparison's baseline in each), as mmtests compare-kernels does. CSV and JSON give every cell as a record,
its numbers in fields of their own.
"""

from __future__ import annotations

from benchframe.output.writers.base import PLAIN_WIDTH, Writer, fit_lines
from benchframe.output.writers.csvfile import CSV
from benchframe.output.writers.htmldoc import HTML
from benchframe.output.writers.jsonfile import JSON
from benchframe.output.writers.latex import LaTeX
from benchframe.output.writers.markdown import GitHub, Markdown
from benchframe.output.writers.mmtests import MMTests
from benchframe.output.writers.plain import Plain, column_groups
from benchframe.output.writers.text import MIN_WRAP, Text, fitted

#: every format, by its ``--format`` name, in the order ``--help`` lists them
WRITERS: dict[str, type[Writer]] = {w.name: w for w in (Markdown, GitHub, Plain, MMTests, LaTeX, HTML, CSV, JSON,
                                                         Text)}
FORMATS = tuple(WRITERS)


def writer(name: str) -> Writer:
    """The writer of format ``name`` (one of ``FORMATS``)."""
    return WRITERS[name]()


__all__ = ["CSV", "FORMATS", "HTML", "JSON", "MIN_WRAP", "PLAIN_WIDTH", "WRITERS", "GitHub", "LaTeX", "MMTests",
           "Markdown", "Plain", "Text", "Writer", "column_groups", "fit_lines", "fitted", "writer"]
