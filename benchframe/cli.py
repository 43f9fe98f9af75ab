"""The ``benchframe`` command."""

from __future__ import annotations

import argparse
import os
import sys
from itertools import product

from tabulate import tabulate

from benchframe import BenchframeError, __version__
from benchframe.executors import run_specs
from benchframe.kconfig import OPTIONS as KCONFIG_OPTIONS
from benchframe.kconfig import KernelConfig
from benchframe.metrics import METRICS
from benchframe.output import dumps, result_document, write_atomic
from benchframe.plugins import get_registry
from benchframe.runner import RunSpec, parse_design_spec
from benchframe.trace import cli as trace_cli

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (and exit status 2) instead of usage + message."""

    def error(self, message: str):  # noqa: D401
        raise BenchframeError(f"{self.prog}: {message}")


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or ():
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def parse_params(values: list[str] | None) -> dict[str, list[str]]:
    """``["bulk=1,8,64", "cpus=2"]`` -> ``{"bulk": ["1", "8", "64"], "cpus": ["2"]}``."""
    params: dict[str, list[str]] = {}
    for item in values or ():
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise BenchframeError(f"--param {item!r}: expected key=value[,value...]")
        params.setdefault(key, []).extend(v.strip() for v in value.split(",") if v.strip())
    return params


def param_grid(params: dict[str, list[str]]) -> list[dict[str, str]]:
    keys = list(params)
    return [dict(zip(keys, combo)) for combo in product(*(params[k] for k in keys))]


def _executor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=int, default=0, metavar="N", help="local worker processes (default: cores)")
    p.add_argument("--executor", choices=["process", "serial", "dask"], default="process",
                   help="where cells run: local process pool (default), in-process, or a Dask cluster")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="Dask scheduler address (implies dask)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_PATH",
                   help="load a plugin module (importable name or .py path); repeatable")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="benchframe", description=__doc__)
    parser.add_argument("--version", action="version", version=f"benchframe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="list registered designs, workloads, profiles, metrics or configs")
    p.add_argument("what", choices=["designs", "workloads", "profiles", "metrics", "configs"])
    _common(p)

    p = sub.add_parser("run", help="run designs x workload x params x seeds; print a table, write JSON")
    p.add_argument("--design", action="append", required=True, metavar="NAME[:opt=val]",
                   help="design(s); repeat or comma-separate")
    p.add_argument("--workload", required=True)
    p.add_argument("--param", action="append", metavar="KEY=V[,V...]", help="workload parameter(s); lists run "
                   "their product")
    p.add_argument("--seed", action="append", metavar="N", help="seed(s); default 1")
    p.add_argument("--profile", metavar="NAME_OR_FILE", help="cost profile (default e5-1650v4)")
    p.add_argument("--config", action="append", metavar="OPTION", help=f"kernel config: {', '.join(KCONFIG_OPTIONS)}")
    p.add_argument("--json", metavar="PATH", help="write the result document here")
    p.add_argument("--metrics", metavar="NAMES", help="metrics to show in the table (comma list)")
    _executor_args(p)
    _common(p)

    p = sub.add_parser("sweep", help="run a grid described in a TOML file into a resumable results directory")
    p.add_argument("spec", metavar="SPEC.toml")
    p.add_argument("--output", metavar="DIR", help="results directory (default: the spec's, else sweeps/NAME)")
    p.add_argument("--resume", action="store_true", help="run only the cells missing from the directory")
    _executor_args(p)
    _common(p)

    p = sub.add_parser("plugins", help="the loaded plugins: distribution, version, hooks, what they registered")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _common(p)

    p = sub.add_parser("new-plugin", help="scaffold an installable design plugin package")
    p.add_argument("name", help="design name (a Python identifier)")
    p.add_argument("--from", dest="from_design", default="array", metavar="DESIGN",
                   help="built-in design to derive from (default: array)")
    p.add_argument("--dir", default=".", metavar="PATH", help="where to create NAME/ (default: .)")
    _common(p)

    p = sub.add_parser("compare", help="the main job: compare designs on the standard workloads, write a report")
    p.add_argument("--designs", action="append", metavar="NAMES", help="designs (default: all registered)")
    p.add_argument("--workloads", action="append", metavar="NAMES", help="workloads (default: the standard set)")
    p.add_argument("--baseline", default="single", help="baseline design (default: single)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per cell (default: 3)")
    p.add_argument("--profile", metavar="NAME_OR_FILE")
    p.add_argument("--config", action="append", metavar="OPTION")
    p.add_argument("--format", choices=["md", "github", "plain", "latex", "html", "csv"], default="md")
    p.add_argument("--output", default="reports", metavar="DIR", help="output directory (default: reports/)")
    _executor_args(p)
    _common(p)

    p = sub.add_parser("explore", help="systematic re-entrancy exploration of a design (exit 1 if UNSAFE)")
    p.add_argument("--design", required=True, metavar="NAME[:opt=val]")
    p.add_argument("--context", choices=["irq", "nmi"], help="interrupt context (default: both)")
    p.add_argument("--config", action="append", metavar="OPTION")
    p.add_argument("--json", metavar="PATH", help="write the verdicts and interleavings as JSON")
    _common(p)

    p = sub.add_parser("validate", help="published/measured results vs the simulator's predictions")
    p.add_argument("--measurements", action="append", metavar="FILE.csv",
                   help="measurements CSV (default: the published ones shipped with benchframe)")
    p.add_argument("--normalize-to", metavar="DESIGN", help="also compare ratios against this design")
    p.add_argument("--profile", metavar="NAME_OR_FILE", help="profile for rows without a profile column")
    _common(p)

    p = sub.add_parser("report", help="render comparison tables from saved results without re-running")
    p.add_argument("results", nargs="+", metavar="RESULT.json|DIR")
    p.add_argument("--baseline", default="single")
    p.add_argument("--format", choices=["md", "github", "plain", "latex", "html", "csv"], default="md")
    p.add_argument("--output", metavar="DIR", help="write report.<ext> and plots here instead of stdout")
    _common(p)

    p = sub.add_parser("history", help="asv results as a table per benchmark across commits")
    p.add_argument("--results", default=".asv/results", metavar="DIR")
    p.add_argument("--factor", type=float, default=1.1, help="flag changes beyond this factor (default 1.1)")
    p.add_argument("--benchmark", metavar="SUBSTRING", help="only benchmarks whose name contains this")
    _common(p)
    trace_cli.add_parser(sub)
    return parser


def cmd_list(args) -> int:
    reg = get_registry(tuple(args.plugin))
    if args.what == "designs":
        rows = [(d.name, d.shape, d.description) for d in reg.designs.values()]
        print(tabulate(rows, headers=["design", "shape", "description"], tablefmt="simple"))
    elif args.what == "workloads":
        rows = [(w.name, ", ".join(f"{p.name}={p.default}" for p in w.params), w.description)
                for w in reg.workloads.values()]
        print(tabulate(rows, headers=["workload", "parameters (defaults)", "description"], tablefmt="simple"))
    elif args.what == "profiles":
        rows = [(p.name, p.description, p.path) for p in reg.profiles.values()]
        print(tabulate(rows, headers=["profile", "description", "file"], tablefmt="simple"))
    elif args.what == "metrics":
        rows = [(m.name, m.unit, m.better, m.definition) for m in METRICS.values()]
        for w in reg.workloads.values():
            rows += [(n, u, b, f"[{w.name}] {d}") for n, (u, b, d) in w.metrics.items()]
        print(tabulate(rows, headers=["metric", "unit", "better", "definition"], tablefmt="simple"))
    else:
        print(tabulate(sorted(KCONFIG_OPTIONS.items()), headers=["config", "effect"], tablefmt="simple"))
    return 0


DEFAULT_TABLE_METRICS = ("alloc_free_cycles_per_page", "alloc_cycles_per_page", "free_cycles_per_page",
                         "irqs_off_max_cycles", "fallbacks", "invariant_violations")


def cmd_run(args) -> int:
    plugins = tuple(args.plugin)
    reg = get_registry(plugins)
    designs = _split(args.design)
    for d in designs:
        parse_design_spec(d, reg)
    workload = reg.workload(args.workload)
    grid = param_grid(parse_params(args.param))
    for point in grid:
        workload.resolve_params(point)
    seeds = []
    for s in _split(args.seed) or ["1"]:
        try:
            seeds.append(int(s))
        except ValueError:
            raise BenchframeError(f"--seed {s!r} is not an integer") from None
    config = KernelConfig.parse(args.config)
    costs = reg.cost_model(args.profile)
    if args.json:
        write_check = args.json
        from pathlib import Path
        if not Path(write_check).parent.resolve().is_dir():
            raise BenchframeError(f"--json {write_check}: directory does not exist")
    specs = [RunSpec(design=design, workload=workload.name, params=point, seed=seed, profile=args.profile,
                     config=tuple(config.as_list()), plugins=plugins)
             for design, point, seed in product(designs, grid, seeds)]
    results = run_specs(specs, args.jobs or None, args.executor, args.scheduler)
    runs = [r for r in results if isinstance(r, dict)]
    failed = [r for r in results if isinstance(r, str)]  # a plugin raised: the other designs still come out
    shown = _split([args.metrics]) if args.metrics else list(DEFAULT_TABLE_METRICS)
    unknown = [m for m in shown if runs and not any(m in r["metrics"] for r in runs)]
    if unknown:
        raise BenchframeError(f"--metrics: unknown metric(s) {', '.join(unknown)}")
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
        doc = result_document(runs, costs.name, config.as_list())
        write_atomic(args.json, dumps(doc))
    return EXIT_FAILED if bad else 0


def cmd_compare(args) -> int:
    from benchframe.compare import cmd_compare as run

    return run(args)


def cmd_report(args) -> int:
    from benchframe.compare import cmd_report as run

    return run(args)


def cmd_history(args) -> int:
    from benchframe.compare import cmd_history as run

    return run(args)


def cmd_explore(args) -> int:
    from benchframe.explore import cmd_explore as run

    return run(args)


def cmd_validate(args) -> int:
    from benchframe.validate import cmd_validate as run

    return run(args)


def cmd_plugins(args) -> int:
    import json

    reg = get_registry(tuple(args.plugin))
    if args.json:
        doc = {"plugins": [{"name": p.name, "distribution": p.dist, "version": p.version, "module": p.module,
                            "hooks": p.hooks, "registered": p.registered} for p in reg.plugins],
               "errors": reg.errors}
        print(json.dumps(doc, indent=1, sort_keys=True))
        return 0
    rows = [(p.name, f"{p.dist} {p.version}".strip(), ", ".join(h.removeprefix("benchframe_") for h in p.hooks),
             "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(p.registered.items())) or "-")
            for p in reg.plugins]
    print(tabulate(rows, headers=["plugin", "distribution", "hooks", "registered"], tablefmt="simple"))
    return 0


def cmd_new_plugin(args) -> int:
    from benchframe.scaffold import scaffold

    path = scaffold(args.name, args.from_design, args.dir, tuple(args.plugin))
    print(f"benchframe: created {path}/ (design {args.name}, derived from {args.from_design}); next:\n"
          f"  pip install -e '{path}[test]' && benchframe plugins && python -m pytest {path}/tests\n"
          f"  then edit {path}/benchframe_{args.name}/__init__.py (see {path}/README.md)")
    return 0


def cmd_sweep(args) -> int:
    from benchframe.sweep import cmd_sweep as run

    return run(args)


COMMANDS = {
    "compare": cmd_compare, "report": cmd_report, "history": cmd_history, "run": cmd_run, "list": cmd_list,
    "sweep": cmd_sweep, "explore": cmd_explore, "validate": cmd_validate, "plugins": cmd_plugins,
    "new-plugin": cmd_new_plugin, "trace": trace_cli.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
        status = COMMANDS[args.command](args)
        errors = get_registry(tuple(getattr(args, "plugin", ()) or ())).errors
    except BenchframeError as exc:
        print(f"benchframe: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("benchframe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0
    except Exception as exc:  # a bug in benchframe itself: one line, the traceback on request
        if os.environ.get("BENCHFRAME_DEBUG"):
            raise
        print(f"benchframe: internal error: {type(exc).__name__}: {exc} (set BENCHFRAME_DEBUG=1 for the "
              "traceback)", file=sys.stderr)
        return 3
    for line in errors:
        print(f"benchframe: plugin error: {line}", file=sys.stderr)
    if errors and status == 0:
        status = EXIT_FAILED
    return status


if __name__ == "__main__":
    sys.exit(main())
