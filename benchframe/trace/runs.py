"""Runs: consecutive order-0 allocations one bulk call could have served.

A run is a maximal sequence of successful order-0 ``mm_page_alloc`` events that

- come from one *stream*: one CPU, in one context, and in task context one task (an interrupt that allocates
  in the middle of a task's loop is a stream of its own, as it is a caller of its own); without call chains
  or irq-info the context is unknown and the stream is the CPU alone: the trace can only group by CPU and time;
- are consecutive among that stream's allocations (an allocation from another call site, or of order > 0,
  ends the run), come from one call site, and
- follow each other by at most ``gap_ns`` (an idle gap ends the run).

Every order-0 allocation is in exactly one run; a run of length 1 is an allocation no bulk call could batch.
Timestamps only order the events and find idle gaps: they are never used as costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from benchframe.trace.events import CONTEXT_CODE, MM_PAGE_ALLOC, NONE

if TYPE_CHECKING:
    from benchframe.trace.store import TraceEvents

TASK = CONTEXT_CODE["task"]


@dataclass
class Runs:
    """One entry per run: its call site (an id into ``TraceEvents.call_sites``), CPU, context and length."""

    call_site_id: np.ndarray
    cpu: np.ndarray
    context: np.ndarray
    length: np.ndarray
    gap_ns: int

    def __len__(self) -> int:
        return len(self.length)


@dataclass
class Members:
    """Which run each successful allocation is in: ``index`` the allocations' event indices, grouped by stream and
    in time order within one; ``start`` whether each starts a new run; ``run`` its run's number (runs numbered
    in that order; an allocation of order > 0 is a run of its own, marked ``order > 0``)."""

    index: np.ndarray
    start: np.ndarray
    run: np.ndarray
    order: np.ndarray


def run_members(events: TraceEvents, gap_ns: int) -> Members:
    """The run of every successful allocation of ``events`` with ``gap_ns`` the longest gap inside a run."""
    alloc = np.nonzero((events.event == MM_PAGE_ALLOC) & (events.pfn != NONE))[0]
    cpu = events.cpu[alloc]
    context = events.context[alloc]
    task = np.where(context == TASK, events.pid[alloc], -1)  # the task matters in task context only
    time = events.time_ns[alloc]
    site = events.call_site_id[alloc]
    order = events.order[alloc]
    # streams in time order; file order breaks ties (perf and ftrace print in time order)
    by = np.lexsort((np.arange(len(alloc)), time, task, context, cpu))
    cpu, context, task, time, site, order = cpu[by], context[by], task[by], time[by], site[by], order[by]
    start = np.ones(len(alloc), dtype=bool)  # this allocation starts a new run
    if len(alloc) > 1:
        start[1:] = ((cpu[1:] != cpu[:-1]) | (context[1:] != context[:-1]) | (task[1:] != task[:-1])
                     | (site[1:] != site[:-1]) | (order[1:] != 0) | (order[:-1] != 0)
                     | (time[1:] - time[:-1] > gap_ns))
    return Members(alloc[by], start, np.cumsum(start) - 1, order)


def find_runs(events: TraceEvents, gap_ns: int) -> Runs:
    """The order-0 runs of ``events`` with ``gap_ns`` the longest gap inside a run."""
    m = run_members(events, gap_ns)
    index, start, run_of, order = m.index, m.start, m.run, m.order
    zero = order == 0
    firsts = np.nonzero(start & zero)[0]
    length = np.bincount(run_of[zero], minlength=int(run_of[-1]) + 1 if len(run_of) else 0)[run_of[firsts]]
    first = index[firsts]
    return Runs(events.call_site_id[first], events.cpu[first], events.context[first], length.astype(np.int64),
                gap_ns)


def nearest_rank(values: np.ndarray, pct: float) -> int:
    """The ``pct`` percentile by nearest rank: always a length some run has (0 for no runs)."""
    if not len(values):
        return 0
    ordered = np.sort(values)
    rank = max(1, int(np.ceil(pct / 100.0 * len(ordered))))
    return int(ordered[rank - 1])


#: run-length bins of the histogram: powers of two, as bulk sizes are usually chosen
BINS = ((1, 1), (2, 2), (3, 4), (5, 8), (9, 16), (17, 32), (33, 64), (65, 128), (129, None))


def bin_label(low: int, high: int | None) -> str:
    if high is None:
        return f"{low}+"
    return str(low) if low == high else f"{low}-{high}"


def histogram(lengths: np.ndarray) -> list[tuple[str, int, int]]:
    """``(bin label, runs, pages)`` per bin of ``BINS``."""
    out = []
    for low, high in BINS:
        inside = (lengths >= low) & (lengths <= (high if high is not None else np.iinfo(np.int64).max))
        out.append((bin_label(low, high), int(inside.sum()), int(lengths[inside].sum())))
    return out
