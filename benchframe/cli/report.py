"""``benchframe report``: the comparison tables (and plots) from saved results, without re-running."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.emit import LOG, add_metrics_option, chosen, narrowed_studies
from benchframe.cli.options import add_designs_option, add_format_option, add_plugin_option, setup, warn
from benchframe.io import OutputLock, atomic_dir, check_dir_target, report_dir, write_atomic
from benchframe.modelcheck import TOLERANCE, unchecked
from benchframe.output import writer
from benchframe.report.document import render_report
from benchframe.report.plots import is_report_file
from benchframe.run.session import design_order, saved_verdicts, snapshot
from benchframe.run.studies import baseline_of, studies_from_runs
from benchframe.saved import Loaded, load_results
from benchframe.snapshot import ModelCheck, model_check_from_json

if TYPE_CHECKING:
    import argparse

    from benchframe.records import Study
    from benchframe.registry import Registry
    from benchframe.run.setup import Setup


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe report`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("report", help="render comparison tables from saved results without re-running")
    p.add_argument("results", nargs="+", metavar="RESULT.json|DIR",
                   help="result documents (run --json, a compare's results.json) or sweep directories")
    p.add_argument("--baseline", metavar="DESIGN",
                   help="baseline design, one with runs in the results (default: single if there, else the first)")
    add_designs_option(p, default_help="every design with runs in the results")
    add_metrics_option(p, "every metric the studies show")
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
    print the report or write it with its plots into ``--output`` (locked while this command runs: a second
    command writing there fails naming this one)."""
    bed = setup(args)
    loaded = load_results(args.results)
    if not loaded.runs:
        raise BenchframeError("no runs in the given result files")
    for line in loaded.warnings:
        warn(line)
    reg = bed.registry()
    designs = chosen(args.designs, reg.designs, "--designs", "design")
    if designs is not None:
        missing = [d for d in designs if d not in {r.design for r in loaded.runs}]
        if missing:
            raise BenchframeError(f"--designs: no runs of {', '.join(missing)} in the given results")
        kept = [i for i, r in enumerate(loaded.runs) if r.design in designs]
        loaded = replace(loaded, runs=[loaded.runs[i] for i in kept],
                         origins=[loaded.origins[i] for i in kept] if loaded.origins else [])
    studies = narrowed_studies(studies_from_runs(loaded.runs, reg), args.metrics, reg)
    LOG.info("%d runs of %d design(s), %d studies", len(loaded.runs), len({r.design for r in loaded.runs}),
             len(studies))
    order = design_order(reg, loaded.runs)
    baseline = baseline_of(order, args.baseline, among="the designs with runs in the results")
    out_dir = Path(args.output) if args.output else None
    if out_dir is None:
        print(_render(args, bed, loaded, studies, order, baseline, plots=False)[0])
        return 0
    check_dir_target(out_dir)
    with OutputLock.beside(report_dir(out_dir), "--output"):
        text, pngs = _render(args, bed, loaded, studies, order, baseline, plots=True)
        path = out_dir / f"report.{writer(args.format).extension}"
        with atomic_dir(out_dir, is_report_file) as tmp:
            for name, png in pngs.items():
                write_atomic(tmp / name, png)
            write_atomic(tmp / path.name, text)
    print(f"benchframe: wrote {path}")
    return 0


def _render(args: argparse.Namespace, bed: Setup, loaded: Loaded, studies: list[Study], order: list[str],
            baseline: str, plots: bool) -> tuple[str, dict[str, bytes]]:
    """The report of the loaded runs in ``--format``, with its plots if asked."""
    reg = bed.registry()
    snap = snapshot(reg, loaded.runs, studies, order, baseline,
                    saved_verdicts(bed, order, loaded.verdicts),
                    "benchframe report " + " ".join(map(shlex.quote, args.results)), loaded.sources,
                    model_check=saved_check(reg, loaded.model_check))
    return render_report(snap, writer(args.format), plots=plots, jobs=bed.executor.local_jobs)
