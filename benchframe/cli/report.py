"""``benchframe report``: the comparison tables (and plots) from saved results, without re-running."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.options import add_plugin_option, check_output_dir
from benchframe.io import write_atomic
from benchframe.plugins import get_registry
from benchframe.report.document import render_report, report_header
from benchframe.report.load import load_runs
from benchframe.report.studies import studies_from_runs
from benchframe.report.tables import EXTENSIONS, FORMATS

if TYPE_CHECKING:
    import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render comparison tables from saved results without re-running")
    p.add_argument("results", nargs="+", metavar="RESULT.json|DIR")
    p.add_argument("--baseline", default="single")
    p.add_argument("--format", choices=list(FORMATS), default="md")
    p.add_argument("--output", metavar="DIR", help="write report.<ext> and plots here instead of stdout")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    reg = get_registry(tuple(args.plugin))
    runs, config, profile = load_runs(args.results)
    if not runs:
        raise BenchframeError("no runs in the given result files")
    present = list(dict.fromkeys(r["design"] for r in runs))
    order = [d for d in reg.designs if d in present] + [d for d in present if d not in reg.designs]
    baseline = args.baseline if args.baseline in order else order[0]
    if args.baseline and args.baseline not in order and args.baseline != "single":
        raise BenchframeError(f"--baseline {args.baseline!r} has no runs in the results")
    seeds = sorted({r.get("seed", 0) for r in runs})
    header = report_header(profile, config, seeds, "benchframe report " + " ".join(map(shlex.quote, args.results)))
    out_dir = Path(args.output) if args.output else None
    if out_dir:
        check_output_dir(out_dir)
    text, _ = render_report(runs, studies_from_runs(runs, reg), order, baseline, args.format, out_dir, header,
                            reg, ["re-entrancy verdicts are not part of run results: "
                                  "`benchframe explore --design NAME` (or `benchframe compare`) computes them"])
    if out_dir:
        path = out_dir / f"report.{EXTENSIONS[args.format]}"
        write_atomic(path, text)
        print(f"benchframe: wrote {path}")
    else:
        print(text)
    return 0
