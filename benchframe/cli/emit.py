"""What the commands that print tables share besides ``options.py``: one spelling of ``--output FILE`` and
``--metrics``, the designs and metrics a command's tables are narrowed to (checked, one-line errors), and
printing a command's output or writing it whole into ``--output`` (atomically: a reader sees the old file or
the new one, never part of it; what must not be replaced is refused before any work, as ``compare`` and
``report`` refuse it)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.options import listed, split, split_designs
from benchframe.io import check_target, write_atomic
from benchframe.metrics import METRICS
from benchframe.output import writer

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    from benchframe.output import Document
    from benchframe.records import Study
    from benchframe.registry import Registry

LOG = logging.getLogger("benchframe")
#: an unknown name's error lists the known ones up to this many (else it says which command lists them)
LISTED = 20


def add_output_option(p: argparse.ArgumentParser, what: str = "what it prints") -> None:
    """``--output FILE``: the command's output written to a file (atomically) instead of printed."""
    p.add_argument("--output", metavar="FILE",
                   help=f"write {what} to FILE instead of printing it (replaced whole; its directory must exist)")


def add_metrics_option(p: argparse.ArgumentParser, default_help: str) -> None:
    """``--metrics a,b`` (``--metric`` too): metric names, repeatable and comma-separated."""
    p.add_argument("--metrics", "--metric", dest="metrics", action="append", type=listed, metavar="NAME,...",
                   help=f"metric(s), comma-separated or repeated (default: {default_help})")


def check_output(args: argparse.Namespace) -> None:
    """Before any work: one line if ``--output`` could not be written later (a missing directory, a
    directory, a device, ...)."""
    if getattr(args, "output", None):
        check_target(args.output, "--output")


def chosen(values: Iterable[str] | None, known: Iterable[str], option: str, what: str) -> list[str] | None:
    """The names an option gives (``None``: not given, everything is shown), each checked against ``known``:
    one line naming the unknown ones and the known ones."""
    if not values:
        return None
    names = split_designs(values) if option == "--designs" else list(dict.fromkeys(split(values)))
    names = [n.partition(":")[0] for n in names] if option == "--designs" else names
    known = list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        listed_ = ", ".join(known) if len(known) <= LISTED else f"`benchframe list {option[2:]}` lists them"
        raise BenchframeError(f"{option}: unknown {what} {', '.join(map(repr, unknown))}; known: {listed_}")
    return names


def known_metrics(reg: Registry) -> list[str]:
    """Every metric's name: the standard ones and those the workloads declare."""
    return list(dict.fromkeys([*METRICS, *(n for w in reg.workloads.values() for n in w.metrics)]))


def narrowed_studies(studies: list[Study], values: Iterable[str] | None, reg: Registry) -> list[Study]:
    """``studies`` showing only the metrics ``--metrics`` names (all where not given), those left with none
    dropped; one line if a name is no metric or none of the studies shows it."""
    metrics = chosen(values, known_metrics(reg), "--metrics", "metric")
    if metrics is None:
        return studies
    kept = [replace(s, metrics=tuple(m for m in s.metrics if m in metrics)) for s in studies]
    shown = {m for s in kept for m in s.metrics}
    missing = [m for m in metrics if m not in shown]
    if missing:
        every = dict.fromkeys(m for s in studies for m in s.metrics)
        raise BenchframeError(f"--metrics: no study shows {', '.join(missing)} (they show: {', '.join(every)})")
    return [s for s in kept if s.metrics]


def render(args: argparse.Namespace, doc: Document) -> str:
    """``doc`` in ``--format``."""
    LOG.info("rendering %d table(s) as %s", len(doc.tables), args.format)
    return writer(args.format).render(doc)


def emit(args: argparse.Namespace, text: str) -> None:
    """Print ``text``, or write it to ``--output`` (whole, atomically) and say so."""
    if not getattr(args, "output", None):
        print(text, end="")
        return
    LOG.info("writing %s", args.output)
    write_atomic(args.output, text, "--output")
    print(f"benchframe: wrote {args.output}")
