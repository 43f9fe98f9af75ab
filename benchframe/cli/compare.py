"""``benchframe compare``, the main job: every design on the standard studies over several seeds, their
re-entrancy verdicts, and the comparison report (tables, plots, ``results.json``) in ``--output``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.options import (
    Progress,
    add_executor_options,
    add_kernel_option,
    add_plugin_option,
    check_executor_args,
    check_output_dir,
    split,
    split_designs,
    tls_files,
)
from benchframe.explore import CONTEXTS, explore
from benchframe.io import dumps, result_document, write_atomic
from benchframe.kconfig import KernelConfig
from benchframe.plugins import get_registry
from benchframe.report.document import Verdicts, render_report, report_header
from benchframe.report.studies import build_specs, select_studies
from benchframe.report.tables import EXTENSIONS, FORMATS
from benchframe.run.executors import run_specs
from benchframe.run.spec import MAX_SEEDS

if TYPE_CHECKING:
    import argparse

    from benchframe.registry import Registry


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="the main job: compare designs on the standard workloads, write a report")
    p.add_argument("--designs", action="append", metavar="NAMES", help="designs (default: all registered)")
    p.add_argument("--workloads", action="append", metavar="NAMES", help="workloads (default: the standard set)")
    p.add_argument("--baseline", default="single", help="baseline design (default: single)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per cell (default: 3)")
    p.add_argument("--profile", metavar="NAME_OR_FILE")
    p.add_argument("--config", action="append", metavar="OPTION")
    add_kernel_option(p)
    p.add_argument("--format", choices=list(FORMATS), default="md")
    p.add_argument("--output", default="reports", metavar="DIR", help="output directory (default: reports/)")
    add_executor_options(p)
    add_plugin_option(p)


def verdicts(designs: list[str], reg: Registry, kernel: str | None = None) -> Verdicts:
    """Every design's ``explore`` verdicts against an IRQ and an NMI (an error is kept as its line)."""
    out: Verdicts = {}
    for name in designs:
        row: list = []
        for context in CONTEXTS:
            try:
                row.append(explore(name, context, registry=reg, kernel=kernel))
            except BenchframeError as exc:
                row.append(str(exc))
        out[name] = row
    return out


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
    if args.seeds < 1:
        raise BenchframeError(f"--seeds must be at least 1, not {args.seeds}")
    if args.seeds > MAX_SEEDS:
        raise BenchframeError(f"--seeds {args.seeds} is over its bound of {MAX_SEEDS}")
    kconfig = KernelConfig.parse(args.config, args.kernel)
    config = kconfig.as_list()
    kernel = kconfig.version.name
    costs = reg.cost_model(args.profile)
    check_executor_args(args)
    out_dir = Path(args.output)
    check_output_dir(out_dir)
    studies, notes = select_studies(reg, split(args.workloads))
    seeds = list(range(1, args.seeds + 1))
    cells = build_specs(studies, designs, seeds, args.profile, config, plugins, kernel)
    for study in studies:  # bad parameter values fail before anything runs
        for params in study.points():
            reg.workload(study.workload).resolve_params(params)
    with Progress(len(cells), "benchframe compare") as bar:
        results = run_specs([spec for _, spec in cells], args.jobs or None, args.executor, args.scheduler,
                            bar.update, timeout=args.cell_timeout, tls=tls_files(args))
    errors = [r for r in results if isinstance(r, str)]
    runs = [r for r in results if not isinstance(r, str)]
    command = "benchframe " + " ".join(shlex.quote(a) for a in (args.argv or []))
    header = report_header(costs.name, config, seeds, command, kernel)
    text, pngs = render_report(runs, studies, designs, baseline, args.format, out_dir, header, reg,
                               notes + [f"run failed: {e}" for e in errors], verdicts(designs, reg, kernel))
    ext = EXTENSIONS[args.format]
    write_atomic(out_dir / "results.json", dumps(result_document(runs, costs.name, config, command, kernel)))
    write_atomic(out_dir / f"comparison.{ext}", text)
    print(f"benchframe: wrote {out_dir / f'comparison.{ext}'} ({len(runs)} runs, {len(pngs)} plots)")
    for e in errors:
        print(f"benchframe: run failed: {e}", file=sys.stderr)
    return 1 if errors else 0
