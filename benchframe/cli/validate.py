"""``benchframe validate``: published/measured results vs the simulator's predictions; exit 1 when a prediction
is further from its measurement than ``--tolerance``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.options import add_plugin_option
from benchframe.measurements import distinct_files, shipped_measurements
from benchframe.output import Document, Table, writer
from benchframe.plugins import get_registry
from benchframe.validate import validate

if TYPE_CHECKING:
    import argparse

EXIT_BEYOND = 1
DEFAULT_TOLERANCE = 10.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe validate`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("validate", help="published/measured results vs the simulator's predictions",
                       description="Simulate every measured point and compare; exit 1 when an error is beyond "
                       "--tolerance. Also names the designs and workloads no measurement checks.")
    p.add_argument("--measurements", action="append", metavar="FILE.csv",
                   help="measurements CSV (default: the published ones shipped with benchframe)")
    p.add_argument("--normalize-to", metavar="DESIGN", help="also compare ratios against this design")
    p.add_argument("--profile", metavar="NAME_OR_FILE", help="profile for rows without a profile column")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, metavar="PCT",
                   help="largest error accepted, in percent either way (against the range of repeated "
                   f"measurements of a point, 0 inside it); exit 1 beyond it (default {DEFAULT_TOLERANCE:g})")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """Predict every measurement, print the table, and exit 1 when an error is beyond ``--tolerance``."""
    if not args.tolerance >= 0:
        raise BenchframeError(f"--tolerance must be a non-negative percentage, not {args.tolerance}")
    paths = distinct_files([Path(p) for p in args.measurements]) if args.measurements else shipped_measurements()
    reg = get_registry(tuple(args.plugin))
    if args.normalize_to and args.normalize_to not in reg.designs:
        raise BenchframeError(f"--normalize-to: unknown design {args.normalize_to!r}")
    result = validate(paths, reg, args.profile, args.normalize_to)
    headers = ["where", "workload", "design", "params", "kernel", "profile", "metric", "measured", "predicted",
               "error", "vs range"]
    if args.normalize_to:
        headers += [f"measured/{args.normalize_to}", f"predicted/{args.normalize_to}", "ratio error"]
    print(writer("text").render(Document([Table("", headers, result.table)])), end="")
    print()
    print(f"not checked against any measurement: designs {', '.join(result.unmeasured_designs) or '-'}; "
          f"workloads {', '.join(result.unmeasured_workloads) or '-'}")
    beyond = result.beyond(args.tolerance)
    if not beyond:
        print(f"every prediction within {args.tolerance:g}% of its measurement ({len(result.errors)} rows)")
        return 0
    worst = ", ".join(f"{w} ({'nothing predicted' if e is None else f'{e:+.1f}%'})" for w, e in beyond)
    print(f"{len(beyond)} of {len(result.errors)} predictions beyond {args.tolerance:g}%: {worst}")
    return EXIT_BEYOND
