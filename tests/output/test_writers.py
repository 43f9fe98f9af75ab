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
    text = text.split("<body>\n")[-1]  # html: a whole document
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
        "md": "md", "github": "md", "plain": "txt", "mmtests": "txt", "latex": "tex", "html": "html", "csv": "csv",
        "json": "json", "text": "txt"}


def test_mmtests_format_is_compare_kernels_layout():
    # what compare-kernels prints: the stat left-aligned in ten columns, then the point, "value (  pct%)" cells,
    # "*  pct%*" where significant, a two-line header (the kernel, then the column names)
    import re

    from benchframe.report.tables import compare_table

    samples = {("single", "bulk=8"): [100.0, 101.0, 99.0], ("list", "bulk=8"): [80.0, 80.5, 79.5],
               ("single", "bulk=64"): [200.0, 202.0, 198.0], ("list", "bulk=64"): [150.0, 151.0, 149.0]}
    table = compare_table("page_bench04: cycles", ["single", "list"], "single", ["bulk=8", "bulk=64"], samples,
                          "lower")
    text = writer("mmtests").render(Document([Preamble("t", [("kernel", "5.13")]), table]))
    lines = text[text.index("page_bench04: cycles"):].splitlines()
    assert lines[1].split() == ["5.13", "5.13"] and lines[2].split() == ["single", "list"]
    assert lines[3].startswith("Amean     8 ") and lines[8].startswith("Amean     64 ")
    cell = r"\s+-?[0-9.e+]+ (\(\s*-?[0-9.]+%\)|\*\s*-?[0-9.]+%\*)"
    for line in lines[3:13]:
        assert re.fullmatch(rf"(Amean|Stddev|CoeffVar|Min|Max) +(8|64)({cell}){{2}}", line), line
    assert re.search(r"\*\s+25\.00%\*$", lines[8])
    assert all(len(ln) <= 100 for ln in text.splitlines())


def test_html_is_a_whole_self_contained_document_without_markdown():
    # --format html was a fragment: no charset, the plots not shown, backticks and "**" as they were
    import base64
    import re

    doc = Document([Preamble("a title", [("command", "`benchframe x`")], "use `benchframe explore`", ["p.png"],
                             {"p.png": b"\x89PNG fake"}),
                    Table("T", ["", "a"], [["r", "1"]], anchor="t-1"), Note("see `x`")])
    text = writer("html").render(doc)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in text and "<title>a title</title>" in text
    png = base64.b64encode(b"\x89PNG fake").decode()
    assert f"data:image/png;base64,{png}" in text
    assert "<code>benchframe explore</code>" in text and "`" not in text and "**" not in text
    assert not re.search(r"^#+ |\]\(#", text, re.MULTILINE)
    assert '<h3 id="t-1">' in text
