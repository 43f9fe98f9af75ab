"""``benchframe report``: the comparison tables (and plots) from saved results, without re-running."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.options import add_format_option, add_plugin_option, setup
from benchframe.io import atomic_dir, check_dir_target, write_atomic
from benchframe.modelcheck import TOLERANCE, unchecked
from benchframe.output import writer
from benchframe.report.document import render_report
from benchframe.report.plots import is_report_file
from benchframe.results import load_results
from benchframe.run.session import design_order, saved_verdicts, snapshot
from benchframe.run.studies import baseline_of, studies_from_runs
from benchframe.snapshot import ModelCheck, model_check_from_json

if TYPE_CHECKING:
    import argparse

    from benchframe.registry import Registry


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe report`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("report", help="render comparison tables from saved results without re-running")
    p.add_argument("results", nargs="+", metavar="RESULT.json|DIR",
                   help="result documents (run --json, a compare's results.json) or sweep directories")
    p.add_argument("--baseline", metavar="DESIGN",
                   help="baseline design, one with runs in the results (default: single if there, else the first)")
    add_format_option(p)
    p.add_argument("--output", metavar="DIR", help="write report.<ext> and plots here (replaced whole) instead "
                   "of printing the report")
    add_plugin_option(p)


def saved_check(reg: Registry, saved: object) -> ModelCheck:
    """The model check saved with the results (compare's), else what the shipped measurements cover, without
    their errors (which take simulating them: ``benchframe validate``)."""
    check = model_check_from_json(saved)
    if check is not None:
        return check
    files, designs, workloads = unchecked(reg)
    return ModelCheck("", TOLERANCE, tuple(files), tuple(designs), tuple(workloads))


def main(args: argparse.Namespace) -> int:
    """Load the results, take the verdicts they carry (exploring those of designs saved without them), and
    print the report or write it with its plots into ``--output``."""
    bed = setup(args)
    loaded = load_results(args.results)
    if not loaded.runs:
        raise BenchframeError("no runs in the given result files")
    reg = bed.registry()
    order = design_order(reg, loaded.runs)
    baseline = baseline_of(order, args.baseline, among="the designs with runs in the results")
    out_dir = Path(args.output) if args.output else None
    if out_dir:
        check_dir_target(out_dir)
    snap = snapshot(reg, loaded.runs, studies_from_runs(loaded.runs, reg), order, baseline,
                    saved_verdicts(bed, order, loaded.verdicts),
                    "benchframe report " + " ".join(map(shlex.quote, args.results)), loaded.sources,
                    model_check=saved_check(reg, loaded.model_check))
    out = writer(args.format)
    text, pngs = render_report(snap, out, plots=out_dir is not None, jobs=bed.executor.local_jobs)
    if out_dir is None:
        print(text)
        return 0
    path = out_dir / f"report.{out.extension}"
    with atomic_dir(out_dir, is_report_file) as tmp:
        for name, png in pngs.items():
            write_atomic(tmp / name, png)
        write_atomic(tmp / path.name, text)
    print(f"benchframe: wrote {path}")
    return 0
