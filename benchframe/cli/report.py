"""``benchframe report``: the comparison tables (and plots) from saved results, without re-running."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.compare import local_jobs, plugin_versions
from benchframe.cli.options import add_format_option, add_plugin_option
from benchframe.explore.verdicts import design_verdicts, verdicts_from_json
from benchframe.io import atomic_dir, check_dir_target, write_atomic
from benchframe.plugins import get_registry
from benchframe.report.document import render_report, report_header
from benchframe.report.load import load_runs
from benchframe.report.plots import is_report_file
from benchframe.report.studies import studies_from_runs
from benchframe.report.tables import EXTENSIONS, FORMATS

if TYPE_CHECKING:
    import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render comparison tables from saved results without re-running")
    p.add_argument("results", nargs="+", metavar="RESULT.json|DIR",
                   help="result documents (run --json, a compare's results.json) or sweep directories")
    p.add_argument("--baseline", default="single", help="baseline design (default: single, else the first)")
    add_format_option(p, FORMATS)
    p.add_argument("--output", metavar="DIR", help="write report.<ext> and plots here (replaced whole) instead "
                   "of printing the report")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    reg = get_registry(tuple(args.plugin))
    loaded = load_runs(args.results)
    runs = loaded.runs
    if not runs:
        raise BenchframeError("no runs in the given result files")
    present = list(dict.fromkeys(r["design"] for r in runs))
    order = [d for d in reg.designs if d in present] + [d for d in present if d not in reg.designs]
    baseline = args.baseline if args.baseline in order else order[0]
    if args.baseline and args.baseline not in order and args.baseline != "single":
        raise BenchframeError(f"--baseline {args.baseline!r} has no runs in the results")
    out_dir = Path(args.output) if args.output else None
    if out_dir:
        check_dir_target(out_dir)
    header = report_header(runs, "benchframe report " + " ".join(map(shlex.quote, args.results)),
                           plugin_versions(reg), loaded.sources)
    # verdicts saved with the results; a design without them (run --json of an older benchframe) is explored
    # on the current model (once: they are cached)
    verdicts = verdicts_from_json(loaded.verdicts)
    missing = [d for d in order if d not in verdicts and _registered(reg, d)]
    verdicts.update(design_verdicts(missing, reg, plugins=tuple(args.plugin), jobs=local_jobs(args)))
    verdicts = {d: verdicts[d] for d in order if d in verdicts}
    if out_dir is None:
        text, _ = render_report(runs, studies_from_runs(runs, reg), order, baseline, args.format, None, header,
                                reg, [], verdicts)
        print(text)
        return 0
    path = out_dir / f"report.{EXTENSIONS[args.format]}"
    with atomic_dir(out_dir, is_report_file) as tmp:
        text, _ = render_report(runs, studies_from_runs(runs, reg), order, baseline, args.format, tmp, header,
                                reg, [], verdicts, local_jobs(args))
        write_atomic(tmp / path.name, text)
    print(f"benchframe: wrote {path}")
    return 0


def _registered(reg, design: str) -> bool:
    try:
        reg.design_spec(design)
    except BenchframeError:
        return False
    return True
