"""``benchframe history``: asv results as a table per benchmark across commits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.options import add_plugin_option
from benchframe.report.history import load_asv_history, render_history

if TYPE_CHECKING:
    import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="asv results as a table per benchmark across commits")
    p.add_argument("--results", default=".asv/results", metavar="DIR", help="asv results directory (default .asv/results)")
    p.add_argument("--factor", type=float, default=1.1, help="flag changes beyond this factor (default 1.1)")
    p.add_argument("--benchmark", metavar="SUBSTRING", help="only benchmarks whose name contains this")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    series = load_asv_history(Path(args.results))
    if not series:
        raise BenchframeError(f"--results {args.results}: no benchmark results found")
    if args.factor <= 1.0:
        raise BenchframeError(f"--factor must be greater than 1, not {args.factor}")
    print(render_history(series, args.factor, args.benchmark))
    return 0
