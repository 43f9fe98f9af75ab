"""``benchframe history``: two recorded commits compared as ``asv compare`` does (default), or one series per
parameter set across every commit (``--series``); one section per machine and environment."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.emit import add_metrics_option, add_output_option, check_output, chosen, emit, render
from benchframe.cli.options import add_designs_option, add_format_option, add_plugin_option
from benchframe.plugins import get_registry
from benchframe.report.history import Series, load_asv_history, narrow, series_document
from benchframe.report.history_compare import compare_document

if TYPE_CHECKING:
    import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe history`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("history", help="asv results of two commits compared, as asv compare (or --series)",
                       description="The asv results (read through asv's API) of two recorded commits compared "
                       "as `asv compare` prints them: one section per machine and environment, one table per "
                       "benchmark, before / after / ratio / change (+ grew, - shrank beyond --factor), by "
                       "default only the parameter sets that changed. --series: every commit, one table per "
                       "parameter set.")
    p.add_argument("--results", default="benchmarks/history", metavar="DIR",
                   help="asv results directory (default benchmarks/history: asv.conf.json's, in git)")
    p.add_argument("--from", dest="before", metavar="COMMIT",
                   help="the commit compared from (a recorded hash or its prefix; default the one before --to)")
    p.add_argument("--to", dest="after", metavar="COMMIT",
                   help="the commit compared to (a recorded hash or its prefix; default the newest recorded)")
    p.add_argument("--series", action="store_true",
                   help="every recorded commit, one table per benchmark and parameter set (a trend)")
    p.add_argument("--machine", metavar="NAME", help="only this machine's results (default each in its section)")
    p.add_argument("--env", metavar="NAME", help="only this asv environment's (default each in its section)")
    p.add_argument("--factor", type=float, default=1.1, help="flag changes beyond this factor (default 1.1)")
    p.add_argument("--all", action="store_true", dest="show_all",
                   help="every parameter set (series), not only those with a change beyond --factor")
    p.add_argument("--benchmark", metavar="SUBSTRING", help="only benchmarks whose name contains this")
    add_designs_option(p, default_help="every series; given, only benchmarks with a design parameter")
    add_metrics_option(p, "every series; a metric is what a track_ benchmark is named after")
    add_format_option(p)
    add_output_option(p, "the tables")
    add_plugin_option(p)


def _where(series: list[Series], value: str | None, option: str, of: str) -> list[Series]:
    """The series of one machine or environment (``--machine``/``--env``); one line naming the known ones."""
    if value is None:
        return series
    known = sorted({getattr(s, of) for s in series})
    if value not in known:
        raise BenchframeError(f"{option} {value}: no results recorded there (recorded: {', '.join(known)})")
    return [s for s in series if getattr(s, of) == value]


def main(args: argparse.Namespace) -> int:
    """Two commits of asv's results compared (or ``--series``), narrowed to ``--designs``, ``--metrics``,
    ``--machine`` and ``--env``, in ``--format``, printed or written to ``--output``."""
    if args.factor <= 1.0:
        raise BenchframeError(f"--factor must be greater than 1, not {args.factor}")
    if args.series and (args.before or args.after):
        raise BenchframeError("--series shows every commit: --from/--to compare two, give one or the other")
    check_output(args)
    designs = chosen(args.designs, get_registry(tuple(args.plugin)).designs, "--designs", "design")
    series = load_asv_history(Path(args.results))
    if not series:
        raise BenchframeError(f"--results {args.results}: no benchmark results found")
    tracked = dict.fromkeys(sorted({s.metric for s in series}))
    metrics = chosen(args.metrics, tracked, "--metrics", "tracked metric")
    series = _where(_where(series, args.machine, "--machine", "machine"), args.env, "--env", "env")
    series = narrow(series, args.benchmark, designs, metrics)
    if args.series:
        doc = series_document(series, args.factor, args.show_all)
    else:
        doc = compare_document(series, args.factor, args.show_all, args.before, args.after)
    emit(args, render(args, doc))
    return 0
