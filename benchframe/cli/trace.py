"""``benchframe trace import|summary``: real page-allocation traces (``benchframe.trace``); the heavy modules
(numpy, matplotlib) are imported only when a sub-command runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.cli.emit import LOG, add_output_option, check_output, emit
from benchframe.cli.options import Progress, add_format_option
from benchframe.io import check_target
from benchframe.output.writers import fit_lines

if TYPE_CHECKING:
    import argparse

DEFAULT_GAP_US = 20.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``trace`` with its sub-commands ``import`` and ``summary`` to the main parser's ``subparsers``."""
    trace = subparsers.add_parser(
        "trace", help="import a perf/ftrace/trace-cmd page-allocation trace; summarise it per call site",
        description="Real page-allocation traces: 'import' turns perf script, ftrace or trace-cmd text, a perf.data "
                    "or a trace.dat into an events file, 'summary' shows per call site what the bulk API could serve.")
    sub = trace.add_subparsers(dest="trace_command", required=True, metavar="{import,summary}")

    p = sub.add_parser(
        "import", help="read a perf/ftrace/trace-cmd trace (text, perf.data, trace.dat) into a compact events file",
        description="Read a trace of the kmem page tracepoints (mm_page_alloc, mm_page_free, mm_page_free_batched, "
                    "mm_page_alloc_zone_locked, mm_page_pcpu_drain) from 'perf script' output, with or without "
                    "call chains, ftrace's trace/trace_pipe or 'trace-cmd report' output, or a perf.data (through "
                    "'perf script') or trace.dat (through 'trace-cmd report'), streaming, into a columnar events file.")
    p.add_argument("file", metavar="FILE", help="the trace: perf script, ftrace or trace-cmd report text, a perf.data "
                   "or a trace.dat; plain, .gz or .xz")
    p.add_argument("--output", "-o", metavar="T",
                   help="events file to write (default: ./NAME.events.npz, NAME being FILE's name without .xz/.gz)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip malformed lines and report how many, instead of stopping at the first")
    p.add_argument("--allocator-frame", action="append", default=[], metavar="SYMBOL",
                   help="treat SYMBOL as a page-allocator frame too, when finding call sites (repeatable); "
                        "for a kernel whose allocator functions have names benchframe does not know")

    p = sub.add_parser(
        "summary", help="per call site: allocations by order and gfp flags, contexts, order-0 runs",
        description="Per call site (the first frame outside the page allocator): allocations by order and gfp "
                    "flags, contexts, and the runs of order-0 allocations one bulk call could serve.")
    p.add_argument("events", metavar="T", help="an events file written by 'benchframe trace import'")
    add_format_option(p)
    add_output_option(p, "the summary")
    p.add_argument("--plot", metavar="FILE.png", help="also write a plot of the run-length distribution here")
    p.add_argument("--gap-us", type=float, default=DEFAULT_GAP_US, metavar="N",
                   help="longest gap in microseconds between two allocations of one run (default: "
                        f"{DEFAULT_GAP_US:g}, a few times what a traced allocation with its call chain costs)")
    p.add_argument("--top", type=int, default=20, metavar="N",
                   help="call sites to list, most pages first (default: 20; 0 for all)")


def main(args: argparse.Namespace) -> int:
    """``import`` or ``summary``."""
    if args.trace_command == "import":
        return _import(args)
    return _summary(args)


def _import(args: argparse.Namespace) -> int:
    from benchframe.trace.importer import import_report, read_trace
    from benchframe.trace.store import default_output, write_events

    source = Path(args.file)
    output = Path(args.output) if args.output else default_output(source)
    check_target(output, "--output")  # before reading a large trace, not after
    if output.exists() and source.exists() and output.resolve() == source.resolve():
        raise BenchframeError(f"--output {output}: is the input trace itself")
    LOG.info("reading %s", source)
    with Progress(None, "benchframe trace import", unit="line") as bar:
        events = read_trace(source, skip_bad=args.skip_bad, allocator_frames=args.allocator_frame,
                            progress=bar.update)
    LOG.info("writing %s", output)
    write_events(output, events)
    print(fit_lines(import_report(events, output)))
    return 0


def _summary(args: argparse.Namespace) -> int:
    from benchframe.output import writer
    from benchframe.trace.store import load_events
    from benchframe.trace.summary import summarise, summary_document

    if args.gap_us < 0:
        raise BenchframeError(f"--gap-us {args.gap_us:g}: must be 0 or more")
    if args.top < 0:
        raise BenchframeError(f"--top {args.top}: must be 0 or more")
    if args.plot:
        check_target(args.plot, "--plot")
    check_output(args)
    LOG.info("summarising %s (runs broken at gaps over %g us)", args.events, args.gap_us)
    events = load_events(args.events)
    summary = summarise(events, gap_ns=round(args.gap_us * 1000))
    emit(args, writer(args.format).render(summary_document(summary, top=args.top)))
    if args.plot:
        from benchframe.trace.plot import plot_runs

        plot_runs(summary, args.plot)
    return 0
