"""``benchframe plugins``: the loaded plugins, their distribution and version, hooks and registrations."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from benchframe.cli.options import add_plugin_option
from benchframe.output import Document, Table, writer
from benchframe.plugins import get_registry

if TYPE_CHECKING:
    import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe plugins`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("plugins", help="the loaded plugins: distribution, version, hooks, what they registered")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """A table of the plugins loaded, or (``--json``) a document with the errors too."""
    reg = get_registry(tuple(args.plugin))
    if args.json:
        doc = {"plugins": [{"name": p.name, "distribution": p.dist, "version": p.version, "module": p.module,
                            "hooks": p.hooks, "registered": p.registered} for p in reg.plugins],
               "errors": reg.errors}
        print(json.dumps(doc, indent=1, sort_keys=True))
        return 0
    rows = [[p.name, f"{p.dist} {p.version}".strip(), ", ".join(h.removeprefix("benchframe_") for h in p.hooks),
             "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(p.registered.items())) or "-"]
            for p in reg.plugins]
    table = Table("", ["plugin", "distribution", "hooks", "registered"], rows)
    print(writer("text").render(Document([table])), end="")
    return 0
