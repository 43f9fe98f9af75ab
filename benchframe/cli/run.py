"""``benchframe run``: designs x one workload x parameter grid x seeds; a table, and a JSON result document."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from contextlib import nullcontext
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.capture import choose_capture_kernel
from benchframe.cli.emit import LOG, add_metrics_option, add_output_option, check_output, emit, render
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
    param_grid,
    parse_params,
    setup,
    split,
    split_designs,
    warn,
)
from benchframe.io import OutputLock, check_target, replaced_by, write_atomic
from benchframe.metrics import metric
from benchframe.output import Document, Note, Table, writer
from benchframe.output.writers import PLAIN_WIDTH
from benchframe.results import ResultDocument
from benchframe.run.session import execute
from benchframe.run.spec import MAX_CELLS, RunSpec
from benchframe.run.studies import check_design_kernel
from benchframe.verdict import DISQUALIFYING_TEXT, UNSAFE_MARK, marked, unsafe

if TYPE_CHECKING:
    import argparse

    from benchframe.output.document import Block
    from benchframe.records import Workload
    from benchframe.registry import Registry
    from benchframe.run.session import Executed
    from benchframe.run.setup import Setup

EXIT_FAILED = 1
#: a metric's name is wrapped (at underscores) in a header this wide
HEADER_WIDTH = 14


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe run`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("run", help="run designs x workload x params x seeds; print a table, write JSON",
                       description="Run the product of designs, parameter values and seeds on one workload; "
                       "print the workload's headline metrics (each design marked [UNSAFE] where `benchframe "
                       "explore` finds it so; verdicts are cached per model, design, kernel and config) and "
                       "optionally write the result document.")
    add_designs_option(p, required=True)
    p.add_argument("--workload", "--workloads", dest="workload", action="append", required=True, metavar="NAME",
                   help="the workload (`benchframe list workloads`; compare or sweep run several)")
    p.add_argument("--param", action="append", metavar="KEY=V[,V...]", help="workload parameter(s); lists run "
                   "their product")
    add_seeds_option(p, "1")
    add_profile_option(p)
    add_config_option(p)
    add_kernel_option(p)
    p.add_argument("--json", metavar="PATH", help="write the result document here")
    add_metrics_option(p, "the workload's headline metrics")
    add_format_option(p, None, "the table as text")
    add_output_option(p, "the table")
    add_executor_options(p)
    add_plugin_option(p)


def workload_of(args: argparse.Namespace, reg: Registry) -> Workload:
    """``--workload``: exactly one registered workload."""
    workloads = split(args.workload)
    if len(workloads) != 1:
        raise BenchframeError(f"--workload: run takes one workload, not {', '.join(workloads)} (compare and "
                              "sweep run several)")
    return reg.workload(workloads[0])


def grid_of(args: argparse.Namespace, workload: Workload, cells_per_point: int) -> list[dict[str, str]]:
    """``--param``: every combination of the values, each checked by the workload, within the bound of cells."""
    params = parse_params(args.param)
    total = cells_per_point * math.prod(len(values) for values in params.values())
    if total > MAX_CELLS:
        raise BenchframeError(f"{total} runs is over the bound of {MAX_CELLS} runs per command")
    grid = param_grid(params)
    distinct = {json.dumps(workload.resolve_params(point), sort_keys=True, default=str): point for point in grid}
    if len(distinct) < len(grid):  # bulk=8,8 or bulk=8,08: one point, run (and counted) once
        warn(f"--param: {len(grid)} points named, {len(distinct)} distinct; each runs once")
    return list(distinct.values())


def shown_metrics(args: argparse.Namespace, workload: Workload) -> list[str]:
    """``--metrics``, else the workload's headline metrics; an unknown one is an error before the work."""
    shown = list(dict.fromkeys(split(args.metrics))) if args.metrics else list(workload.headline_metrics())
    unknown = [m for m in shown if metric(m, workload) is None]
    if unknown:
        raise BenchframeError(f"--metrics: unknown metric(s) {', '.join(unknown)}")
    return shown


def main(args: argparse.Namespace) -> int:
    """Check everything, run the cells (the designs' verdicts alongside), print the table and write the result
    document; exit 1 if a run found violations or a plugin failed."""
    bed = setup(args, "1")
    reg = bed.registry()
    designs = split_designs(args.designs)
    workload = workload_of(args, reg)
    grid = grid_of(args, workload, len(designs) * len(bed.seeds))
    if workload.name == "trace" and choose_capture_kernel(args, [workload.resolve_params(p)["file"] for p in grid]):
        bed = setup(args, "1")  # on the capture's kernel
    for d in designs:
        check_design_kernel(reg, d, bed.testbed.kernel)
    if args.json:
        check_target(args.json, "--json")
    check_output(args)
    shown = shown_metrics(args, workload)
    specs = [RunSpec.on(bed.testbed, design, workload.name, point, seed)
             for design, point, seed in product(designs, grid, bed.seeds)]
    with OutputLock.beside(replaced_by(Path(args.json)), "--json") if args.json else nullcontext():
        return _run(args, bed, specs, designs, grid, shown, workload)


def _run(args: argparse.Namespace, bed: Setup, specs: list[RunSpec], designs: list[str], grid: list[dict[str, str]],
         shown: list[str], workload: Workload) -> int:
    """Run the checked cells, print the table and the warnings, write the result document."""
    reg = bed.registry()
    LOG.info("running %d cell(s): %s on %s", len(specs), ", ".join(designs), workload.name)
    with Progress(len(specs), "benchframe run") as bar:
        done = execute(bed, specs, designs, bar.update)
    table = run_table(done, grid, shown, workload)
    bad_designs = [d for d in designs if unsafe(done.verdicts.get(d))]
    unsafe_line = (f"{UNSAFE_MARK}: `benchframe explore` finds {', '.join(bad_designs)} UNSAFE "
                   f"{DISQUALIFYING_TEXT}: these are the costs of an incorrect design") if bad_designs else ""
    if args.format is None:  # as run has always printed it
        emit(args, writer("text").render(Document([table])) +
             (textwrap.fill(unsafe_line, PLAIN_WIDTH) + "\n" if unsafe_line else ""))
    else:
        blocks: list[Block] = [table, *([Note(unsafe_line)] if unsafe_line else [])]
        emit(args, render(args, Document(blocks)))
    for failure in dict.fromkeys(done.failures):  # a plugin raised: the other designs still come out
        print(f"benchframe: plugin error: {failure}", file=sys.stderr)
    for r in done.runs:
        for v in r.violations[:3]:
            print(f"benchframe: violation: {r.design}/{r.workload} {r.params}: {v}", file=sys.stderr)
    if args.json:
        write_atomic(args.json, ResultDocument.made(done.runs, bed.profile_name(), list(bed.testbed.config),
                                                    command_line(args.argv), bed.testbed.kernel, reg.versions(),
                                                    done.verdicts,
                                                    profile_source=reg.cost_model(bed.testbed.profile).source).dumps(),
                     "--json")
    bad = sum(r.metrics["invariant_violations"] for r in done.runs) + len(done.failures)
    return EXIT_FAILED if bad else 0


def run_table(done: Executed, grid: list[dict[str, str]], shown: list[str], workload: Workload) -> Table:
    """One row per run: the design (marked where explore finds it UNSAFE), the parameters, the seed and the
    metrics shown, each header with its unit under it; within a mail's width (long metric names wrapped at
    their underscores, a table too wide split into groups of columns)."""
    param_keys = sorted({k for point in grid for k in point})
    rows = [[marked(r.design, done.verdicts)] + [str(r.params[k]) for k in param_keys] + [str(r.seed)] +
            [_number(r.metrics.get(m)) for m in shown] for r in done.runs]
    units = {m: m_.unit for m in shown if (m_ := metric(m, workload)) is not None and m_.unit}
    headers = ["design"] + param_keys + ["seed"] + [_header(m, units.get(m)) for m in shown]
    return Table("", headers, rows, stralign="right", keys=["design", *param_keys, "seed", *shown])


def _number(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _header(name: str, unit: str | None) -> str:
    """A metric's header: its name wrapped at underscores (``alloc_free_`` / ``cycles_per_page``), its unit."""
    lines = textwrap.wrap(name.replace("_", "_ "), HEADER_WIDTH, break_long_words=False)
    return "\n".join(ln.replace("_ ", "_") for ln in lines) + (f"\n({unit})" if unit else "")
