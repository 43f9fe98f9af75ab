"""``benchframe run``: designs x one workload x parameter grid x seeds; a table, and a JSON result document."""

from __future__ import annotations

import math
import sys
from itertools import product
from typing import TYPE_CHECKING

from tabulate import tabulate

from benchframe import BenchframeError
from benchframe.cli.options import (
    add_executor_options,
    add_kernel_option,
    add_plugin_option,
    check_executor_args,
    param_grid,
    parse_params,
    split,
    split_designs,
    tls_files,
)
from benchframe.io import check_target, dumps, result_document, write_atomic
from benchframe.kconfig import OPTIONS as KCONFIG_OPTIONS
from benchframe.kconfig import KernelConfig
from benchframe.metrics import METRICS
from benchframe.plugins import get_registry
from benchframe.run.executors import run_specs
from benchframe.run.spec import MAX_CELLS, MAX_SEEDS, RunSpec

if TYPE_CHECKING:
    import argparse

EXIT_FAILED = 1
DEFAULT_TABLE_METRICS = ("alloc_free_cycles_per_page", "alloc_cycles_per_page", "free_cycles_per_page",
                         "irqs_off_max_cycles", "fallbacks", "invariant_violations")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run designs x workload x params x seeds; print a table, write JSON")
    p.add_argument("--design", action="append", required=True, metavar="NAME[:opt=val]",
                   help="design(s); repeat or comma-separate")
    p.add_argument("--workload", required=True)
    p.add_argument("--param", action="append", metavar="KEY=V[,V...]", help="workload parameter(s); lists run "
                   "their product")
    p.add_argument("--seed", action="append", metavar="N", help="seed(s); default 1")
    p.add_argument("--profile", metavar="NAME_OR_FILE", help="cost profile (default e5-1650v4)")
    p.add_argument("--config", action="append", metavar="OPTION", help=f"kernel config: {', '.join(KCONFIG_OPTIONS)}")
    add_kernel_option(p)
    p.add_argument("--json", metavar="PATH", help="write the result document here")
    p.add_argument("--metrics", metavar="NAMES", help="metrics to show in the table (comma list)")
    add_executor_options(p)
    add_plugin_option(p)


def parse_seeds(values: list[str] | None) -> list[int]:
    """``--seed 1,2 --seed 3`` -> ``[1, 2, 3]`` (default ``[1]``), at most MAX_SEEDS."""
    seeds = []
    for s in split(values) or ["1"]:
        try:
            seeds.append(int(s))
        except ValueError:
            raise BenchframeError(f"--seed {s!r} is not an integer") from None
    if len(seeds) > MAX_SEEDS:
        raise BenchframeError(f"--seed: {len(seeds)} seeds is over the bound of {MAX_SEEDS}")
    return seeds


def main(args: argparse.Namespace) -> int:
    plugins = tuple(args.plugin)
    reg = get_registry(plugins)
    designs = split_designs(args.design)
    for d in designs:
        reg.design_spec(d)
    workload = reg.workload(args.workload)
    seeds = parse_seeds(args.seed)
    params = parse_params(args.param)
    total = len(designs) * len(seeds) * math.prod(len(values) for values in params.values())
    if total > MAX_CELLS:
        raise BenchframeError(f"{total} runs is over the bound of {MAX_CELLS} runs per command")
    grid = param_grid(params)
    for point in grid:
        workload.resolve_params(point)
    config = KernelConfig.parse(args.config, args.kernel)
    costs = reg.cost_model(args.profile)
    check_executor_args(args)
    if args.json:
        check_target(args.json, "--json")
    specs = [RunSpec(design=design, workload=workload.name, params=point, seed=seed, profile=args.profile,
                     config=tuple(config.as_list()), plugins=plugins, kernel=config.version.name)
             for design, point, seed in product(designs, grid, seeds)]
    shown = split([args.metrics]) if args.metrics else list(DEFAULT_TABLE_METRICS)
    unknown = [m for m in shown if m not in METRICS and m not in workload.metrics]
    if unknown:  # before the work, not after it
        raise BenchframeError(f"--metrics: unknown metric(s) {', '.join(unknown)}")
    results = run_specs(specs, args.jobs or None, args.executor, args.scheduler, timeout=args.cell_timeout,
                        tls=tls_files(args))
    runs = [r for r in results if isinstance(r, dict)]
    failed = [r for r in results if isinstance(r, str)]  # a plugin raised: the other designs still come out
    param_keys = sorted({k for point in grid for k in point})
    rows = [[r["design"]] + [r["params"][k] for k in param_keys] + [r["seed"]] +
            [r["metrics"].get(m) for m in shown] for r in runs]
    print(tabulate(rows, headers=["design"] + param_keys + ["seed"] + shown, tablefmt="simple",
                   missingval="-", floatfmt=".1f"))
    for line in dict.fromkeys(failed):
        print(f"benchframe: plugin error: {line}", file=sys.stderr)
    bad = sum(r["metrics"]["invariant_violations"] for r in runs) + len(failed)
    for r in runs:
        for v in r["violations"][:3]:
            print(f"benchframe: violation: {r['design']}/{r['workload']} {r['params']}: {v}", file=sys.stderr)
    if args.json:
        write_atomic(args.json, dumps(result_document(runs, costs.name, config.as_list(), kernel=config.version.name)))
    return EXIT_FAILED if bad else 0
