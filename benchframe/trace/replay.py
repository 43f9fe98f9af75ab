"""Loading a trace for the ``trace`` workload to replay, and keeping its events and plan for the next run.

What a replay does with the events (which calls each CPU makes, how pages and idle gaps are matched) is
``benchframe.trace.plan``; its names are re-exported here, where workloads and tests have imported them from.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.io import kind_of
from benchframe.kconfig import kernel_for_release
from benchframe.trace.plan import (
    ALLOC,
    FREE,
    FREE_BATCH,
    MAX_CPUS,
    Op,
    ReplayPlan,
    build_plan,
    replayed_cpus,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from benchframe.trace.store import TraceEvents

__all__ = ["ALLOC", "FREE", "FREE_BATCH", "MAX_CPUS", "Op", "ReplayPlan", "build_plan", "capture_kernel",
           "capture_zone_pages",
           "load_trace", "parse_batch", "replay_plan", "replayed_cpus", "trace_events"]

#: x86-64's ZONE_NORMAL starts at 4 GiB: every pfn from there is the Normal zone's
ZONE_NORMAL_START_PFN = 0x100000

_ZIP_MAGIC = b"PK\x03\x04"
_WINDOW = re.compile(r"window:(\d+)")


def parse_batch(text: str) -> int:
    """``none`` -> 1, ``runs`` -> 0 (a run in one call, however long), ``window:N`` -> N."""
    if text == "none":
        return 1
    if text == "runs":
        return 0
    found = _WINDOW.fullmatch(text)
    if found and int(found.group(1)) >= 1:
        return int(found.group(1))
    raise BenchframeError(f"workload trace: parameter batch={text!r}: expected none, runs or window:N (N >= 1)")


def load_trace(path: str | Path) -> TraceEvents:
    """An events file of ``benchframe trace import``, or trace text (perf script or ftrace, plain or
    compressed) imported on the way; a one-line error for anything else."""
    from benchframe.trace.importer import read_trace
    from benchframe.trace.store import load_events

    path = Path(path)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # a FIFO would block the open below for ever
            raise BenchframeError(f"{path}: is {kind_of(mode)}, not a trace file")
        with path.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise BenchframeError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BenchframeError(f"{path}: is a directory, not a trace") from None
    except OSError as exc:
        raise BenchframeError(f"{path}: cannot read: {exc.strerror}") from None
    if magic == _ZIP_MAGIC:
        return load_events(path)
    return read_trace(path)


@functools.lru_cache(maxsize=2)
def _events(path: str, size: int, mtime_ns: int) -> TraceEvents:
    return load_trace(path)


@functools.lru_cache(maxsize=4)
def _plan(path: str, size: int, mtime_ns: int, batch: int, gap_ns: int) -> ReplayPlan:
    return build_plan(_events(path, size, mtime_ns), batch, gap_ns)


def _identity(path: str) -> tuple[str, int, int] | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None  # load_trace says what is wrong
    return path, st.st_size, st.st_mtime_ns


def trace_events(path: str) -> TraceEvents:
    """``load_trace``, kept for the next run of the same file in this process (a compare runs every design on
    it); a trace with more CPUs than a replay simulates is a one-line error too."""
    key = _identity(path)
    events = _events(*key) if key else load_trace(path)
    replayed_cpus(events)
    return events


def replay_plan(path: str, batch: str, gap_ns: int) -> ReplayPlan:
    """``build_plan`` of the trace at ``path``, kept like ``trace_events``."""
    step = parse_batch(batch)
    key = _identity(path)
    return _plan(*key, step, gap_ns) if key else build_plan(load_trace(path), step, gap_ns)


def capture_kernel(paths: Iterable[str]) -> tuple[str, str] | None:
    """The modelled kernel version a replay of the captures at ``paths`` runs on when none is asked for, and
    the release it stands for: ``kconfig.kernel_for_release()`` of the release their headers name (``perf
    script --header``'s ``os release``). None when no header names one; captures of different releases are a
    one-line error (one run has one kernel)."""
    releases = sorted({r for r in (trace_events(p).meta.os_release for p in paths if p) if r})  # "": the
    # workload's own check says the file is missing
    if not releases:
        return None
    if len(releases) > 1:
        raise BenchframeError(f"the captures ran different kernels ({', '.join(releases)}): one run replays on "
                              "one version, choose it with --kernel")
    try:
        return kernel_for_release(releases[0]).name, releases[0]
    except BenchframeError as exc:
        raise BenchframeError(f"the capture's header: {exc}; choose a version with --kernel") from None


def capture_zone_pages(events: TraceEvents) -> int:
    """The Normal zone of the captured machine in pages, inferred from the pfns: on x86-64 a pfn at or above
    4 GiB (0x100000) is ZONE_NORMAL's, which starts there, so the zone spans at least from there to the highest
    pfn seen (an inference: it may end higher). 0 when no pfn is that high (the capture says nothing of it)."""
    pfns = events.pfn
    top = int(pfns.max()) if len(pfns) else -1
    return top + 1 - ZONE_NORMAL_START_PFN if top >= ZONE_NORMAL_START_PFN else 0
