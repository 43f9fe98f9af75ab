"""``benchframe new-plugin NAME [--from DESIGN] [--dir PATH]``: scaffold an installable design plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.cli.options import add_plugin_option
from benchframe.scaffold import scaffold

if TYPE_CHECKING:
    import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe new-plugin`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("new-plugin", help="scaffold an installable design plugin package")
    p.add_argument("name", help="design name (a Python identifier)")
    p.add_argument("--from", dest="from_design", default="array", metavar="DESIGN",
                   help="built-in design to derive from (default: array)")
    p.add_argument("--dir", default=".", metavar="PATH", help="where to create NAME/ (default: .)")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """Write the plugin package and say how to install and test it."""
    path = scaffold(args.name, args.from_design, args.dir, tuple(args.plugin))
    print(f"benchframe: created {path}/ (design {args.name}, derived from {args.from_design}); next:\n"
          f"  pip install -e '{path}[test]' && benchframe plugins && python -m pytest {path}/tests\n"
          f"  then edit {path}/benchframe_{args.name}/__init__.py (see {path}/README.md)")
    return 0
