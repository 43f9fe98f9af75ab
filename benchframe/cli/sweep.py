"""``benchframe sweep SPEC.toml``: a grid described in a file, run on an executor into a resumable results
directory (see ``benchframe.run.sweep`` for the spec)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe.cli.options import Progress, add_executor_options, add_plugin_option, executor, warn
from benchframe.run.grid import cells, count_cells, load_spec
from benchframe.run.setup import Setup
from benchframe.run.sweep import existing_cells, run_sweep

if TYPE_CHECKING:
    import argparse

EXIT_INTERRUPTED = 130


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe sweep`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("sweep", help="run a grid described in a TOML file into a resumable results directory")
    p.add_argument("spec", metavar="SPEC.toml", help="the sweep spec: designs, seeds, profile, config and a "
                   "parameter grid per workload (examples/sweeps/)")
    p.add_argument("--output", metavar="DIR", help="results directory (default: the spec's, else sweeps/NAME)")
    p.add_argument("--resume", action="store_true", help="run only the cells missing from the directory")
    add_executor_options(p)
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """Check the spec against the registry, run the cells the output directory lacks, saving each as it
    finishes; Ctrl-C says how to resume."""
    bed = Setup.parse(plugins=args.plugin, executor=executor(args))
    spec = load_spec(Path(args.spec), bed.registry())
    out = Path(args.output or spec["output"] or f"sweeps/{Path(args.spec).stem}")
    distinct, listed = len(cells(spec)), count_cells(spec)
    if distinct != listed:
        warn(f"sweep {args.spec}: {listed} cells listed, {distinct} distinct (each runs once)")
    try:
        with Progress(distinct, "benchframe sweep") as bar:
            ran, skipped, errors = run_sweep(spec, out, args.resume, bed, bar.update)
    except KeyboardInterrupt:
        saved = len(existing_cells(out)) if out.is_dir() else 0
        argv = list(args.argv or [])
        again = shlex.join(["benchframe", *argv, *([] if "--resume" in argv else ["--resume"])])
        print(f"benchframe: interrupted: {saved} of {distinct} cells saved in {out}; resume with: {again}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"benchframe: sweep {out}: {ran} cells run, {skipped} already done, {len(errors)} failed "
          f"(render with: benchframe report {out})")
    for e in errors:
        print(f"benchframe: plugin error: {e}", file=sys.stderr)
    return 1 if errors else 0
