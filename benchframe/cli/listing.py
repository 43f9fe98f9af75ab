"""``benchframe list designs|workloads|profiles|metrics|configs|kernels``: a table in ``--format``, printed or
written to ``--output``; ``--designs`` narrows ``list designs``, ``--metrics`` narrows ``list metrics``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.emit import add_metrics_option, add_output_option, check_output, chosen, emit, render
from benchframe.cli.options import add_designs_option, add_format_option, add_plugin_option
from benchframe.kconfig import KERNELS
from benchframe.kconfig import OPTIONS as KCONFIG_OPTIONS
from benchframe.metrics import METRICS
from benchframe.output import Document, Table
from benchframe.plugins import get_registry

if TYPE_CHECKING:
    import argparse

WHAT = ("designs", "workloads", "profiles", "metrics", "configs", "kernels")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe list`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("list", help="list registered designs, workloads, profiles, metrics, configs or kernels")
    p.add_argument("what", choices=list(WHAT), help="what to list")
    add_designs_option(p, default_help="all registered; only with `list designs`")
    add_metrics_option(p, "all; only with `list metrics`")
    add_format_option(p, default="text")
    add_output_option(p, "the table")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """One table of what ``what`` names, in ``--format``, narrowed to ``--designs`` or ``--metrics``."""
    for option, what in (("designs", "designs"), ("metrics", "metrics")):
        if getattr(args, option) and args.what != what:
            raise BenchframeError(f"--{option}: narrows `list {what}`, not `list {args.what}`")
    check_output(args)
    reg = get_registry(tuple(args.plugin))
    headers: list[str]
    rows: list[tuple[str, ...]]
    if args.what == "designs":
        headers = ["design", "shape", "description"]
        names = chosen(args.designs, reg.designs, "--designs", "design") or list(reg.designs)
        rows = [(d.name, d.shape, d.description) for d in reg.designs.values() if d.name in names]
    elif args.what == "workloads":
        headers = ["workload", "parameters (defaults)", "description"]
        rows = [(w.name, ", ".join(f"{p.name}={p.default}" for p in w.params), w.description)
                for w in reg.workloads.values()]
    elif args.what == "profiles":
        headers = ["profile", "description", "file"]
        rows = [(p.name, p.description, p.path) for p in reg.profiles.values()]
    elif args.what == "metrics":
        headers = ["metric", "unit", "better", "definition"]
        rows = [(m.name, m.unit, m.better, m.definition) for m in METRICS.values()]
        for w in reg.workloads.values():
            rows += [(n, u, b, f"[{w.name}] {d}") for n, (u, b, d) in w.metrics.items()]
        metrics = chosen(args.metrics, dict.fromkeys(r[0] for r in rows), "--metrics", "metric")
        rows = [r for r in rows if metrics is None or r[0] in metrics]
    elif args.what == "kernels":
        headers = ["kernel", "pcp", "high-order pcp", "pcp->high", "bulk API", "what the allocator follows",
                   "sources"]
        rows = [(k.name, k.pcp_lock, "yes" if k.pcp_high_order else "no",
                 "auto-tuned" if k.pcp_high_autotune else "fixed",
                 "+".join(n for n, has in (("list", k.bulk_list_api), ("array", k.bulk_array_api)) if has) or "-",
                 k.description, k.source) for k in KERNELS.values()]
    else:
        headers = ["config", "effect"]
        rows = sorted(KCONFIG_OPTIONS.items())
    emit(args, render(args, Document([Table("", headers, [list(r) for r in rows])])))
    return 0
