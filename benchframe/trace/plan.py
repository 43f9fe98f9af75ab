"""The replay plan of the ``trace`` workload: an imported trace turned into per-CPU sequences of allocator calls.

The events of each traced CPU become the calls of one simulated CPU (the trace's CPUs in ascending order of their
number, as many as the trace has, at most ``MAX_CPUS``), in recorded order:

* ``mm_page_alloc`` of order 0: one ``alloc_page()`` (``batch=none``), or, where it starts a run (``runs.py``,
  the same runs ``trace summary`` counts), one bulk call for the whole run (``batch=runs``) or for up to N of its
  allocations at a time (``batch=window:N``), at the place of the run's first allocation. A bulk call of one
  page is a single-page call. The call's gfp flags are those of the first allocation it serves.
* ``mm_page_alloc`` of order > 0: ``alloc_pages(gfp, order)``, the single-page path of every design (the bulk
  API serves order 0 only); measured apart.
* ``mm_page_free``: the page freed singly, ``__free_pages(page, order)``, unless an ``mm_page_free_batched`` of
  the same page follows on the same CPU (``free_unref_page_list()``/``free_unref_folios()`` trace both): then
  the consecutive ``mm_page_free_batched`` events of that CPU are one batch freed with one ``free_pages()``
  call of the design, at the place of the batch.
* ``mm_page_alloc_zone_locked`` and ``mm_page_pcpu_drain`` are the kernel's own refills and drains: the
  simulated allocator makes its own, so they are not replayed.

Pages: a trace pfn is mapped to a simulated page by *allocation*: each successful ``mm_page_alloc`` is an
allocation identity, the page the design returns for it is that identity's, and a free of a pfn frees the
identity that last allocated it. A free of a pfn no allocation in the trace handed out (allocated before the
capture began) is counted and ignored (``unknown_frees``). A pfn allocated again without a free in between (a
free the trace lost) is counted (``pfn_reused``); the earlier page stays held. Pages still held at the end of
the trace stay held.

Timestamps only order the events and find idle gaps, never costs: the simulated CPUs run back to back, and a
CPU whose next event comes after an idle gap (more than ``gap_ns`` since its previous one) first waits until
every other CPU has replayed everything recorded before that event, so CPUs that were busy at the same time in
the trace are busy at the same time in the simulation. A page allocated on one CPU and freed on another is
freed only once it has been allocated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from benchframe import BenchframeError
from benchframe.trace.events import (
    CONTEXT_CODE,
    MM_PAGE_ALLOC,
    MM_PAGE_FREE,
    MM_PAGE_FREE_BATCHED,
    NONE,
)
from benchframe.trace.runs import run_members

if TYPE_CHECKING:
    from benchframe.trace.store import TraceEvents

#: the most CPUs a replay simulates: the scheduler looks at every runnable CPU at each step it orders
MAX_CPUS = 64

#: the kinds of ``Op``
ALLOC, FREE, FREE_BATCH = 0, 1, 2
_NOP = -1  # an mm_page_free whose page was then freed in a batch


@dataclass(slots=True)
class Op:
    """One allocator call of one CPU: ``kind`` (ALLOC, FREE, FREE_BATCH), ``seq`` the index of its (first)
    event in the trace, the ``context`` code it ran in (``events.CONTEXTS``), ``after_gap``: the CPU was idle
    in the trace before it; ``ids`` the allocation identities it allocates or frees; ``gfp`` and ``order`` of an
    allocation; ``bulk_reachable``: an order-0 allocation in a run of two or more (one bulk call could serve
    it)."""

    kind: int
    seq: int
    context: int
    after_gap: bool
    ids: list[int]
    gfp: int = 0
    order: int = 0
    bulk_reachable: bool = False


@dataclass
class ReplayPlan:
    """Per simulated CPU its calls; per allocation identity its order; what the trace held that the replay
    leaves out, counted."""

    cpus: list[int]  # the trace's CPU numbers: simulated CPU i replays cpus[i]
    ops: list[list[Op]]
    orders: list[int]  # per allocation identity
    peak_pages: int  # the most pages (of the trace's own allocations) held at once
    counts: dict[str, int] = field(default_factory=dict)



def replayed_cpus(events: TraceEvents) -> list[int]:
    """The CPU numbers of the events a replay replays, ascending; at most ``MAX_CPUS``."""
    replayed = np.isin(events.event, (MM_PAGE_ALLOC, MM_PAGE_FREE, MM_PAGE_FREE_BATCHED))
    cpus = sorted(int(c) for c in np.unique(events.cpu[replayed]))
    if len(cpus) > MAX_CPUS:
        raise BenchframeError(f"{events.meta.source}: the trace has {len(cpus)} CPUs; a replay simulates at most "
                              f"{MAX_CPUS}")
    return cpus


def _run_positions(events: TraceEvents, gap_ns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per event: its run's number (-1 for an event that is no successful allocation), its place in the run, the
    run's length."""
    m = run_members(events, gap_ns)
    n = len(events)
    run = np.full(n, -1, dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    if len(m.index):
        starts = np.nonzero(m.start)[0]
        run[m.index] = m.run
        pos[m.index] = np.arange(len(m.index)) - starts[m.run]
        length[m.index] = np.bincount(m.run)[m.run]
    return run, pos, length


class _Builder:
    """One pass over the events in recorded order (see the module docstring)."""

    def __init__(self, events: TraceEvents, batch: int, gap_ns: int):
        self.batch = batch
        self.gap_ns = gap_ns
        self.masks = [int(x) for x in events.gfp_masks]
        self.cpus = replayed_cpus(events)
        self.index = {c: i for i, c in enumerate(self.cpus)}
        self.ops: list[list[Op]] = [[] for _ in self.cpus]
        self.last = [-1] * len(self.cpus)  # time of each CPU's previous replayed event
        self.orders: list[int] = []
        self.live: dict[int, int] = {}  # trace pfn -> the allocation identity holding it
        self.pending: dict[tuple[int, int], Op | None] = {}  # (cpu, pfn) of a free a free_batched may claim
        self.batches: list[Op | None] = [None] * len(self.cpus)  # each CPU's batch being filled
        self.chunks: dict[tuple[int, int], Op] = {}  # (run, chunk) -> its bulk call, while it takes members
        self.held = self.peak = 0
        self.counts = dict.fromkeys(("unknown_frees", "pfn_reused", "failed_in_trace", "order_mismatch_frees",
                                     "batched_without_free"), 0)

    def place(self, c: int, time: int) -> bool:
        """Whether CPU ``c`` was idle before an event at ``time``."""
        idle = self.last[c] >= 0 and time - self.last[c] > self.gap_ns
        self.last[c] = time
        return idle

    def alloc(self, c: int, i: int, ctx: int, gap: bool, pfn: int, order: int, gfp: int,
              run: tuple[int, int, int]) -> None:
        if pfn == NONE:
            self.counts["failed_in_trace"] += 1
            return
        ident = len(self.orders)
        self.orders.append(order)
        if pfn in self.live:
            self.counts["pfn_reused"] += 1
        self.live[pfn] = ident
        self.held += 1 << order
        self.peak = max(self.peak, self.held)
        if order:
            self.ops[c].append(Op(ALLOC, i, ctx, gap, [ident], gfp, order))
            return
        number, pos, length = run
        step = self.batch or length
        key = (number, pos // step)
        found = self.chunks.get(key) if pos % step else None
        if found is not None:  # a later allocation of the run: served by the call its first one made
            found.ids.append(ident)
            if len(found.ids) == step or pos == length - 1:
                del self.chunks[key]
            return
        op = Op(ALLOC, i, ctx, gap, [ident], gfp, 0, length >= 2)
        self.ops[c].append(op)
        if step > 1 and pos < length - 1:
            self.chunks[key] = op

    def free(self, c: int, i: int, ctx: int, gap: bool, pfn: int, order: int) -> None:
        ident = self.live.pop(pfn, None)
        if ident is None:
            self.counts["unknown_frees"] += 1
            self.pending[(c, pfn)] = None
            return
        if order != self.orders[ident]:
            self.counts["order_mismatch_frees"] += 1
        self.held -= 1 << self.orders[ident]
        op = Op(FREE, i, ctx, gap, [ident])
        self.ops[c].append(op)
        self.pending[(c, pfn)] = op

    def free_batched(self, c: int, i: int, ctx: int, gap: bool, pfn: int) -> None:
        key = (c, pfn)
        if key not in self.pending:
            self.counts["batched_without_free"] += 1
            return
        single = self.pending.pop(key)
        if single is None or self.orders[single.ids[0]]:  # a page from before the trace; a block of order > 0
            return
        single.kind = _NOP
        batch = self.batches[c]
        if batch is None:
            batch = self.batches[c] = Op(FREE_BATCH, i, ctx, gap, [])
            self.ops[c].append(batch)
        batch.ids.append(single.ids[0])

    def build(self, events: TraceEvents) -> ReplayPlan:
        run, pos, length = (a.tolist() for a in _run_positions(events, self.gap_ns))
        unknown, task = CONTEXT_CODE["unknown"], CONTEXT_CODE["task"]
        columns = zip(events.event.tolist(), events.cpu.tolist(), events.time_ns.tolist(), events.pfn.tolist(),
                      events.order.tolist(), events.gfp_id.tolist(), events.context.tolist())
        for i, (ev, cpu, time, pfn, order, gfp_id, ctx) in enumerate(columns):
            if ev not in (MM_PAGE_ALLOC, MM_PAGE_FREE, MM_PAGE_FREE_BATCHED):
                continue
            c = self.index[cpu]
            gap = self.place(c, time)
            ctx = task if ctx == unknown else ctx
            if ev == MM_PAGE_FREE_BATCHED:
                self.free_batched(c, i, ctx, gap, pfn)
                continue
            self.batches[c] = None  # any other event of the CPU ends its batch
            if ev == MM_PAGE_ALLOC:
                self.alloc(c, i, ctx, gap, pfn, order, self.masks[gfp_id], (run[i], pos[i], length[i]))
            else:
                self.free(c, i, ctx, gap, pfn, order)
        ops = [[op for op in cpu_ops if op.kind != _NOP] for cpu_ops in self.ops]
        return ReplayPlan(self.cpus, ops, self.orders, self.peak, self.counts)


def build_plan(events: TraceEvents, batch: int, gap_ns: int) -> ReplayPlan:
    """The replay of ``events`` with bulk calls of up to ``batch`` pages (``parse_batch``; 0: a whole run) and
    ``gap_ns`` the longest gap inside a run and the shortest idle gap."""
    return _Builder(events, batch, gap_ns).build(events)
