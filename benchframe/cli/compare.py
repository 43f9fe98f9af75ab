"""``benchframe compare``, the main job: every design on the standard studies over several seeds, their
re-entrancy verdicts, and the comparison report (tables, plots, ``results.json``) in ``--output``, written
whole: a reader of ``--output`` sees the previous report or the new one, never a mix."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.capture import choose_capture_kernel
from benchframe.cli.emit import LOG, add_metrics_option, narrowed_studies
from benchframe.cli.options import (
    Progress,
    add_config_option,
    add_designs_option,
    add_executor_options,
    add_format_option,
    add_kernel_option,
    add_plugin_option,
    add_profile_option,
    add_seeds_option,
    command_line,
    setup,
    split,
    split_designs,
)
from benchframe.io import OutputLock, atomic_dir, check_dir_target, report_dir, write_atomic
from benchframe.modelcheck import DRAWS, finish, plan
from benchframe.output import Document, writer
from benchframe.report.document import render_report
from benchframe.report.plots import is_report_file, timeline_png
from benchframe.results import CellFailure, ResultDocument, RunResult
from benchframe.run.session import execute, snapshot
from benchframe.run.studies import baseline_of, designs_of, select_studies, study_cells
from benchframe.run.timeline import timeline_cells, timeline_kernels, timeline_table, timeline_values
from benchframe.snapshot import model_check_json

if TYPE_CHECKING:
    import argparse

DEFAULT_SEEDS = "1,2,3"
#: --model-draws at most: each reruns every deterministic decision cell of every design
MAX_DRAWS = 1000


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe compare`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("compare", help="the main job: compare designs on the standard workloads, write a report",
                       description="Run every design on the standard studies over several seeds, explore each "
                       "design's re-entrancy, and write the comparison report, results.json and plots.")
    add_designs_option(p, default_help="all registered")
    p.add_argument("--workloads", "--workload", dest="workloads", action="append", metavar="NAMES",
                   help="workloads, comma-separated or repeated (default: the standard set)")
    p.add_argument("--baseline", metavar="DESIGN",
                   help="baseline design, one of --designs (default: single if compared, else the first)")
    add_metrics_option(p, "every metric of the studies; given, only the studies that show one are run")
    add_seeds_option(p, DEFAULT_SEEDS)
    add_profile_option(p)
    add_config_option(p)
    add_kernel_option(p)
    add_format_option(p)
    p.add_argument("--output", default=None, metavar="DIR",
                   help="report directory, replaced whole (default: reports/); with several --kernel versions, "
                   "where timeline.<format>, timeline.json and timeline.png go (default: printed only)")
    p.add_argument("--model-draws", type=int, default=DRAWS, metavar="N",
                   help="draws of the profile's fitted prices the deterministic decision cells are rerun at, for "
                        f"the model check's intervals (default {DRAWS}; 0: none)")
    add_executor_options(p)
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """Check everything, run every cell with the designs' verdicts alongside, and write the report directory
    whole (exit 1 if a cell failed: the report still comes out, with the failure in its notes)."""
    if "," in (args.kernel or ""):
        return timeline(args)
    command = command_line(args.argv)
    named, workloads, out_dir = split_designs(args.designs), split(args.workloads), Path(args.output or "reports")
    bed = setup(args, DEFAULT_SEEDS)
    reg = bed.registry()
    studies = narrowed_studies(select_studies(reg, workloads), args.metrics, reg)
    if studies and all(s.workload == "trace" for s in studies) and choose_capture_kernel(
            args, [p["file"] for s in studies for p in s.points()]):
        bed = setup(args, DEFAULT_SEEDS)  # on the captures' kernel
    designs = designs_of(reg, named, bed.testbed.kernel)
    baseline = baseline_of(designs, args.baseline, list(reg.designs))
    if not 0 <= args.model_draws <= MAX_DRAWS:
        raise BenchframeError(f"--model-draws {args.model_draws}: a number of draws from 0 to {MAX_DRAWS}")
    check_dir_target(out_dir)
    with OutputLock.beside(report_dir(out_dir), "--output"):  # a second compare into it fails naming this one
        cells = study_cells(studies, designs, list(bed.seeds), bed.testbed)
        LOG.info("%d studies, %d cells of %d design(s)", len(studies), len(cells), len(designs))
        checking = plan(reg, cells, reg.cost_model(bed.testbed.profile), args.model_draws)
        with Progress(len(cells) + len(checking.specs), "benchframe compare") as bar:
            done = execute(bed, cells + checking.specs, designs, bar.update)
        ours = done.outcomes[:len(cells)]
        runs = [r for r in ours if isinstance(r, RunResult)]
        failures = [f for f in ours if isinstance(f, CellFailure)]
        check = finish(reg, checking, done.outcomes[len(cells):])
        snap = snapshot(reg, runs, studies, designs, baseline, done.verdicts, command,
                        notes=[f"run failed: {f}" for f in failures], model_check=check)
        out = writer(args.format)
        text, pngs = render_report(snap, out, plots=True, jobs=bed.executor.local_jobs)
        document = ResultDocument.made(runs, bed.profile_name(), list(bed.testbed.config), command,
                                       bed.testbed.kernel, reg.versions(), done.verdicts, model_check_json(check),
                                       reg.cost_model(bed.testbed.profile).source)
        with atomic_dir(out_dir, is_report_file) as tmp:
            for name, png in pngs.items():
                write_atomic(tmp / name, png)
            write_atomic(tmp / "results.json", document.dumps())
            write_atomic(tmp / f"comparison.{out.extension}", text)
    print(f"benchframe: wrote {out_dir / f'comparison.{out.extension}'} ({len(runs)} runs, {len(pngs)} plots)")
    for f in failures:
        print(f"benchframe: run failed: {f}", file=sys.stderr)
    return 1 if failures else 0


def timeline(args: argparse.Namespace) -> int:
    """``compare --kernel A,B,...``: one design (``--designs``, default array) on each version, the timeline
    table (``benchframe.run.timeline``) printed and, with ``--output``, written with the runs."""
    kernels_text = args.kernel
    named = split_designs(args.designs) or ["array"]
    if len(named) != 1:
        raise BenchframeError(f"compare --kernel {kernels_text}: runs one design across versions; "
                              f"--designs names {len(named)}")
    args.kernel = kernels_text.split(",")[0].strip()
    bed = setup(args, "1")
    kernels = timeline_kernels(kernels_text, named[0], bed.registry())
    out_dir = Path(args.output) if args.output else None
    if out_dir is not None:
        check_dir_target(out_dir)
    cells = timeline_cells(bed.testbed, named[0], kernels, list(bed.seeds))
    with Progress(len(cells), "benchframe compare --kernel") as bar:
        done = execute(bed, cells, (), bar.update)
    out = writer(args.format)
    text = out.render(Document([timeline_table(named[0], kernels, done.runs)]))
    print(text, end="")
    if out_dir is not None:
        document = ResultDocument.made(done.runs, bed.profile_name(), list(bed.testbed.config),
                                       command_line(args.argv), kernels_text, bed.registry().versions(), {})
        with OutputLock.beside(report_dir(out_dir), "--output"):
            out_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(out_dir / "timeline.json", document.dumps(), "--output")
            write_atomic(out_dir / f"timeline.{out.extension}", text, "--output")
            png = timeline_png(named[0], kernels, timeline_values(kernels, done.runs))
            write_atomic(out_dir / "timeline.png", png, "--output")
    for f in done.failures:
        print(f"benchframe: run failed: {f}", file=sys.stderr)
    return 1 if done.failures else 0
