"""``benchframe list designs|workloads|profiles|metrics|configs``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.cli.options import add_format_option, add_plugin_option
from benchframe.kconfig import KERNELS
from benchframe.kconfig import OPTIONS as KCONFIG_OPTIONS
from benchframe.metrics import METRICS
from benchframe.output import Document, Table, writer
from benchframe.plugins import get_registry

if TYPE_CHECKING:
    import argparse

WHAT = ("designs", "workloads", "profiles", "metrics", "configs", "kernels")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe list`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("list", help="list registered designs, workloads, profiles, metrics, configs or kernels")
    p.add_argument("what", choices=list(WHAT), help="what to list")
    add_format_option(p, default="text")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """One table of what ``what`` names, in ``--format``."""
    reg = get_registry(tuple(args.plugin))
    headers: list[str]
    rows: list[tuple[str, ...]]
    if args.what == "designs":
        headers = ["design", "shape", "description"]
        rows = [(d.name, d.shape, d.description) for d in reg.designs.values()]
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
    elif args.what == "kernels":
        headers = ["kernel", "pcp", "high-order pcp", "bulk API", "what the allocator follows", "sources"]
        rows = [(k.name, k.pcp_lock, "yes" if k.pcp_high_order else "no",
                 "+".join(n for n, has in (("list", k.bulk_list_api), ("array", k.bulk_array_api)) if has) or "-",
                 k.description, k.source) for k in KERNELS.values()]
    else:
        headers = ["config", "effect"]
        rows = sorted(KCONFIG_OPTIONS.items())
    print(writer(args.format).render(Document([Table("", headers, [list(r) for r in rows])])), end="")
    return 0
