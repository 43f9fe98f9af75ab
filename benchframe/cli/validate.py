"""``benchframe validate``: published/measured results vs the simulator's predictions; exit 1 when a prediction
is further from its measurement than ``--tolerance``."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.emit import (
    LOG,
    add_metrics_option,
    add_output_option,
    check_output,
    chosen,
    emit,
    known_metrics,
    render,
)
from benchframe.cli.options import add_designs_option, add_format_option, add_plugin_option
from benchframe.measurements import distinct_files, shipped_measurements
from benchframe.output import Document, Note, Table, writer
from benchframe.output.writers import PLAIN_WIDTH
from benchframe.plugins import get_registry
from benchframe.validate import validate

if TYPE_CHECKING:
    import argparse

    from benchframe.output.document import Block

EXIT_BEYOND = 1
#: the columns of validate's rows that a file's table may take into its title
WORKLOAD, KERNEL, PROFILE, METRIC, MEASURED = 1, 4, 5, 6, 7
NAMES = {WORKLOAD: "what", KERNEL: "kernel", PROFILE: "profile"}
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
    add_designs_option(p, default_help="every measured design; --normalize-to still uses its own rows")
    add_metrics_option(p, "every measured metric")
    add_format_option(p, None, "the tables as text, then the summary")
    add_output_option(p, "the tables and the summary")
    add_plugin_option(p)


def file_tables(table: list[list[str]], files: list[str], ratio_to: str | None = None) -> list[Block]:
    """Validate's rows, a table per measurement file and metric (a mail's width): the workload, kernel, profile
    and unit in the title where every row shares them, each row's line, design, parameters and numbers (and,
    with ``ratio_to``, the measured and predicted ratios to that design). ``files``: each row's file (two of
    the same name in two folders are two files)."""
    extra = ["ratio meas.", "ratio pred.", "ratio error"] if ratio_to else []
    groups: dict[tuple[str, str], list[list[str]]] = {}
    for row, path in zip(table, files):
        groups.setdefault((path, row[METRIC]), []).append(row)
    blocks: list[Block] = []
    for (_, metric), rows in groups.items():
        file = rows[0][0].rpartition(":")[0]
        shared = [i for i in (WORKLOAD, KERNEL, PROFILE) if len({r[i] for r in rows}) == 1]
        units = {r[MEASURED].partition(" ")[2] for r in rows}
        unit = units.pop() if len(units) == 1 else ""
        title = f"{file}: {metric}" + (f" ({unit})" if unit else "") + (
            f", {', '.join(f'{NAMES[i]} {rows[0][i]}' for i in shared)}" if shared else "") + (
            f"; ratios to {ratio_to}" if ratio_to else "")
        own = [i for i in (WORKLOAD, KERNEL, PROFILE) if i not in shared]
        headers = ["line", "design", "params", *(NAMES[i] for i in own), "measured", "predicted", "error",
                   "vs range", *extra]
        body = [[r[0].rpartition(":")[2], r[2], r[3], *(r[i] for i in own),
                 r[MEASURED].partition(" ")[0] if unit else r[MEASURED], *r[MEASURED + 1:]] for r in rows]
        blocks.append(Table(title, headers, body))
    return blocks


def say(text: str) -> str:
    """A line of the summary, wrapped at a mail's width."""
    return textwrap.fill(text, PLAIN_WIDTH, subsequent_indent="    ", break_on_hyphens=False) + "\n"


def main(args: argparse.Namespace) -> int:
    """Predict every measurement, print the table (the rows of ``--designs`` and ``--metrics``) and the
    summary, in ``--format`` or to ``--output``; exit 1 when an error shown is beyond ``--tolerance``."""
    if not args.tolerance >= 0:
        raise BenchframeError(f"--tolerance must be a non-negative percentage, not {args.tolerance}")
    check_output(args)
    paths = distinct_files([Path(p) for p in args.measurements]) if args.measurements else shipped_measurements()
    reg = get_registry(tuple(args.plugin))
    if args.normalize_to and args.normalize_to not in reg.designs:
        raise BenchframeError(f"--normalize-to: unknown design {args.normalize_to!r}")
    designs = chosen(args.designs, reg.designs, "--designs", "design")
    metrics = chosen(args.metrics, known_metrics(reg), "--metrics", "metric")
    LOG.info("validating %d measurement file(s)", len(paths))
    result = validate(paths, reg, args.profile, args.normalize_to)
    shown = [i for i, r in enumerate(result.rows) if (designs is None or r.design in designs) and
             (metrics is None or r.metric in metrics)]
    tables = file_tables([result.table[i] for i in shown], [result.rows[i].file for i in shown], args.normalize_to)
    errors = [result.errors[i] for i in shown]
    beyond = [(w, e) for w, e in result.beyond(args.tolerance) if w in {w_ for w_, _ in errors}]
    lines = [f"not checked against any measurement: designs {', '.join(result.unmeasured_designs) or '-'}; "
             f"workloads {', '.join(result.unmeasured_workloads) or '-'}"]
    if not beyond:
        lines.append(f"every prediction within {args.tolerance:g}% of its measurement ({len(errors)} rows)")
    else:
        worst = ", ".join(f"{w} ({'nothing predicted' if e is None else f'{e:+.1f}%'})" for w, e in beyond)
        lines.append(f"{len(beyond)} of {len(errors)} predictions beyond {args.tolerance:g}%: {worst}")
    if args.format is None:  # as validate has always printed it
        emit(args, writer("text").render(Document(tables)) + "\n" + "".join(map(say, lines)))
    else:
        emit(args, render(args, Document([*tables, *map(Note, lines)])))
    return EXIT_BEYOND if beyond else 0
