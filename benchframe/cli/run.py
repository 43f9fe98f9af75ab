"""``benchframe run``: designs x one workload x parameter grid x seeds; a table, and a JSON result document."""

from __future__ import annotations

import math
import sys
from itertools import product
from typing import TYPE_CHECKING

from tabulate import tabulate

from benchframe import BenchframeError
from benchframe.cli.compare import command_line, local_jobs, plugin_versions
from benchframe.cli.options import (
    add_config_option,
    add_designs_option,
    add_executor_options,
    add_kernel_option,
    add_plugin_option,
    add_profile_option,
    add_seeds_option,
    check_executor_args,
    param_grid,
    parse_params,
    parse_seeds,
    split,
    split_designs,
    tls_files,
)
from benchframe.explore.verdicts import (
    DISQUALIFYING_TEXT,
    UNSAFE_MARK,
    PendingVerdicts,
    marked,
    unsafe,
    verdicts_as_json,
)
from benchframe.io import check_target, dumps, result_document, write_atomic
from benchframe.kconfig import KernelConfig
from benchframe.metrics import METRICS
from benchframe.plugins import get_registry
from benchframe.run.executors import run_specs
from benchframe.run.spec import MAX_CELLS, RunSpec

if TYPE_CHECKING:
    import argparse

    from benchframe.records import Workload

EXIT_FAILED = 1


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--metrics", metavar="NAMES", help="metrics to show in the table (comma list; default: the "
                   "workload's headline metrics)")
    add_executor_options(p)
    add_plugin_option(p)


def unit(metric: str, workload: Workload) -> str:
    if metric in METRICS:
        return METRICS[metric].unit
    if metric in workload.metrics:
        return workload.metrics[metric][0]
    return ""


def main(args: argparse.Namespace) -> int:
    plugins = tuple(args.plugin)
    reg = get_registry(plugins)
    designs = split_designs(args.designs)
    for d in designs:
        reg.design_spec(d)
    workloads = split(args.workload)
    if len(workloads) != 1:
        raise BenchframeError(f"--workload: run takes one workload, not {', '.join(workloads)} (compare and "
                              "sweep run several)")
    workload = reg.workload(workloads[0])
    seeds = parse_seeds(args.seeds, "1")
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
    shown = split([args.metrics]) if args.metrics else list(workload.headline_metrics())
    unknown = [m for m in shown if m not in METRICS and m not in workload.metrics]
    if unknown:  # before the work, not after it
        raise BenchframeError(f"--metrics: unknown metric(s) {', '.join(unknown)}")
    # the verdicts not cached are explored on their own processes while the cells run
    with PendingVerdicts(designs, reg, tuple(config.as_list()), config.version.name, plugins, local_jobs(args),
                         args.cell_timeout) as pending:
        results = run_specs(specs, args.jobs or None, args.executor, args.scheduler, timeout=args.cell_timeout,
                            tls=tls_files(args))
        verdicts = pending.result()
    runs = [r for r in results if isinstance(r, dict)]
    failed = [r for r in results if isinstance(r, str)]  # a plugin raised: the other designs still come out
    param_keys = sorted({k for point in grid for k in point})
    rows = [[marked(r["design"], verdicts)] + [r["params"][k] for k in param_keys] + [r["seed"]] +
            [r["metrics"].get(m) for m in shown] for r in runs]
    headers = ["design"] + param_keys + ["seed"] + [f"{m}\n({unit(m, workload)})" if unit(m, workload) else m
                                                    for m in shown]
    print(tabulate(rows, headers=headers, tablefmt="simple", missingval="-", floatfmt=".1f"))
    bad_designs = [d for d in designs if unsafe(verdicts.get(d))]
    if bad_designs:
        print(f"{UNSAFE_MARK}: `benchframe explore` finds {', '.join(bad_designs)} UNSAFE {DISQUALIFYING_TEXT}: "
              "these are the costs of an incorrect design")
    for line in dict.fromkeys(failed):
        print(f"benchframe: plugin error: {line}", file=sys.stderr)
    bad = sum(r["metrics"]["invariant_violations"] for r in runs) + len(failed)
    for r in runs:
        for v in r["violations"][:3]:
            print(f"benchframe: violation: {r['design']}/{r['workload']} {r['params']}: {v}", file=sys.stderr)
    if args.json:
        write_atomic(args.json, dumps(result_document(runs, costs.name, config.as_list(), command_line(args.argv),
                                                      config.version.name, plugin_versions(reg),
                                                      verdicts_as_json(verdicts))))
    return EXIT_FAILED if bad else 0
