"""``benchframe compare``, the main job: every design on the standard studies over several seeds, their
re-entrancy verdicts, and the comparison report (tables, plots, ``results.json``) in ``--output``, written
whole: a reader of ``--output`` sees the previous report or the new one, never a mix."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
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
    check_executor_args,
    parse_seeds,
    split,
    split_designs,
    tls_files,
)
from benchframe.explore.verdicts import PendingVerdicts, verdicts_as_json
from benchframe.io import atomic_dir, check_dir_target, dumps, result_document, write_atomic
from benchframe.kconfig import KernelConfig
from benchframe.plugins import get_registry
from benchframe.report.document import render_report, report_header
from benchframe.report.plots import is_report_file
from benchframe.report.studies import build_specs, select_studies
from benchframe.report.tables import EXTENSIONS, FORMATS
from benchframe.run.executors import run_specs

if TYPE_CHECKING:
    import argparse

    from benchframe.registry import Registry

DEFAULT_SEEDS = "1,2,3"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="the main job: compare designs on the standard workloads, write a report",
                       description="Run every design on the standard studies over several seeds, explore each "
                       "design's re-entrancy, and write the comparison report, results.json and plots.")
    add_designs_option(p, default_help="all registered")
    p.add_argument("--workloads", "--workload", dest="workloads", action="append", metavar="NAMES",
                   help="workloads, comma-separated or repeated (default: the standard set)")
    p.add_argument("--baseline", default="single", help="baseline design (default: single)")
    add_seeds_option(p, DEFAULT_SEEDS)
    add_profile_option(p)
    add_config_option(p)
    add_kernel_option(p)
    add_format_option(p, FORMATS)
    p.add_argument("--output", default="reports", metavar="DIR",
                   help="report directory, replaced whole (default: reports/)")
    add_executor_options(p)
    add_plugin_option(p)


def command_line(argv: list[str] | None) -> str:
    return "benchframe " + " ".join(shlex.quote(a) for a in (argv or []))


def local_jobs(args: argparse.Namespace) -> int:
    """Local processes for the work besides the cells (uncached verdicts, the plots): ``--jobs`` (default: the
    cores), one with the serial executor."""
    if getattr(args, "executor", "process") == "serial":
        return 1
    return getattr(args, "jobs", 0) or os.cpu_count() or 1


def plugin_versions(reg: Registry) -> dict[str, str]:
    """The version of every plugin distribution loaded (benchframe's own included)."""
    return {p.dist: p.version for p in reg.plugins}


def main(args: argparse.Namespace) -> int:
    plugins = tuple(args.plugin)
    reg = get_registry(plugins)
    designs = split_designs(args.designs) or list(reg.designs)
    for d in designs:
        reg.design_spec(d)
    baseline = args.baseline
    if baseline not in designs:
        if args.designs and baseline == "single":
            baseline = designs[0]
        else:
            raise BenchframeError(f"--baseline {baseline!r} is not among the designs ({', '.join(designs)})")
    seeds = parse_seeds(args.seeds, DEFAULT_SEEDS)
    kconfig = KernelConfig.parse(args.config, args.kernel)
    config = kconfig.as_list()
    kernel = kconfig.version.name
    costs = reg.cost_model(args.profile)
    check_executor_args(args)
    studies, notes = select_studies(reg, split(args.workloads))
    cells = build_specs(studies, designs, seeds, args.profile, config, plugins, kernel)
    for study in studies:  # bad parameter values (a trace file too) fail before anything runs or is written
        for params in study.points():
            reg.workload(study.workload).resolve_params(params)
    out_dir = Path(args.output)
    check_dir_target(out_dir)
    # the verdicts not cached are explored on their own processes while the cells run
    with PendingVerdicts(designs, reg, tuple(config), kernel, plugins, local_jobs(args),
                         args.cell_timeout) as pending:
        with Progress(len(cells), "benchframe compare") as bar:
            results = run_specs([spec for _, spec in cells], args.jobs or None, args.executor, args.scheduler,
                                bar.update, timeout=args.cell_timeout, tls=tls_files(args))
        verdicts = pending.result()
    errors = [r for r in results if isinstance(r, str)]
    runs = [r for r in results if not isinstance(r, str)]
    command = command_line(args.argv)
    versions = plugin_versions(reg)
    header = report_header(runs, command, versions)
    ext = EXTENSIONS[args.format]
    with atomic_dir(out_dir, is_report_file) as tmp:
        text, pngs = render_report(runs, studies, designs, baseline, args.format, tmp, header, reg,
                                   notes + [f"run failed: {e}" for e in errors], verdicts, local_jobs(args))
        write_atomic(tmp / "results.json", dumps(result_document(runs, costs.name, config, command, kernel,
                                                                 versions, verdicts_as_json(verdicts))))
        write_atomic(tmp / f"comparison.{ext}", text)
    print(f"benchframe: wrote {out_dir / f'comparison.{ext}'} ({len(runs)} runs, {len(pngs)} plots)")
    for e in errors:
        print(f"benchframe: run failed: {e}", file=sys.stderr)
    return 1 if errors else 0
