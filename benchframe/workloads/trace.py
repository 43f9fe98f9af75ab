"""``trace``: a recorded workload replayed on every design -- the page allocations and frees of a real trace.

``--param file=T`` names a trace (an events file of ``benchframe trace import``, or perf script / ftrace text);
``batch`` says how its order-0 allocations reach the design: ``none`` one ``alloc_page()`` each (the
single-page baseline), ``runs`` one bulk call per run (consecutive order-0 allocations of one call site on one
CPU, at most ``gap_us`` apart: what ``trace summary`` counts), ``window:N`` bulk calls of up to N pages of a
run. ``benchframe.trace.replay`` says what is replayed and how trace pages map to simulated ones.

The machine has the CPUs (``cpus``) and memory (``memory_mb``, one Normal zone) of the captured machine, so
``pcp->batch`` and ``pcp->high`` are those of its zone: by default what the capture's header says (``perf script
--header``: ``nrcpus online``, ``total memory``), else as many CPUs as the trace has and a zone inferred from the
pfns (on x86-64 ZONE_NORMAL starts at 4 GiB, pfn 0x100000, so it spans at least from there to the highest pfn
seen: an inference, the zone may be larger; used when it has room for what the trace holds), else room for what
the trace holds; each CPU replays its
CPU's events in recorded order, in the recorded context (task, softirq, hardirq). A capture replays on the kernel
it was taken on: without ``--kernel``, ``run`` and ``compare`` take the modelled version of the release its header
names (``trace.replay.capture_kernel``: 6.14 for 6.18); the shared captures have no header (``--kernel 6.14``).
Order > 0 allocations take the single-page path of every design (on 5.13 the buddy lists under ``zone->lock``; from
5.14 orders <= 3 and THP through the pcp lists) and are reported apart.
The replay's blocks taken off the buddy lists and drained from the pcp lists are reported next to the trace's
own ``mm_page_alloc_zone_locked`` and ``mm_page_pcpu_drain`` counts.
The standard per-page metrics are those of order-0 pages; the workload's own metrics
add the order > 0 pages, the totals, and the share of the allocator time the bulk API could touch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.api import IDLE, Param, Study, Workload
from benchframe.hw.topology import MAX_ORDER, Topology
from benchframe.trace.events import CONTEXTS, MM_PAGE_ALLOC_ZONE_LOCKED, MM_PAGE_PCPU_DRAIN
from benchframe.trace.replay import ALLOC, FREE, capture_zone_pages, parse_batch, replay_plan, trace_events

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.hw.cpu import CPU
    from benchframe.kconfig import KernelConfig
    from benchframe.trace.replay import Op, ReplayPlan
    from benchframe.workloads.context import Caller, RunContext

PENDING = -2  # an allocation identity whose allocation has not been replayed yet
FAILED = -1  # ... that the design could not serve
DONE = 1 << 62  # the progress of a CPU that has replayed everything
DEFAULT_PAGES = 262144  # 1 GiB, Topology.uma's default
MAX_MEMORY_MB = 65536  # the largest machine a replay simulates (memory_mb's maximum)
MIN_ZONE_PAGES = 1 << (MAX_ORDER - 1)  # the smallest zone a Topology takes: one MAX_ORDER block


def _plan(params: Mapping[str, Any]) -> ReplayPlan:
    _check_file(params["file"])
    return replay_plan(params["file"], params["batch"], round(params["gap_us"] * 1000))


def _check_file(value: str) -> None:
    """A bad trace fails before anything runs: load it (kept for the runs) and count its CPUs."""
    if not value:
        raise BenchframeError("workload trace: parameter file is required (--param file=T, or --workloads trace:T "
                              "in compare: an events file of 'benchframe trace import', or perf/ftrace text)")
    trace_events(value)


def _topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    plan = _plan(params)
    meta = trace_events(params["file"]).meta
    cpus = params["cpus"] or max(1, meta.nrcpus_online, len(plan.cpus))
    if cpus < len(plan.cpus):
        raise BenchframeError(f"workload trace: parameter cpus={cpus} is fewer than the trace's {len(plan.cpus)} "
                              "CPUs")
    pages = _zone_pages(params, plan)
    if not pages:
        pages = DEFAULT_PAGES
        while pages < 4 * plan.peak_pages:  # room for what the trace holds at once, far from the watermarks
            pages *= 2
    if config.numa:
        return Topology.numa(nodes=2, cpus_per_node=max(1, -(-cpus // 2)), normal_pages=pages)
    return Topology.uma(cpus=cpus, normal_pages=pages)


def _zone_pages(params: Mapping[str, Any], plan: ReplayPlan) -> int:
    """The simulated Normal zone: ``memory_mb``; else the capture header's total memory; else the Normal zone
    its pfns lie in, up to the highest one (``replay.capture_zone_pages``, an inference) if that has room for
    what the trace holds; else 0 (the default)."""
    if params["memory_mb"]:
        return int(params["memory_mb"]) * 256
    events = trace_events(params["file"])
    pages, how = events.meta.total_memory_kb // 4, "the capture's header says"
    if not pages:
        pages, how = capture_zone_pages(events), "the capture's pfns imply"
        if pages < max(4 * plan.peak_pages, MIN_ZONE_PAGES):
            return 0
    if pages > MAX_MEMORY_MB * 256:
        raise BenchframeError(f"workload trace: {how} {pages >> 8} MiB of memory, more than a replay simulates "
                              f"({MAX_MEMORY_MB} MiB): pass memory_mb=N")
    return pages


class Replay:
    """The simulated CPUs replaying their calls, ordered against each other (``trace.replay``'s docstring)."""

    def __init__(self, ctx: RunContext, plan: ReplayPlan):
        self.ctx = ctx
        self.plan = plan
        self.engine = ctx.machine.engine
        self.pages = [PENDING] * len(plan.orders)  # per allocation identity: its simulated page
        self.progress = [ops[0].seq if ops else DONE for ops in plan.ops]  # each CPU's next event
        self.waiting: list[tuple[CPU, int, int]] = []  # (cpu, identity or -1, seq): what it waits for
        self.reachable_cycles = 0  # cycles of order-0 allocations that one bulk call per run could serve
        self.failures = 0
        self.bulk_calls = 0

    def ready(self, cpu: CPU, ident: int, seq: int) -> bool:
        if ident >= 0:
            return self.pages[ident] != PENDING
        return all(p > seq for i, p in enumerate(self.progress) if i != cpu.id)

    def wait(self, cpu: CPU, ident: int, seq: int) -> None:
        """Until ``ident`` is allocated (``ident >= 0``), or every other CPU has replayed its events before
        ``seq``; the CPU idles meanwhile (its clock moves to the one that let it go)."""
        if self.ready(cpu, ident, seq):
            return
        self.waiting.append((cpu, ident, seq))
        cpu.waiting_for = f"trace event {seq}" if ident < 0 else f"allocation {ident}"
        self.engine.block(cpu)
        cpu.waiting_for = None

    def advanced(self, cpu: CPU) -> None:
        """``cpu`` has moved on: wake whoever waited for it."""
        still = []
        for waiter, ident, seq in self.waiting:
            if self.ready(waiter, ident, seq):
                if waiter.clock < cpu.clock:
                    waiter.account(cpu.clock - waiter.clock, IDLE)
                    waiter.clock = cpu.clock
                self.engine.wake(waiter)
            else:
                still.append((waiter, ident, seq))
        self.waiting = still

    def task(self, cpu: CPU) -> None:
        caller = self.ctx.caller(cpu)
        ops = self.plan.ops[cpu.id]
        sync = self.ctx.machine.sync
        for k, op in enumerate(ops):
            sync(cpu)
            if op.after_gap:
                self.wait(cpu, -1, op.seq)
            if op.kind != ALLOC:
                for ident in op.ids:
                    self.wait(cpu, ident, op.seq)
            saved = cpu.context
            cpu.context = CONTEXTS[op.context]
            self.call(caller, op)
            cpu.context = saved
            self.progress[cpu.id] = ops[k + 1].seq if k + 1 < len(ops) else DONE
            if self.waiting:
                self.advanced(cpu)
        self.progress[cpu.id] = DONE
        if self.waiting:
            self.advanced(cpu)

    def call(self, caller: Caller, op: Op) -> None:
        pages = self.pages
        if op.kind == ALLOC:
            t0 = caller.cpu.clock
            if op.order or len(op.ids) == 1:
                page = caller.alloc_pages(op.gfp, op.order)
                got = [page] if page is not None else []
            else:
                got = caller.alloc(op.gfp, len(op.ids))
                self.bulk_calls += 1
            for i, ident in enumerate(op.ids):
                pages[ident] = got[i] if i < len(got) else FAILED
            self.failures += len(op.ids) - len(got)
            if op.bulk_reachable:
                self.reachable_cycles += caller.cpu.clock - t0
            return
        held = [pages[ident] for ident in op.ids if pages[ident] >= 0]
        if op.kind == FREE:
            if held:
                caller.free_pages_order(held[0], self.plan.orders[op.ids[0]])
        elif held:
            caller.free_pages(held)


def _per(num: float, den: float) -> float | None:
    return round(num / den, 3) if den else None


def run(ctx: RunContext) -> None:
    plan = _plan(ctx.params)
    cpus = ctx.cpus[:len(plan.ops)]
    for _ in range(ctx.params["warmup"]):  # the captured kernel's pcp lists were warm: replay once, unmeasured
        warm = Replay(ctx, plan)
        if cpus:
            ctx.machine.run({cpu: warm.task for cpu in cpus})
        ctx.reset_measurement()
    replay = Replay(ctx, plan)
    if cpus:
        ctx.machine.run({cpu: replay.task for cpu in cpus})
    m = ctx.measurement
    order0 = m.alloc_cycles + m.free_cycles
    high = m.high_order_alloc_cycles + m.high_order_free_cycles
    total = order0 + high
    pages = m.pages_allocated + m.high_order_pages_allocated
    ctx.record("allocator_cycles_total", total)
    ctx.record("allocator_cycles_per_page", _per(total, pages))
    ctx.record("order0_cycles_total", order0)
    ctx.record("high_order_cycles_total", high)
    ctx.record("high_order_cycles_per_page", _per(high, m.high_order_pages_allocated))
    ctx.record("high_order_pages", m.high_order_pages_allocated)
    ctx.record("bulk_share_pct", _per(100.0 * replay.reachable_cycles, total))
    ctx.record("bulk_calls", replay.bulk_calls)
    ctx.record("alloc_failures", replay.failures)
    ctx.record("unknown_frees", plan.counts["unknown_frees"])
    ctx.record("pfn_reused", plan.counts["pfn_reused"])
    ctx.record("held_at_end", len(m.held) - len(m.held_order) + sum(1 << o for o in m.held_order.values()))
    _record_kernel_counts(ctx, params_file=ctx.params["file"])


def _record_kernel_counts(ctx: RunContext, params_file: str) -> None:
    """The replay's zone->lock allocations and pcp drains next to the trace's own events."""
    events = trace_events(params_file).event
    stat = ctx.kernel.stat
    locked = int((events == MM_PAGE_ALLOC_ZONE_LOCKED).sum())
    drained = int((events == MM_PAGE_PCPU_DRAIN).sum())
    ctx.record("zone_locked_blocks", stat.buddy_blocks)
    ctx.record("trace_zone_locked", locked)
    ctx.record("zone_locked_ratio", _per(stat.buddy_blocks, locked))
    ctx.record("pcp_drained_blocks", stat.pcp_drained_blocks)
    ctx.record("trace_pcpu_drain", drained)


WORKLOAD = Workload(
    name="trace",
    run=run,
    seeded=False,  # the trace fixes the order of every call
    description="a real page-allocation trace (benchframe trace import) replayed per CPU in recorded order",
    params=(
        Param("file", "", "the trace: an events file of 'benchframe trace import', or perf/ftrace text",
              type=str, check=_check_file, path=True),
        Param("batch", "runs", "order-0 allocations: none (one by one), runs (a bulk call per run), window:N "
              "(bulk calls of up to N pages of a run)", type=str, check=parse_batch),
        Param("gap_us", 20.0, "longest gap inside a run, shortest idle gap (microseconds of trace time)",
              type=float, minimum=0.0),
        Param("warmup", 0, "unmeasured replays of the whole trace first, so the pcp lists are as warm as the "
              "captured kernel's were (pages they leave held stay held)", minimum=0, maximum=2),
        Param("cpus", 0, "CPUs of the captured machine (0: the capture header's 'nrcpus online', at least as "
              "many as the trace has)", minimum=0, maximum=64),
        Param("memory_mb", 0, "memory of the captured machine in MiB, one Normal zone: sets pcp->batch and "
              "pcp->high (0: the capture header's 'total memory'; without a header, inferred from the pfns: on "
              "x86-64 the Normal zone from 4 GiB, where ZONE_NORMAL starts, up to the highest pfn seen, if that "
              "has room for what the trace holds; else room for it, at least 1 GiB)",
              minimum=0, maximum=MAX_MEMORY_MB),
    ),
    topology=_topology,
    metrics={
        "allocator_cycles_total": ("cycles", "lower", "cycles in allocator calls, all orders, allocation and free"),
        "allocator_cycles_per_page": ("cycles", "lower", "allocator_cycles_total per page allocated (all orders)"),
        "bulk_share_pct": ("%", "lower", "share of allocator_cycles_total spent allocating the order-0 pages of "
                           "runs of 2 or more: what bulk calls could touch (with batch=runs, what they took)"),
        "order0_cycles_total": ("cycles", "lower", "cycles in allocator calls for order-0 pages"),
        "high_order_cycles_total": ("cycles", "lower", "cycles in allocator calls for order > 0 blocks, which the "
                                    "bulk API does not serve"),
        "high_order_cycles_per_page": ("cycles", "lower", "high_order_cycles_total per page of order > 0 blocks"),
        "high_order_pages": ("pages", "higher", "pages allocated in order > 0 blocks"),
        "bulk_calls": ("calls", "lower", "bulk calls made (batch=runs or window:N)"),
        "alloc_failures": ("pages", "lower", "trace allocations the design could not serve"),
        "unknown_frees": ("pages", "lower", "frees of pages allocated before the trace began (ignored)"),
        "pfn_reused": ("allocs", "lower", "pfns allocated again without a free in the trace (the earlier page "
                       "stays held)"),
        "held_at_end": ("pages", "lower", "pages still allocated when the trace ends (the trace freed them later, "
                        "or never)"),
        "zone_locked_blocks": ("blocks", "lower", "blocks the replay took off the buddy lists under zone->lock "
                               "(pcp refills and direct buddy allocations): what mm_page_alloc_zone_locked counts"),
        "trace_zone_locked": ("events", "lower", "mm_page_alloc_zone_locked events in the trace"),
        "zone_locked_ratio": ("x", "lower", "zone_locked_blocks / trace_zone_locked: 1 is the captured kernel"),
        "pcp_drained_blocks": ("blocks", "lower", "blocks the replay drained from pcp lists to the buddy lists: "
                               "what mm_page_pcpu_drain counts"),
        "trace_pcpu_drain": ("events", "lower", "mm_page_pcpu_drain events in the trace"),
    },
    standard=False,
    headline=("allocator_cycles_per_page", "allocator_cycles_total", "high_order_cycles_per_page", "bulk_share_pct",
              "bulk_calls", "irqs_off_max_cycles", "invariant_violations"),
    studies=(Study("trace", "A recorded workload replayed (--workloads trace:FILE): its order-0 allocations one by "
                   "one (batch=none, the single-page baseline) or one bulk call per run (batch=runs); order > 0 "
                   "blocks take the single-page path either way",
                   ("allocator_cycles_total", "allocator_cycles_per_page", "alloc_cycles_per_page", "bulk_share_pct",
                    "high_order_cycles_per_page", "irqs_off_max_cycles", "zone_lock_wait_cycles", "fallbacks"),
                   "batch", ("none", "runs"), params={"file": ""}),),  # --workloads trace:FILE names the file
)
