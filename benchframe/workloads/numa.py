"""``numa``: two nodes, the local node's zone just above its low watermark.

``__alloc_pages_bulk()`` only takes a zone that passes ``zone_watermark_fast(low + nr_pages)`` and never
spills to another node: here the local zone fails that test, so every bulk call degenerates to one page
through ``__alloc_pages()`` (which may use the remote node once the local zone is below low). The caller (a
refill loop that wants ``bulk`` pages) keeps calling until it has them. With ``spill=true`` the same design
runs with the no-spill rule removed (``BulkAllocator.spill_remote``): the bulk path takes the remote zone,
at the remote-access cost the profile gives (``dram_remote`` for each struct page the buddy allocator
touches). ``touch_lines`` cache lines of every page are then written by the caller, local or remote, so the
price of remote memory is visible next to the allocation saving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe.api import MAX_CALLS, MAX_PAGES, OTHER_WORK, Param, Study, Workload
from benchframe.hw.topology import MAX_ORDER, Topology
from benchframe.mm.bulk import BulkAllocator
from benchframe.mm.page import GFP_ATOMIC

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.kconfig import KernelConfig
    from benchframe.mm.zone import Zone
    from benchframe.workloads.context import RunContext


def _topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    return Topology.numa(nodes=2, cpus_per_node=1, normal_pages=params["node_pages"])


def pin_local_zone(ctx: RunContext, zone: Zone, target: int) -> None:
    """Leave ``target`` pages free in ``zone``: the rest is memory someone else on the node holds, taken as
    blocks of the largest order that fits (as a THP or a driver's buffers would hold it), each through
    ``rmqueue_buddy()`` -- ``__rmqueue()`` splitting blocks and ``check_new_pages()`` touching every subpage, so
    the pages left free and the cache state are what the buddy allocator leaves. Not measured: the workload
    resets its measurement afterwards."""
    k = ctx.kernel
    cpu = ctx.cpus[0]
    held_order = ctx.measurement.held_order
    order = MAX_ORDER - 1
    while zone.nr_free_pages > target:
        while order and 1 << order > zone.nr_free_pages - target:
            order -= 1
        page = k.rmqueue_buddy(cpu, zone, order, 0)
        if page is None:
            if not order:
                break
            order -= 1  # no block that large left
            continue
        ctx.held.add(page)
        if order:
            held_order[page] = order


def run(ctx: RunContext) -> None:
    p = ctx.params
    k = ctx.kernel
    bulk = p["bulk"]
    if isinstance(ctx.impl, BulkAllocator):
        ctx.impl.spill_remote = p["spill"]
    cpu = ctx.cpus[0]
    local = k.node_zones[0][0]
    pin_local_zone(ctx, local, local.watermark[1] + p["margin"])
    caller = ctx.caller(cpu)
    costs = ctx.costs
    array: list = [None] * bulk
    use = 0
    remote = 0
    ctx.reset_measurement()
    for _ in range(p["calls"]):
        got = 0
        for _ in range(4 * bulk):  # the caller retries until it has its pages
            got = caller.alloc_array(GFP_ATOMIC, array, bulk)
            if got == bulk:
                break
        pages = [pg for pg in array if pg is not None]
        for page in pages:
            far = k.page_zone(page).node != cpu.node
            remote += far
            t0 = cpu.clock
            cpu.charge(p["touch_lines"] * (costs.dram_remote if far else costs.dram_local), OTHER_WORK)  # its data
            use += cpu.clock - t0
        caller.free_pages(pages)
        for i in range(bulk):
            array[i] = None
    n = max(ctx.measurement.pages_allocated, 1)
    ctx.record("use_cycles_per_page", round(use / n, 3))
    ctx.record("remote_page_share", round(remote / n, 4))
    ctx.record("alloc_calls_per_page", round(ctx.measurement.alloc_calls / n, 4))


WORKLOAD = Workload(
    name="numa",
    run=run,
    seeded=False,  # the pinning and the refills are the same whatever the seed
    description="two nodes, local zone near its low watermark: bulk falls back to single pages (or spills)",
    params=(
        Param("bulk", 64, "pages the caller wants per refill", minimum=1, maximum=MAX_PAGES),
        Param("calls", 100, "refills measured", minimum=1, maximum=MAX_CALLS),
        Param("spill", False, "let the bulk path take the remote node's zone", type=bool),
        Param("margin", 32, "free pages above the local low watermark", minimum=0, maximum=MAX_PAGES),
        Param("touch_lines", 1, "cache lines of each page the caller writes", minimum=0, maximum=64),
        Param("node_pages", 65536, "pages per node", minimum=1024, maximum=MAX_PAGES),
    ),
    topology=_topology,
    metrics={
        "use_cycles_per_page": ("cycles", "lower", "cycles the caller spends touching each page (remote costs more)"),
        "remote_page_share": ("ratio", "lower", "share of pages that came from the remote node"),
        "alloc_calls_per_page": ("calls", "lower", "allocation calls the caller made per page obtained"),
    },
    studies=(Study("numa", "Local node at its low watermark: fall back to single pages (kernel) or spill to the "
                   "remote node", ("alloc_cycles_per_page", "use_cycles_per_page", "fallbacks", "remote_page_share"),
                   "spill", (False, True)),),
)
