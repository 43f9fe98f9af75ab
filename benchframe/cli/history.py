"""``benchframe history``: asv results as a table per benchmark and machine across commits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.emit import add_metrics_option, add_output_option, check_output, chosen, emit, render
from benchframe.cli.options import add_designs_option, add_format_option, add_plugin_option
from benchframe.plugins import get_registry
from benchframe.report.history import history_document, load_asv_history

if TYPE_CHECKING:
    import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe history`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("history", help="asv results as a table per benchmark and machine across commits",
                       description="The asv results (read through asv's API) as one table per benchmark, "
                       "parameter set and machine; by default only those that changed beyond --factor.")
    p.add_argument("--results", default="benchmarks/history", metavar="DIR",
                   help="asv results directory (default benchmarks/history: asv.conf.json's, in git)")
    p.add_argument("--factor", type=float, default=1.1, help="flag changes beyond this factor (default 1.1)")
    p.add_argument("--all", action="store_true", dest="show_all",
                   help="every series, not only those with a change beyond --factor")
    p.add_argument("--benchmark", metavar="SUBSTRING", help="only benchmarks whose name contains this")
    add_designs_option(p, default_help="every series; given, only benchmarks with a design parameter")
    add_metrics_option(p, "every series; a metric is what a track_ benchmark is named after")
    add_format_option(p)
    add_output_option(p, "the tables")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """The series of asv's results (narrowed to ``--designs`` and ``--metrics``), in ``--format``, printed or
    written to ``--output``."""
    if args.factor <= 1.0:
        raise BenchframeError(f"--factor must be greater than 1, not {args.factor}")
    check_output(args)
    designs = chosen(args.designs, get_registry(tuple(args.plugin)).designs, "--designs", "design")
    series = load_asv_history(Path(args.results))
    if not series:
        raise BenchframeError(f"--results {args.results}: no benchmark results found")
    tracked = dict.fromkeys(sorted({s.metric for s in series}))
    metrics = chosen(args.metrics, tracked, "--metrics", "tracked metric")
    doc = history_document(series, args.factor, args.benchmark, args.show_all, designs, metrics)
    emit(args, render(args, doc))
    return 0
