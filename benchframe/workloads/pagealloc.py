"""``pagealloc``: Mel Gorman's page allocator microbenchmark from mmtests (``stap-scripts/pagealloc-micro.stp``,
run by ``shellpack_src/src/pagealloc/pagealloc-bench``; kernel-facts §2.5), allocation and free timed apart.

The module's loops as written, per (order, batch):

* ``outer`` (10) times, ``inner`` (100) times: ``cond_resched()`` (outside the timing; the model has no other
  task, so it costs nothing here), then one timed interval -- an rdtsc pair around
  ``for (nr = 0; nr <= batch; nr++) pages[nr] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);`` (batch + 1
  pages: the loop's ``<=``) -- then a second timed interval, ``__free_pages()`` of each non-NULL page in the
  same order;
* after each outer iteration the accumulated cycles of each interval kind are divided, in place, by ``inner``
  and by ``batch`` (C unsigned long divisions) and printed, and not reset: a running figure; the result is the
  mean of the printed figures (mmtests' Amean).

``mode=bulk`` fills the ``batch + 1`` slots with the design's bulk API instead of the alloc loop (array
designs directly, list designs walking the returned list into the array; a short return is called again), and
frees them with the same loop. ``warmup`` interval pairs run first, untimed: the model boots a fresh machine for
each point (pcp lists empty, struct pages never touched), while the module runs on a machine the batch sizes
before it and the system itself have warmed; one pair (the default) stands for that state.

The page pointers live in a vmalloc'ed array (``pages[nr]``: a store per allocation, a load per free); its
own cache lines are not modelled (the cache model follows struct pages). With ``--kernel 4.10-prototype``
design ``single`` is the "vanilla" column of Mel's 2017 table (the IRQs-off pcp) and ``preempt`` the
"irqsafe" one (374ad05ab64d).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe.api import MAX_PAGES, Frame, Param, Site, Work, Workload
from benchframe.hw.topology import Topology
from benchframe.mm.page import __GFP_NOWARN, GFP_KERNEL

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.kconfig import KernelConfig
    from benchframe.workloads.context import Caller, RunContext

GFP = GFP_KERNEL | __GFP_NOWARN
#: the stap module's functions, as attribution shows them (alloc loop, free loop)
FRAMES = ("pagealloc_alloc_batch", "pagealloc_free_batch")
STORE = Work(data=1, counted="pages[nr] = alloc_pages(...): a store into the vmalloc'ed array")
LOAD = Work(data=1, counted="if (pages[nr]) __free_pages(pages[nr], order): a load from it")


def _topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    return Topology.uma(cpus=1, normal_pages=params["zone_pages"])


def check(p: Mapping[str, Any]) -> str | None:
    if p["mode"] == "bulk" and p["order"]:
        return f"mode=bulk allocates order-0 pages only (the bulk API's), not order {p['order']}"
    need = (p["batch"] + 1) << p["order"]
    if need * 2 > p["zone_pages"]:
        return (f"batch={p['batch']} of order {p['order']} holds {need} pages at once: more than half of "
                f"zone_pages={p['zone_pages']}")
    return None


class Interval:
    """One kind of timed interval (alloc or free): its accumulated cycles and the figures printed."""

    def __init__(self) -> None:
        self.acc = 0
        self.printed: list[int] = []

    def fold(self, inner: int, batch: int) -> None:
        """The end of an outer iteration: ``acc /= inner; acc /= batch; print`` -- not reset."""
        self.acc = self.acc // inner // batch
        self.printed.append(self.acc)

    @property
    def amean(self) -> float:
        return sum(self.printed) / len(self.printed)


def run(ctx: RunContext) -> None:
    p = ctx.params
    batch, order = p["batch"], p["order"]
    caller = ctx.caller(0, frames=FRAMES)
    cpu = caller.cpu
    prices = ctx.kernel.prices
    rdtsc = ctx.costs.rdtsc
    alloc_site, free_site = Site.at(Frame(FRAMES[0])), Site.at(Frame(FRAMES[1]))
    store, load = prices(STORE), prices(LOAD)
    pages: list[int | None] = [None] * (batch + 1)
    bulk = p["mode"] == "bulk"

    def alloc_interval() -> int:
        t0 = cpu.clock
        cpu.charge(rdtsc, alloc_site)
        if bulk:
            fill(caller, pages)
        else:
            for nr in range(batch + 1):
                pages[nr] = caller.alloc_pages(GFP, order)
                cpu.charge(store, alloc_site)
        return cpu.clock - t0

    def free_interval() -> int:
        t0 = cpu.clock
        cpu.charge(rdtsc, free_site)
        for nr in range(batch + 1):
            cpu.charge(load, free_site)
            page = pages[nr]
            if page is not None:
                caller.free_pages_order(page, order)
                pages[nr] = None
        return cpu.clock - t0

    for _ in range(p["warmup"]):
        alloc_interval()
        free_interval()
    ctx.reset_measurement()
    alloc, free = Interval(), Interval()
    for _ in range(p["outer"]):
        for _ in range(p["inner"]):
            alloc.acc += alloc_interval()
            free.acc += free_interval()
        alloc.fold(p["inner"], batch)
        free.fold(p["inner"], batch)
    ctx.record("alloc_cycles_per_page", round(alloc.amean, 3))
    ctx.record("free_cycles_per_page", round(free.amean, 3))
    ctx.record("total_cycles_per_page", round(alloc.amean + free.amean, 3))
    ctx.record("alloc_free_cycles_per_page", round(alloc.amean + free.amean, 3))


def fill(caller: Caller, pages: list[int | None]) -> None:
    """``mode=bulk``: the design's bulk API fills every NULL slot, called again while it makes progress."""
    filled = -1
    while True:
        got = caller.alloc_array(GFP, pages, len(pages))
        if got == len(pages) or got <= filled:
            return
        filled = got


WORKLOAD = Workload(
    name="pagealloc",
    run=run,
    seeded=False,  # the module's loops are the same whatever the seed
    description="mmtests pagealloc: alloc_pages() of batch+1 pages timed as one interval, then their frees",
    params=(
        Param("batch", 64, "pages per timed interval (the module allocates batch + 1 and divides by batch)",
              minimum=1, maximum=MAX_PAGES),
        Param("order", 0, "allocation order", minimum=0, maximum=4),
        Param("mode", "single", "single: the module's alloc_pages() loop; bulk: the design's bulk API fills the "
              "batch (order 0)", type=str, choices=("single", "bulk")),
        Param("inner", 100, "timed intervals per printed figure (the module's 100)", minimum=1, maximum=10000),
        Param("outer", 10, "printed figures averaged (the module's 10)", minimum=1, maximum=1000),
        Param("warmup", 1, "untimed interval pairs first: the model boots a fresh machine per point, the module runs "
          "on a warm one (after the batch before; the module itself has none)", minimum=0, maximum=1000),
        Param("zone_pages", 262144, "size of the Normal zone in 4 KiB pages (1 GiB)", minimum=1024,
              maximum=MAX_PAGES),
    ),
    topology=_topology,
    check=check,
    standard=False,  # a microbenchmark of the single-page path for calibration: `compare --workloads pagealloc`
    metrics={
        "total_cycles_per_page": ("cycles", "lower", "alloc_cycles_per_page + free_cycles_per_page, as the "
                                  "module prints them (the mean of the running figures)"),
    },
    headline=("alloc_cycles_per_page", "free_cycles_per_page", "total_cycles_per_page", "pcp_refills",
              "pcp_drains", "invariant_violations"),
)
