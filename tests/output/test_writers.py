"""The output stack (``benchframe/output``): every format renders every kind of block, an untitled table has no
heading, Markdown cells keep their "|", and the machine formats give each cell as a record."""

from __future__ import annotations

import csv
import io
import json

import pytest

from benchframe.output import FORMATS, WRITERS, Document, Heading, Note, Preamble, Section, Table, writer


def document(title: str = "T|able") -> Document:
    return Document([Preamble("a title", [("command", "`benchframe x`")], "a legend", ["p.png"]),
                     Heading("a heading"), Note("a note"),
                     Table(title, ["", "a", "b"], [["row1", "GFP_KERNEL|__GFP_ZERO", "2"]], note="the table note"),
                     Table("plugin section", [], note="its body"), Section("Notes", ["- one"])])


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_every_block(fmt):
    text = writer(fmt).render(document())
    assert "GFP" in text and "row1" in text  # LaTeX escapes the underscores
    if fmt not in ("csv", "json"):
        for words in ("a title", "a heading", "a note", "the table note", "plugin section", "its body", "- one"):
            assert words in text, (fmt, words)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("csv", "json")])
def test_an_untitled_table_has_no_heading(fmt):
    text = writer(fmt).render(Document([Table("", ["k", "v"], [["a", "1"]])]))
    assert text.lstrip().startswith(("|", "k", "\\begin", "<table")), text[:40]


def test_markdown_escapes_the_cell_separator_and_the_machine_formats_keep_records():
    assert "GFP_KERNEL\\|__GFP_ZERO" in writer("md").render(document())
    rows = list(csv.DictReader(io.StringIO(writer("csv").render(document()))))
    assert [(r["table"], r["row"], r["column"], r["text"]) for r in rows] == [
        ("T|able", "row1", "a", "GFP_KERNEL|__GFP_ZERO"), ("T|able", "row1", "b", "2")]
    doc = json.loads(writer("json").render(document()))
    assert doc["header"] == {"command": "benchframe x"}
    assert doc["notes"] == {"T|able": "the table note", "plugin section": "its body"}


def test_a_writer_is_named_by_its_format_and_gives_its_extension():
    assert {name: w.extension for name, w in WRITERS.items()} == {
        "md": "md", "github": "md", "plain": "txt", "latex": "tex", "html": "html", "csv": "csv", "json": "json",
        "text": "txt"}
