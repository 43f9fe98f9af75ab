"""``benchframe perf``: where each design's cycles go, as ``perf report`` would show them on the simulated
machine -- a table of symbols per design (self and children cycles per page, inlined frames under the symbol
that holds them), ``--diff BASE`` as ``perf diff`` (the change per symbol against another design), folded
stacks (``--folded``) for flamegraph.pl, inferno or speedscope, and a flame graph (``--svg``)."""

from __future__ import annotations

import dataclasses
from itertools import product
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.emit import LOG, add_output_option, check_output, emit
from benchframe.cli.options import (
    add_config_option,
    add_designs_option,
    add_executor_options,
    add_format_option,
    add_kernel_option,
    add_plugin_option,
    add_profile_option,
    add_seeds_option,
    param_grid,
    parse_params,
    setup,
    split_designs,
)
from benchframe.io import check_target, write_atomic
from benchframe.output import Document, Note, Table, writer
from benchframe.report.perf import diff_rows, flame_svg, folded_text, perf_rows
from benchframe.run.session import execute
from benchframe.run.spec import RunSpec

if TYPE_CHECKING:
    import argparse

    from benchframe.output.document import Block
    from benchframe.results import RunResult

PER = ("page", "call", "run")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe perf`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("perf", help="where the cycles go: a perf report of each design's simulated run",
                       description="Run each design at one workload point with every cycle attributed to the "
                       "kernel function the model mirrors, and print a perf-report-style table per design "
                       "(self and children cycles per page; inlined frames under their symbol), or the "
                       "difference per symbol against another design (--diff).")
    add_designs_option(p, required=True)
    p.add_argument("--workload", required=True, metavar="NAME", help="the workload (`benchframe list workloads`)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="workload parameter(s), one value each: one point is profiled")
    add_seeds_option(p, "1")
    add_profile_option(p)
    add_config_option(p)
    add_kernel_option(p)
    p.add_argument("--sort", choices=("self", "children"), default="self", help="order of the symbols")
    p.add_argument("--per", choices=PER, default="page",
                   help="cycles per page allocated (default), per allocation call, or for the whole run")
    p.add_argument("--no-inline", dest="inline", action="store_false", help="symbols only, no inlined frames")
    p.add_argument("--min-share", type=float, default=0.5, metavar="PCT",
                   help="leave out symbols under this share of the cycles (default 0.5; 0: all)")
    p.add_argument("--diff", metavar="BASE", help="a design to compare every other with, symbol by symbol")
    p.add_argument("--folded", metavar="FILE", help="write the folded stacks here (one design: the file; "
                   "several: FILE with the design's name before the suffix)")
    p.add_argument("--svg", metavar="FILE", help="write a flame graph here (named as --folded)")
    add_format_option(p, default="text")
    add_output_option(p, "the tables")
    add_executor_options(p)
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """Check the options, run each design with attribution, then print and write what was asked for."""
    bed = setup(args, "1")
    reg = bed.registry()
    designs = split_designs(args.designs)
    if args.diff and args.diff not in designs:
        designs = [args.diff, *designs]
    for d in designs:
        reg.design_spec(d)
    workload = reg.workload(args.workload)
    params = parse_params(args.param)
    many = [k for k, values in params.items() if len(values) > 1]
    if many:
        raise BenchframeError(f"--param {many[0]}: perf profiles one point, give one value")
    point = param_grid(params)[0] if params else {}
    workload.resolve_params(point)
    if not 0.0 <= args.min_share <= 100.0:
        raise BenchframeError(f"--min-share {args.min_share:g}: a percentage from 0 to 100")
    for option in ("folded", "svg"):
        for path in _paths(getattr(args, option), designs):
            check_target(path, f"--{option}")
    check_output(args)
    specs = [dataclasses.replace(RunSpec.on(bed.testbed, design, workload.name, point, seed), perf=True)
             for design, seed in product(designs, bed.seeds)]
    LOG.info("profiling %s on %s (%d runs)", ", ".join(designs), workload.name, len(specs))
    done = execute(bed, specs)
    if done.failures:
        for failure in done.failures:
            print(f"benchframe: plugin error: {failure}")
        return 1
    runs = {d: [r for r in done.runs if r.design == d] for d in designs}
    emit(args, writer(args.format).render(_document(args, runs, workload.name, point)))
    _write_files(args, runs, workload.name)
    return 0


def _per(run: RunResult, per: str) -> float:
    if per == "run":
        return 1.0
    key = "pages_allocated" if per == "page" else "alloc_calls"
    count = run.metrics.get(key)
    if not count:
        raise BenchframeError(f"--per {per}: design {run.design} made no allocation on {run.workload}")
    return float(count)


def _document(args: argparse.Namespace, runs: dict[str, list[RunResult]], workload: str,
              point: dict[str, str]) -> Document:
    where = " ".join(f"{k}={v}" for k, v in point.items()) or "(defaults)"
    unit = {"page": "cycles per page allocated", "call": "cycles per allocation call", "run": "cycles"}[args.per]
    blocks: list[Block] = [Note(f"{workload} {where}: {unit} (the seeds' runs added up)")]
    totals = {d: _total(rs, args.per) for d, rs in runs.items()}
    if args.diff:
        base_stacks, base_per = totals[args.diff]
        for design, (stacks, per) in totals.items():
            if design == args.diff:
                continue
            rows = [[r.symbol, f"{r.base:.2f}", f"{r.new:.2f}", f"{r.delta:+.2f}"]
                    for r in diff_rows(base_stacks, base_per, stacks, per) if abs(r.delta) >= 0.005]
            blocks.append(Table(f"{design} against {args.diff}: self {unit}", ["symbol", args.diff, design,
                                                                              "change"], rows))
        return Document(blocks)
    for design, (stacks, per) in totals.items():
        total = sum(stacks.values()) / per
        rows = [[r.label, f"{r.overhead:.2f}%", f"{r.children:.2f}", f"{r.self:.2f}"]
                for r in perf_rows(stacks, per, args.sort, args.inline, args.min_share)]
        blocks.append(Table(f"{design}: {total:.1f} {unit} in all", ["symbol", "overhead", "children", "self"],
                            rows))
    return Document(blocks)


def _total(runs: list[RunResult], per: str) -> tuple[dict[str, int], float]:
    stacks: dict[str, int] = {}
    count = 0.0
    for r in runs:
        for stack, cycles in r.perf_stacks.items():
            stacks[stack] = stacks.get(stack, 0) + cycles
        count += _per(r, per)
    return stacks, count or 1.0


def _paths(path: str | None, designs: list[str]) -> list[str]:
    if not path:
        return []
    if len(designs) == 1:
        return [path]
    stem, dot, suffix = path.rpartition(".")
    return [f"{stem}-{d}.{suffix}" if dot and stem else f"{path}-{d}" for d in designs]


def _write_files(args: argparse.Namespace, runs: dict[str, list[RunResult]], workload: str) -> None:
    designs = list(runs)
    for design, path in zip(designs, _paths(args.folded, designs)):
        write_atomic(path, folded_text(_total(runs[design], "run")[0]), "--folded")
    for design, path in zip(designs, _paths(args.svg, designs)):
        stacks = _total(runs[design], "run")[0]
        write_atomic(path, flame_svg(stacks, f"{design} on {workload}: {sum(stacks.values())} cycles"), "--svg")


__all__ = ["add_parser", "main"]
