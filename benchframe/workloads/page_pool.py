"""``page_pool``: a driver's NAPI poll taking one page per packet from its page_pool, as
``page_pool_alloc_pages()`` does since 5.13 (be5dba25b4b2; kernel-facts §7).

One CPU runs the NAPI poll in softirq context and takes one page per received packet from the 128-entry
``pool->alloc.cache`` (the fast path); when the cache is empty, ``page_pool_refill_alloc_cache()`` finds the
ptr_ring empty (XDP_REDIRECT returns no pages to it) and ``__page_pool_alloc_pages_slow()`` NULLs 64 slots and
refills ``PP_ALLOC_CACHE_REFILL`` (64) pages through the design: array designs fill the cache directly, list
designs pay for walking the returned list into it (``api.Caller``). The baseline without a bulk API
(``Design.bulk_api`` false: ``single``) runs the slow path as it was before 5.13: one ``alloc_pages_node()``
per call, so every packet pays the fast-path miss, the ring check and the slow path's call. Each step's work
is counted from the code (``PP_*`` below) and priced by the profile.

Pages leave as with XDP_REDIRECT: each is freed ``free_delay`` packets later (TX completion), and a
``remote_free`` share of them on another CPU (then the run has two CPUs and the pages cross between them in
simulated-time order).

Packets per second: ``clock / (other_cycles + alloc_cycles_per_packet)`` where ``other_cycles`` is the rest
of the per-packet work (driver, XDP program, redirect), a parameter; ``budget_cycles`` is the line-rate budget
(10 Gbit/s at 64 B = 67.2 ns = 241 cycles at 3.6 GHz, kernel-facts §6.1) against which the allocation share is
reported.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from benchframe.api import IDLE, MAX_PAGES, Frame, Param, Site, Study, Work, Workload
from benchframe.hw.cpu import CPU, SOFTIRQ
from benchframe.hw.topology import Topology
from benchframe.mm.page import __GFP_NOWARN, GFP_ATOMIC

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.kconfig import KernelConfig
    from benchframe.workloads.context import RunContext

PP_ALLOC_CACHE_SIZE = 128
PP_ALLOC_CACHE_REFILL = 64
PP_GFP = GFP_ATOMIC | __GFP_NOWARN  # drivers' NAPI refill gfp (kernel-facts §7: UNCONFIRMED, typical)
#: attribution's caller frames: the slow path (kernel-facts §2.1's profile shows it) and the XDP_REDIRECT free
FRAMES = ("__page_pool_alloc_pages_slow", "xdp_return_frame")
IDLE_QUANTUM = 500  # cycles the freeing CPU idles between looks at its queue

# -- page_pool's own work (net/core/page_pool.c, 5.13), counted as benchframe.mm.work counts the kernel's -----------
PP_ALLOC = Work(data=2, regs=2, calls=1, counted=(
    "page_pool_alloc_pages() (exported, called by the driver) and __page_pool_get_cached() (inlined): "
    "pool->alloc.count, then on a hit pool->alloc.cache[--count] (a load and the count's store); its "
    "prologue/epilogue; the call."))
PP_HIT = Work(data=2, counted="the fast path's hit: pool->alloc.cache[--pool->alloc.count] and the store")
PP_RING_EMPTY = Work(data=3, counted=(
    "page_pool_refill_alloc_cache() (inlined): __ptr_ring_empty(): r->size, r->consumer_head, "
    "r->queue[consumer_head] -- empty, so no lock is taken."))
PP_SLOW = Work(data=5, regs=8, calls=1, counted=(
    "__page_pool_alloc_pages_slow() (a symbol of its own, kernel-facts §2.1): pool->p.flags and p.order, the "
    "pool->alloc.count test, at the end pool->alloc.cache[--pool->alloc.count] (load, store); the "
    "prologue/epilogue (four registers); the call."))
PP_SLOW_NODE = Work(data=4, regs=4, calls=1, counted=(
    "__page_pool_alloc_pages_slow() before 5.13: pool->p.order, pool->p.nid and p.flags for "
    "alloc_pages_node(), pool->pages_state_hold_cnt++ (load, store... the tracepoint is a static key); the "
    "prologue/epilogue (two registers); the call."))
PP_NULL_SLOTS = Work(data=64, counted=(
    "memset(&pool->alloc.cache, 0, sizeof(void *) * PP_ALLOC_CACHE_REFILL): 64 eight-byte stores."))
PP_KEEP = Work(data=5, counted=(
    "per page the bulk call returned: pool->alloc.cache[i] (load), cache[pool->alloc.count++] (the count, the "
    "store), pool->pages_state_hold_cnt++ (load, store); PP_FLAG_DMA_MAP is not set."))
NAPI_FRAMES = (Frame("net_rx_action"), Frame("napi_poll"))
ALLOC_FRAMES = (Frame("page_pool_alloc_pages"),)


def _topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    return Topology.uma(cpus=2 if params["remote_free"] > 0 else 1)


class PagePool:
    """One page_pool: its ``alloc.cache`` filled by the NAPI poll on ``rx``, pages redirected and freed
    ``free_delay`` packets later, a ``remote_free`` share of them on the TX-completion CPU."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        p = self.p = ctx.params
        self.rx = ctx.cpus[0]
        self.caller = ctx.caller(self.rx, frames=FRAMES)
        self.remote = ctx.caller(ctx.cpus[1], frames=FRAMES) if len(ctx.cpus) > 1 else None
        self.cache: list[int] = []  # pool->alloc.cache[0 .. count)
        self.slots: list[int | None] = [None] * p["refill"]
        self.in_flight: deque[int] = deque()  # pages redirected, not yet freed
        self.to_remote: deque[tuple[float, int]] = deque()  # (time handed over, page)
        self.done = False
        self.alloc_cycles = 0
        prices = ctx.kernel.prices
        self.bulk_api = ctx.design.bulk_api
        alloc, hit, ring = prices(PP_ALLOC), prices(PP_HIT), prices(PP_RING_EMPTY)
        self.c_hit = alloc + hit
        self.c_miss = alloc + ring
        self.s_alloc = Site.at(*ALLOC_FRAMES)
        self.c_slow = prices(PP_SLOW) + prices(PP_NULL_SLOTS) if self.bulk_api else prices(PP_SLOW_NODE)
        self.c_keep = prices(PP_KEEP)

    def page_pool_alloc_pages(self, cpu: CPU) -> int | None:
        """``page_pool_alloc_pages()``: the cache's last page, else the slow path (the ring is empty)."""
        t0 = cpu.clock
        if self.cache:
            cpu.charge(self.c_hit, self.s_alloc)
            page: int | None = self.cache.pop()  # pool->alloc.cache[--pool->alloc.count]
        else:
            cpu.charge(self.c_miss, self.s_alloc)
            cpu.frame_push(ALLOC_FRAMES)
            page = self.alloc_pages_slow(cpu)
            cpu.frame_pop()
        self.alloc_cycles += cpu.clock - t0
        return page

    def alloc_pages_slow(self, cpu: CPU) -> int | None:
        """``__page_pool_alloc_pages_slow()``: since 5.13 NULL the first ``refill`` slots, bulk-allocate into
        them, keep what came back and return the last; before (no bulk API) one ``alloc_pages_node()``."""
        caller = self.caller
        if not self.bulk_api:
            cpu.charge(self.c_slow, Site.at(*caller.alloc_frames))
            return caller.alloc_page_node(PP_GFP, cpu.node)
        refill = self.p["refill"]
        slots = self.slots
        cpu.charge(self.c_slow, Site.at(*caller.alloc_frames))  # the call, memset() of the slots
        for i in range(refill):
            slots[i] = None
        n = caller.alloc_array(PP_GFP, slots, refill, scans=0)  # the cache is known empty: no NULL test
        cpu.charge(self.c_keep * n, Site.at(*caller.alloc_frames))
        self.cache.extend(reversed([pg for pg in slots[:n] if pg is not None]))
        return self.cache.pop() if self.cache else None

    def redirect(self, cpu: CPU, page: int) -> None:
        """The packet's page goes out; the one sent ``free_delay`` packets ago completes and is freed."""
        self.in_flight.append(page)
        if len(self.in_flight) > self.p["free_delay"]:
            done = self.in_flight.popleft()
            share = self.p["remote_free"]
            if self.remote is not None and (share >= 1.0 or self.ctx.rng.random() < share):  # all: no draw
                self.ctx.machine.sync(cpu)
                self.to_remote.append((cpu.clock, done))
            else:
                self.caller.free(done)

    def napi_poll(self, cpu: CPU) -> None:
        p = self.p
        saved = cpu.context
        cpu.context = SOFTIRQ
        cpu.frame_push(NAPI_FRAMES)
        for packet in range(p["warmup"] + p["packets"]):
            if packet == p["warmup"]:
                self.ctx.reset_measurement()
                self.alloc_cycles = 0
            page = self.page_pool_alloc_pages(cpu)
            if page is None:
                continue  # allocation failure: drop the packet
            self.redirect(cpu, page)
        cpu.frame_pop(len(NAPI_FRAMES))
        cpu.context = saved
        for page in self.in_flight:
            self.caller.free(page)
        self.in_flight.clear()
        self.done = True

    def tx_completion(self, cpu: CPU) -> None:
        remote = self.remote
        assert remote is not None
        while True:
            self.ctx.machine.sync(cpu)
            while self.to_remote and self.to_remote[0][0] <= cpu.clock:
                remote.free(self.to_remote.popleft()[1])
            if self.done and not self.to_remote:
                return
            cpu.charge(IDLE_QUANTUM, IDLE)


def run(ctx: RunContext) -> None:
    p = ctx.params
    pool = PagePool(ctx)
    if pool.remote is None:
        ctx.machine.run({pool.rx: pool.napi_poll})
    else:
        ctx.machine.run({pool.rx: pool.napi_poll, ctx.cpus[1]: pool.tx_completion})
    for page in pool.cache:  # page_pool_destroy(): return the cached pages
        pool.caller.free(page)
    per_packet = pool.alloc_cycles / p["packets"]
    ctx.record("alloc_cycles_per_packet", round(per_packet, 3))
    ctx.record("packets_per_sec", round(ctx.costs.clock_ghz * 1e9 / (p["other_cycles"] + per_packet)))
    ctx.record("alloc_share_of_budget_pct", round(100.0 * per_packet / p["budget_cycles"], 3))


WORKLOAD = Workload(
    name="page_pool",
    run=run,
    seeded=lambda p: 0.0 < p["remote_free"] < 1.0,  # only a share of the frees made remote is drawn
    description="NAPI softirq page_pool: one page per packet from a 128-entry cache, refilled 64 at a time",
    params=(
        Param("packets", 16384, "packets received (measured)", minimum=1, maximum=MAX_PAGES),
        Param("warmup", 256, "packets received before measuring", minimum=0, maximum=MAX_PAGES),
        Param("refill", PP_ALLOC_CACHE_REFILL, "pages per refill (PP_ALLOC_CACHE_REFILL)", minimum=1,
              maximum=MAX_PAGES),
        Param("free_delay", 64, "packets between a page's use and its free (TX completion)", minimum=0,
              maximum=MAX_PAGES),
        Param("remote_free", 0.0, "share of pages freed on another CPU (0..1)", type=float, minimum=0.0,
              maximum=1.0),
        Param("other_cycles", 200, "per-packet cycles outside page allocation (driver, XDP, redirect)",
              minimum=0),
        Param("budget_cycles", 241, "per-packet cycle budget (10G@64B at 3.6 GHz = 241)", minimum=1),
    ),
    topology=_topology,
    metrics={
        "alloc_cycles_per_packet": ("cycles", "lower", "cycles per packet in page_pool_alloc_pages(): the cache's "
                                    "fast path, its slow path and the page allocator"),
        "packets_per_sec": ("pps", "higher", "clock / (other_cycles + alloc_cycles_per_packet)"),
        "alloc_share_of_budget_pct": ("%", "lower", "alloc_cycles_per_packet as a share of budget_cycles"),
    },
    studies=(Study("page_pool", "page_pool refill of 64 pages in NAPI softirq context: cost per packet",
                   ("alloc_cycles_per_packet", "packets_per_sec", "irqs_off_max_cycles")),),
)
