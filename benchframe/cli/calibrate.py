"""``benchframe calibrate``: fit a profile's unknown costs to measurements and write the fitted profile."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from tabulate import tabulate

from benchframe import BenchframeError
from benchframe.calibrate import check_names, fit_costs, fit_spec, write_profile
from benchframe.cli.options import add_plugin_option, split
from benchframe.hw.costs import DEFAULT_PROFILE, FRACTIONAL, parse_profile
from benchframe.io import check_target, read_text, write_atomic
from benchframe.measurements import distinct_files, read_measurements, shipped_measurements
from benchframe.output import Document, Table, writer
from benchframe.output.writers import PLAIN_WIDTH
from benchframe.plugins import get_registry

if TYPE_CHECKING:
    import argparse

    from benchframe.costfit import Fit


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``benchframe calibrate`` and its options to the sub-commands of the main parser."""
    p = sub.add_parser("calibrate", help="fit a profile's unknown costs to measurements (bounded least squares)",
                       description="Fit the named costs of a profile (the prices of body work, primitives a "
                                   "machine has no figure for) to measurement rows, and write the fitted profile.")
    p.add_argument("--measurements", action="append", metavar="CSV",
                   help="measurement files (validate's format); default: the files the profile's [fit] table "
                        "names, from benchframe's shipped measurements")
    p.add_argument("--profile", default=DEFAULT_PROFILE, metavar="BASE",
                   help=f"the profile to start from: a registered name or a .toml path (default {DEFAULT_PROFILE})")
    p.add_argument("--fit", default="auto", metavar="NAME[,NAME]|auto",
                   help="the costs to fit; auto: the profile's [fit] costs, else the prices of body work")
    p.add_argument("--output", required=True, metavar="NEW.toml", help="where to write the fitted profile")
    p.add_argument("--name", metavar="NAME",
                   help="the new profile's name (default: the output file's stem, e.g. my-machine for "
                        "my-machine.toml); results and reports record it")
    add_plugin_option(p)


def main(args: argparse.Namespace) -> int:
    """Fit the costs, print each with its standard error and each row's residual, write the profile."""
    reg = get_registry(tuple(args.plugin))
    base = reg.cost_model(args.profile)
    text = read_text(base.source, "profile", kind="profile")
    parse_profile(text, base.source)  # the base must itself be a valid profile
    spec = fit_spec(text)
    spec_costs, spec_files = spec.costs, spec.measurements
    machine = spec.machine or base.name  # the rows measured on this machine
    names = (spec_costs or list(FRACTIONAL)) if args.fit == "auto" else split([args.fit])
    check_names(names)
    output = Path(args.output)
    check_target(output, "--output")
    name = args.name if args.name is not None else output.stem
    if not name.strip():
        raise BenchframeError("--name: a profile needs a non-empty name")
    shipped = {p.name: p for p in shipped_measurements()}
    if args.measurements:
        paths = distinct_files([Path(p) for p in args.measurements])
    else:
        here = Path(base.source).parent
        paths = [shipped[f] if f in shipped else here / f for f in spec_files]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing or not spec_files:
            raise BenchframeError(f"profile {base.name}: no measurement files to fit to; give --measurements "
                                  f"({'not found: ' + ', '.join(missing) if missing else 'its [fit] names none'})")
    rows = [r for p in paths for r in read_measurements(p) if (r.profile or machine) == machine]
    result = fit_costs(base, names, rows, reg, spec.bounds)
    print(tabulate([[n, _shown(n, result.values[n]), "-" if result.sigmas[n] is None else f"{result.sigmas[n]:.3g}",
                     _shown(n, base.cost(n))] for n in names],
                   headers=["cost", "fitted", "std. error", "base"], tablefmt="simple", disable_numparse=True))
    print()
    print(writer("text").render(Document([*residual_tables(result)])), end="")
    for line in result.warnings:
        print(textwrap.fill(f"benchframe: calibrate: {line}", PLAIN_WIDTH, subsequent_indent="    "))
    files = [p.name if shipped.get(p.name) == p else os.path.relpath(p.resolve(), output.parent.resolve())
             for p in paths]
    new = write_profile(
        text, result,
        name=None if name == base.name else name,
        description=None if name == base.name else
        f"{base.name} recalibrated by benchframe calibrate: {', '.join(names)} fitted to {', '.join(files)}",
        measurements=None if (names, files, name) == (spec_costs, spec_files, base.name) else files,
        machine="" if machine == name else machine, bounds=spec.bounds)
    parse_profile(new, str(output))  # what is written must load as a profile
    write_atomic(output, new, "--output")
    print(f"benchframe: wrote {output} ({len(names)} cost(s) fitted to {len(rows)} row(s))")
    return 0


def residual_tables(result: Fit) -> list[Table]:
    """Each row's fit, a table per measurement file and metric (a mail's width, as validate prints them): the
    file's line, the design, the parameters (the workload in the title where the file has one), the
    measurement, the fitted model's prediction, the residual and the residual with the row left out of the
    fit."""
    groups: dict[tuple[str, str], list[list[str]]] = {}
    workloads: dict[tuple[str, str], set[str]] = {}
    for r, p, e, loo in zip(result.rows, result.predicted, result.residuals, result.loo):
        key = (r.file, r.metric or "perf self share")
        what = f"perf self share of {r.symbol}" if r.symbol else ", ".join(f"{k}={v}" for k, v in r.params.items())
        left_out = "-" if loo is None else f"{loo * 100:+.1f}%"
        groups.setdefault(key, []).append([r.where.rpartition(":")[2], r.design, r.workload, what, f"{r.value:g}",
                                           f"{p:.4g}", f"{e * 100:+.1f}%", left_out])
        workloads.setdefault(key, set()).add(r.workload)
    tables = []
    for (file, metric), rows in groups.items():
        one = len(workloads[(file, metric)]) == 1
        title = f"{Path(file).name}: {metric}" + (f", what {rows[0][2]}" if one else "")
        headers = ["line", "design", *([] if one else ["what"]), "params", "measured", "fitted model",
                   "residual", "left out"]
        tables.append(Table(title, headers, [[row[0], row[1], *([] if one else [row[2]]), *row[3:]]
                                             for row in rows]))
    return tables


def _shown(name: str, value: float) -> str:
    return f"{value:.3f}" if name in FRACTIONAL else f"{value:g}"
