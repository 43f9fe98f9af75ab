"""A whole, self-contained HTML document (``html``)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from benchframe.output.document import Document, Preamble, Table
from benchframe.output.writers.base import Writer


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
