"""One writer per format: each says how a preamble, a heading, a note, a section and a table look in it, and the
file extension it is saved with. Every command renders through them; a new format is one class here.

The text formats render a table with ``tabulate`` (numbers as the cells give them, never re-parsed); the plain
format fits a mail: no line over ``PLAIN_WIDTH`` columns, tables wider than that split into groups of columns
(a comparison's baseline in each), as mmtests compare-kernels does. CSV and JSON give every cell as a record,
its numbers in fields of their own.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from tabulate import tabulate

from benchframe.output.document import FIELDS, Document, Heading, Note, Preamble, Section, Table, records

#: the widest line of the plain format: a mail
PLAIN_WIDTH = 100


def fit_lines(text: str, width: int = PLAIN_WIDTH) -> str:
    """``text`` with each line over ``width`` wrapped, its continuation lines indented four more than it."""
    out = []
    for line in text.splitlines():
        indent = line[:len(line) - len(line.lstrip())]
        out.append(textwrap.fill(line, width, subsequent_indent=indent + "    ", break_on_hyphens=False)
                   if len(line) > width else line)
    return "\n".join(out)


def _tabulate(table: Table, tablefmt: str, rows: list[list[str]] | None = None, cols: list[int] | None = None,
              maxcolwidths: list[int | None] | None = None, wrap_headers: bool = False) -> str:
    rows = table.rows if rows is None else rows
    headers = table.headers
    if cols is not None:
        headers = [headers[c] for c in cols]
        rows = [[r[c] for c in cols] for r in rows]
    # a table with no rows: tabulate 0.9 (the lowest allowed) fails on both widths (it counts the first row's
    # columns); without rows its headers are all there is, as they are
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True, stralign=table.stralign,
                    maxcolwidths=maxcolwidths if rows else None,
                    maxheadercolwidths=maxcolwidths if wrap_headers and rows else None)


class Writer:
    """A format: ``name`` (``--format``), ``extension`` of its file, and how each block looks in it. A document
    is its blocks rendered in order, a blank line between them."""

    name: ClassVar[str]
    extension: ClassVar[str]

    def render(self, doc: Document) -> str:
        return "\n".join(self.block(b) for b in doc.blocks)

    def block(self, b: Preamble | Heading | Note | Section | Table) -> str:
        if isinstance(b, Preamble):
            return self.preamble(b)
        if isinstance(b, Heading):
            return self.heading(b.text)
        if isinstance(b, Note):
            return self.note(b.text)
        if isinstance(b, Section):
            return self.section(b.title, b.lines)
        return self.section(b.title, [b.note]) if b.is_text else self.table(b)

    def preamble(self, p: Preamble) -> str:
        raise NotImplementedError

    def heading(self, text: str) -> str:
        raise NotImplementedError

    def note(self, text: str) -> str:
        return text + "\n"

    def section(self, title: str, lines: list[str]) -> str:
        return self.note(title) + "".join(self.note(line) for line in lines)

    def table(self, t: Table) -> str:
        raise NotImplementedError


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


class Plain(Writer):
    name = "plain"
    extension = "txt"

    def note(self, text: str) -> str:
        """A paragraph wrapped at ``PLAIN_WIDTH`` (continuation lines indented)."""
        return "\n".join(textwrap.wrap(text, PLAIN_WIDTH, subsequent_indent="    ", break_long_words=True,
                                       break_on_hyphens=False)) + "\n"

    def preamble(self, p: Preamble) -> str:
        return (f"{p.title}\n" + "".join(self.note(f"{k}: {v.strip('`')}") for k, v in p.header) + "\n" +
                (self.note(p.text.replace("`", "")) if p.text else ""))

    def heading(self, text: str) -> str:
        return self.note(f"== {text}")

    def table(self, t: Table) -> str:
        parts = []
        rows = t.rows
        groups = column_groups(t, rows)
        for g, group in enumerate(groups):
            cols = [0] + group
            body = _tabulate(t, "plain", rows, cols)
            if _widest(body) > PLAIN_WIDTH:  # one column is too wide alone: wrap the text cells
                each = max(12, (PLAIN_WIDTH - 2 * len(cols)) // len(cols))
                body = _tabulate(t, "plain", rows, cols, [each] * len(cols))
            title = t.title + (f" ({g + 1}/{len(groups)})" if len(groups) > 1 else "")
            parts.append((textwrap.fill(title, PLAIN_WIDTH) + "\n" if title else "") + body + "\n")
        note = textwrap.fill(t.note, PLAIN_WIDTH) + "\n" if t.note else ""
        return "\n".join(parts) + note


def _widest(text: str) -> int:
    return max((len(ln) for ln in text.splitlines()), default=0)


def column_groups(table: Table, rows: list[list[str]], width: int = PLAIN_WIDTH) -> list[list[int]]:
    """Data column indices (1-based, as in ``headers``) split into groups whose plain rendering fits ``width``:
    each group as many columns as fit, in order; with ``keep_first``, the first data column in every group."""
    n = len(table.headers)
    first = [1] if table.keep_first and n > 1 else []
    groups: list[list[int]] = []
    current: list[int] = []
    for i in (i for i in range(1, n) if i not in first):
        trial = current + [i]
        if current and _widest(_tabulate(table, "plain", rows, [0] + first + trial)) > width:
            groups.append(first + current)
            current = [i]
        else:
            current = trial
    if current or not groups:
        groups.append(first + current)
    return groups


class MMTests(Plain):
    """Comparison tables laid out as mmtests ``compare-kernels`` prints them, so they read (and parse) beside its
    output: the table's name, a two-line header (the kernel, then each column's name, right-aligned over it),
    then stat-major rows -- the stat left-aligned in ten columns (``Amean     64``), the parameter's value after
    it -- and cells ``value (  pct%)``, ``*  pct%*`` in place of the brackets where the change is significant.
    A table wider than ``PLAIN_WIDTH`` is split into groups of columns, the baseline in each; everything else
    as the plain format."""

    name = "mmtests"
    extension = "txt"

    def __init__(self) -> None:
        self.kernel = ""

    def render(self, doc: Document) -> str:
        self.kernel = dict(doc.header()).get("kernel", "").strip("`")
        return super().render(doc)

    def table(self, t: Table) -> str:
        if not t.cells:
            return super().table(t)
        labels = [_mmtests_label(label) for label, _ in t.cells]
        stat_w = max(10, *(len(stat) + 1 for stat, point in labels if point))
        point_w = max(max((len(point) for _, point in labels), default=0),
                      *(len(stat) - stat_w + 1 for stat, point in labels if not point))
        cells = [[_split_cell(c.render()) for c in cells] for _, cells in t.cells]
        widths = [max(len(t.headers[i + 1]), len(self.kernel),
                      *(len(_joined(row[i], 0)) for row in cells)) + 2 for i in range(len(t.headers) - 1)]
        prefix = stat_w + point_w
        groups = _mmtests_groups(widths, prefix, t.keep_first)
        parts = []
        for g, group in enumerate(groups):
            title = t.title + (f" ({g + 1}/{len(groups)})" if len(groups) > 1 else "")
            lines = [title] if title else []
            lines.append(" " * prefix + "".join(f"{self.kernel:>{widths[i]}}" for i in group))
            lines.append(" " * prefix + "".join(f"{t.headers[i + 1]:>{widths[i]}}" for i in group))
            for (stat, point), row in zip(labels, cells):
                body = "".join(f"{_joined(row[i], widths[i]):>{widths[i]}}" for i in group)
                lines.append(f"{stat:<{stat_w}}{point:<{point_w}}{body}".rstrip())
            parts.append("\n".join(lines) + "\n")
        note = textwrap.fill(t.note, PLAIN_WIDTH) + "\n" if t.note else ""
        return "\n".join(parts) + note


def _mmtests_label(label: str) -> tuple[str, str]:
    """``Amean bulk=64`` -> (``Amean``, ``64``): the stat and the point, a single parameter by its value."""
    stat, _, point = label.partition(" ")
    if stat == "Gmean":
        return label, ""
    if point.count("=") == 1 and ", " not in point:
        point = point.split("=", 1)[1]
    return stat, point


def _split_cell(text: str) -> tuple[str, str]:
    """A rendered cell's value and its change (``(   2.05%)`` or ``*   2.05%*``), or its text alone."""
    for mark in (" (", " *"):
        if mark in text and text.endswith((")", "*")):
            value, _, rest = text.partition(mark)
            return value, mark.strip() + rest
    return text, ""


def _joined(cell: tuple[str, str], width: int) -> str:
    value, change = cell
    if not change:
        return value
    return f"{value} {change}"


def _mmtests_groups(widths: list[int], prefix: int, keep_first: bool) -> list[list[int]]:
    """Column indices in groups whose lines fit ``PLAIN_WIDTH``, the first (the baseline) in each."""
    first = [0] if keep_first and widths else []
    groups: list[list[int]] = []
    current: list[int] = []
    used = prefix + sum(widths[i] for i in first)
    for i in range(len(first), len(widths)):
        if current and used + widths[i] > PLAIN_WIDTH:
            groups.append(first + current)
            current, used = [], prefix + sum(widths[j] for j in first)
        current.append(i)
        used += widths[i]
    if current or not groups:
        groups.append(first + current)
    return groups


class Text(Writer):
    """Tables as a terminal shows them (a rule under the headers), everything within a mail's width."""

    name = "text"
    extension = "txt"

    def preamble(self, p: Preamble) -> str:
        return f"{p.title}\n" + "".join(self.note(f"{k}: {v.strip('`')}") for k, v in p.header) + "\n" + \
            (self.note(p.text.replace("`", "")) if p.text else "")

    def heading(self, text: str) -> str:
        return self.note(text)

    def note(self, text: str) -> str:
        """A paragraph wrapped at ``PLAIN_WIDTH``."""
        return "\n".join(textwrap.wrap(text, PLAIN_WIDTH, break_on_hyphens=False)) + "\n"

    def table(self, t: Table) -> str:
        """A table, a rule under its headers; wider than ``PLAIN_WIDTH``, its widest columns wrapped to fit, and
        where that would leave them narrower than ``MIN_WRAP``, split into groups of columns (the label's in
        each) as the plain format does."""
        groups = [list(range(1, len(t.headers)))]
        if _widest(fitted(t, PLAIN_WIDTH, MIN_WRAP)) > PLAIN_WIDTH:
            groups = column_groups(t, t.rows)
        parts = []
        for g, group in enumerate(groups):
            cols = [0] + group
            part = replace(t, headers=[t.headers[c] for c in cols], text_rows=[[r[c] for c in cols] for r in t.rows],
                           cells=[])
            title = " ".join([t.title] * bool(t.title) + [f"({g + 1}/{len(groups)})"] * (len(groups) > 1))
            parts.append((textwrap.fill(title, PLAIN_WIDTH) + "\n" if title else "") + fitted(part, PLAIN_WIDTH))
        return "\n\n".join(parts) + "\n" + (self.note(t.note) if t.note else "")


#: the narrowest a text column is wrapped at to fit a table into a mail; narrower, the table is split instead
MIN_WRAP = 14


def fitted(t: Table, width: int, narrowest: int = 4) -> str:
    """``t`` in tabulate's ``simple`` format, its widest columns wrapped at the one width that makes it fit
    ``width`` (as it is where it fits; wrapped at ``narrowest`` where nothing wider fits)."""
    natural = [max((len(line) for cell in [h, *(r[i] for r in t.rows)] for line in str(cell).splitlines()),
                   default=0) for i, h in enumerate(t.headers)]

    def at(cap: int) -> str:
        return _tabulate(t, "simple", maxcolwidths=[cap if w > cap else None for w in natural], wrap_headers=True)

    body = _tabulate(t, "simple")
    if _widest(body) <= width:
        return body
    low, high = narrowest, max(natural)  # the widest cap that fits: a bisection (narrower never widens it)
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if _widest(at(mid)) <= width else (low, mid - 1)
    return at(low)


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


class HTML(Writer):
    """A whole, self-contained HTML document: a charset, a title and a little CSS, the plots embedded as data
    URIs (where the preamble carries their bytes), inline code and links as HTML -- nothing a browser would
    show as Markdown -- and tables whose cells link to the tables they come from."""

    name = "html"
    extension = "html"

    def render(self, doc: Document) -> str:
        title = next((b.title for b in doc.blocks if isinstance(b, Preamble)), "benchframe")
        body = "\n".join(self.block(b) for b in doc.blocks)
        return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{html.escape(title)}</title>\n<style>{HTML_STYLE}</style>\n</head>\n<body>\n{body}"
                "</body>\n</html>\n")

    def note(self, text: str) -> str:
        return f"<p>{_inline(text)}</p>\n"

    def preamble(self, p: Preamble) -> str:
        images = "".join(self.image(name, p.image_data.get(name)) for name in p.images)
        return (f"<h1>{html.escape(p.title)}</h1>\n<ul>\n" +
                "".join(f"<li><b>{html.escape(k)}</b>: {_inline(v)}</li>\n" for k, v in p.header) + "</ul>\n" +
                (self.note(p.text) if p.text else "") + images)

    def image(self, name: str, data: bytes | None) -> str:
        """A plot: embedded (``data:image/png;base64``) where its bytes are given, else the file beside."""
        src = f"data:image/png;base64,{base64.b64encode(data).decode()}" if data else html.escape(Path(name).name)
        return f'<figure><img src="{src}" alt="{html.escape(Path(name).stem)}"></figure>\n'

    def heading(self, text: str) -> str:
        return f"<h2>{_inline(text)}</h2>\n"

    def section(self, title: str, lines: list[str]) -> str:
        return self.heading(title) + "".join(self.note(line) for line in lines)

    def table(self, t: Table) -> str:
        anchor = f' id="{html.escape(t.anchor)}"' if t.anchor else ""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in t.headers)
        body = ""
        for row, links in zip(t.rows, t.links):
            cells = "".join(f"<td{' class=num' if i and t.stralign == 'right' else ''}>{_html_cell(c, a)}</td>"
                            for i, (c, a) in enumerate(zip(row, links)))
            body += f"<tr>{cells}</tr>\n"
        return ((f"<h3{anchor}>{html.escape(t.title)}</h3>\n" if t.title else "") +
                f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n" +
                (self.note(t.note) if t.note else ""))


HTML_STYLE = ("body{font-family:sans-serif;max-width:110em;margin:1em auto;padding:0 1em}"
              "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.2em .5em}"
              "td.num{text-align:right;font-family:monospace;white-space:pre}th{background:#f3f3f3}"
              "img{max-width:100%}code{background:#f3f3f3;padding:0 .2em}")


def _inline(text: str) -> str:
    """Text with its ``code`` spans as <code>, everything else escaped."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)) if len(parts) % 2 else \
        html.escape(text)


def _html_cell(text: str, anchor: str) -> str:
    inner = html.escape(text)
    return f'<a href="#{html.escape(anchor)}">{inner}</a>' if anchor and text not in ("", "-") else inner


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


class JSON(Writer):
    """The document as one JSON object: the header, every cell as a record, and the tables' notes."""

    name = "json"
    extension = "json"

    def render(self, doc: Document) -> str:
        out = {"header": {k: v.strip("`") for k, v in doc.header()}, "cells": records(doc),
               "notes": {t.title: t.note for t in doc.tables if t.note}}
        return json.dumps(out, indent=1, sort_keys=True, allow_nan=False) + "\n"


#: every format, by its ``--format`` name, in the order ``--help`` lists them
WRITERS: dict[str, type[Writer]] = {w.name: w for w in (Markdown, GitHub, Plain, MMTests, LaTeX, HTML, CSV, JSON,
                                                         Text)}
FORMATS = tuple(WRITERS)


def writer(name: str) -> Writer:
    """The writer of format ``name`` (one of ``FORMATS``)."""
    return WRITERS[name]()
