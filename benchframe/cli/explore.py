"""``benchframe explore``: systematic exploration of a design against interrupts, preemption and another CPU
(exit 1 for an UNSAFE verdict the design does not declare)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.cli.emit import LOG, add_output_option, check_output, emit, render
from benchframe.cli.options import (
    Progress,
    add_config_option,
    add_designs_option,
    add_format_option,
    add_kernel_option,
    add_plugin_option,
    kernel_arg,
    split_designs,
)
from benchframe.explore import CONTEXTS, explore
from benchframe.io import check_target, dumps, write_atomic
from benchframe.output import Document, Section, Table
from benchframe.output.writers import fit_lines
from benchframe.plugins import get_registry

if TYPE_CHECKING:
    import argparse

    from benchframe.explore.result import ExploreResult
    from benchframe.output.document import Block


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe explore`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("explore", help="systematic exploration of a design against interrupts, preemption and "
                                       "another CPU (exit 1 for an UNSAFE verdict the design does not declare)")
    add_designs_option(p, required=True)
    p.add_argument("--context", choices=[*CONTEXTS, "all"], default="all",
                   help="irq, nmi, smp (another CPU), preempt (preemption and migration), or all (default)")
    add_config_option(p)
    add_kernel_option(p)
    p.add_argument("--first", action="store_true",
                   help="stop at the first interleaving that breaks a design (the verdict the reports show); "
                        "default: every operation and adversary that breaks it")
    p.add_argument("--json", metavar="PATH", help="write the verdicts and interleavings as JSON")
    add_format_option(p, None, "each verdict with its interleavings as text, printed as it is found")
    add_output_option(p, "the verdicts")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """Explore each design against each context, print the verdicts, what they covered and the interleavings;
    exit 1 for an UNSAFE verdict the design does not declare."""
    reg = get_registry(tuple(args.plugin))
    contexts = list(CONTEXTS) if args.context == "all" else [args.context]
    designs = split_designs(args.designs)
    for d in designs:
        reg.design_spec(d)  # every name checked before any exploration
    if args.json:
        check_target(args.json, "--json")
    check_output(args)
    results = []
    as_found = args.format is None and not args.output  # printed as each is found, as explore always has
    with Progress(len(designs) * len(contexts), "benchframe explore", unit="exploration") as bar:
        for d in designs:
            for c in contexts:
                LOG.info("exploring %s against %s", d, c)
                results.append(explore(d, c, reg, tuple(args.config or ()), kernel_arg(args), first_only=args.first))
                if as_found:
                    print(fit_lines(results[-1].render()), flush=True)  # a mail's width
                if bar.update:
                    bar.update(1)
    if args.format is None and args.output:
        emit(args, "".join(fit_lines(r.render()) + "\n" for r in results))
    elif args.format is not None:
        emit(args, render(args, document(results)))
    if args.json:
        write_atomic(args.json, dumps([r.as_dict() for r in results]), "--json")
    return 0 if all(r.accepted for r in results) else 1


def document(results: list[ExploreResult]) -> Document:
    """The verdicts as a table (a row per design and context), then each one's interleavings and coverage."""
    rows = [[r.design, r.context, r.verdict, str(r.explored_points), str(r.runs),
             r.stance if r.verdict == "UNSAFE" else "-", r.reason or "-"] for r in results]
    blocks: list[Block] = [Table("verdicts", ["design", "context", "verdict", "interleavings", "runs", "declared",
                                              "reason"], rows)]
    for r in results:
        first, *rest = r.render().splitlines()
        blocks.append(Section(first, [line.strip() for line in rest]))
    return Document(blocks)
