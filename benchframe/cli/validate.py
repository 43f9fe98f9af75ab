"""``benchframe validate``: published/measured results vs the simulator's predictions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tabulate import tabulate

from benchframe import BenchframeError
from benchframe.cli.options import add_plugin_option
from benchframe.plugins import get_registry
from benchframe.validate import shipped_measurements, validate

if TYPE_CHECKING:
    import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="published/measured results vs the simulator's predictions")
    p.add_argument("--measurements", action="append", metavar="FILE.csv",
                   help="measurements CSV (default: the published ones shipped with benchframe)")
    p.add_argument("--normalize-to", metavar="DESIGN", help="also compare ratios against this design")
    p.add_argument("--profile", metavar="NAME_OR_FILE", help="profile for rows without a profile column")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.measurements] if args.measurements else shipped_measurements()
    reg = get_registry(tuple(args.plugin))
    if args.normalize_to and args.normalize_to not in reg.designs:
        raise BenchframeError(f"--normalize-to: unknown design {args.normalize_to!r}")
    rows = validate(paths, reg, args.profile, args.normalize_to)
    headers = ["where", "workload", "design", "params", "kernel", "profile", "metric", "measured", "predicted",
               "error", "vs range"]
    if args.normalize_to:
        headers += [f"measured/{args.normalize_to}", f"predicted/{args.normalize_to}", "ratio error"]
    print(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))
    return 0
