"""``benchframe explore``: systematic re-entrancy exploration of a design (exit 1 if UNSAFE)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.cli.options import (
    add_config_option,
    add_designs_option,
    add_kernel_option,
    add_plugin_option,
    split_designs,
)
from benchframe.explore import CONTEXTS, explore
from benchframe.io import check_target, dumps, write_atomic
from benchframe.output.writers import fit_lines
from benchframe.plugins import get_registry

if TYPE_CHECKING:
    import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe explore`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("explore", help="systematic re-entrancy exploration of a design (exit 1 if UNSAFE)")
    add_designs_option(p, required=True)
    p.add_argument("--context", choices=list(CONTEXTS), help="interrupt context (default: both)")
    add_config_option(p)
    add_kernel_option(p)
    p.add_argument("--json", metavar="PATH", help="write the verdicts and interleavings as JSON")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """Explore each design against each context, print the interleavings; exit 1 if one is UNSAFE."""
    reg = get_registry(tuple(args.plugin))
    contexts = [args.context] if args.context else list(CONTEXTS)
    if args.json:
        check_target(args.json, "--json")
    results = [explore(d, c, reg, tuple(args.config or ()), args.kernel) for d in split_designs(args.designs)
               for c in contexts]
    for r in results:
        print(fit_lines(r.render()))  # a mail's width
    if args.json:
        write_atomic(args.json, dumps([r.__dict__ for r in results]))
    return 1 if any(r.verdict == "UNSAFE" for r in results) else 0
