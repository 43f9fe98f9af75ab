"""The simulated kernel: zones and pcp lists on the simulated machine, and the single-page allocator and free
paths around the bulk API (``__alloc_pages`` -> ``get_page_from_freelist`` -> ``rmqueue`` ->
``rmqueue_pcplist``; ``free_unref_page``), modelled on mm/page_alloc.c as of 5.13.

Not modelled (named so nobody is surprised): direct reclaim and compaction (the slow path only retries at the
min watermark with the gfp's ALLOC_HARDER/ALLOC_HIGH), kswapd, cpusets, memcg accounting, lowmem_reserve.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from benchframe.hw.topology import PAGEBLOCK_ORDER
from benchframe.mm.boot import (
    SECTION_SHIFT,
    MemoryLayout,
    build_zonelists,
    setup_per_zone_wmarks,
    setup_zone_pagesets,
)
from benchframe.mm.page import (
    __GFP_ATOMIC,
    __GFP_HIGH,
    MIGRATE_PCPTYPES,
    PAGE_ALLOCATED,
    PAGE_PCP,
    STATE_NAMES,
    gfp_migratetype,
)
from benchframe.mm.page import __GFP_ZERO as GFP_ZERO_FLAG  # dunder names get mangled inside classes
from benchframe.mm.pcp import PcpOps, PerCpuPages, TailList
from benchframe.mm.zone import (
    ALLOC_HARDER,
    ALLOC_HIGH,
    ALLOC_WMARK_LOW,
    ALLOC_WMARK_MASK,
    ALLOC_WMARK_MIN,
    Zone,
)

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.hw.machine import Machine
    from benchframe.kconfig import KernelConfig


@dataclass(slots=True)
class Counters:
    """Event counters of one run (all CPUs), as the kernel's vm events count them."""

    pages_allocated: int = 0
    pages_freed: int = 0
    bulk_calls: int = 0
    fallbacks: int = 0  # bulk calls that took the single-page path
    partial_returns: int = 0
    pcp_refills: int = 0
    pcp_drains: int = 0
    refused: int = 0  # allocations a design refused (e.g. from NMI context)
    trylock_failures: int = 0
    remote_frees: int = 0  # pages freed on a CPU other than the one that allocated them
    rt_sleeping_lock_irqs_off: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, 0)


class Kernel:
    """One simulated kernel booted on a machine: its zones, their pcp lists and the allocator paths.

    ``pcp_ops`` is the design's per-CPU list protocol (see ``benchframe.mm.pcp.PcpOps``); the single-page
    paths use it too, since a design like ``local_lock`` changes them as much as the bulk path.
    """

    def __init__(self, machine: Machine, config: KernelConfig, pcp_ops: type[PcpOps] = PcpOps):
        self.machine = machine
        self.engine = machine.engine
        self.costs = costs = machine.costs
        self.config = config
        self.topology = topology = machine.topology
        self.violations: list[str] = []
        self.stat = Counters()
        layout = MemoryLayout(machine)
        self.mem = layout.mem
        self.zones: list[Zone] = layout.zones
        self.node_zones: list[list[Zone]] = layout.node_zones
        self.zone_of_section = layout.zone_of_section
        setup_per_zone_wmarks(self.zones)
        self.zonelists: list[list[Zone]] = build_zonelists(topology, self.node_zones)
        # remote struct page access penalty per (cpu node, zone node)
        delta = costs.cache_miss_remote - costs.cache_miss_local
        self.remote_extra = [[0 if a == b else delta for b in range(len(topology.nodes))]
                             for a in range(len(topology.nodes))]
        self.pcp_ops = pcp_ops(self)
        setup_zone_pagesets(self.zones, machine.cpus, self.pcp_ops)
        c = costs
        self._c_alloc_body = c.alloc_pages_body
        self._c_gpff = c.get_page_from_freelist_body
        self._c_stats = c.zone_statistics
        self._c_prep = c.prep_new_page
        self._c_zero = c.clear_page
        #: free_pages_prepare() + get_pfnblock_migratetype(): free_unref_page() before the pcp is protected
        self.free_prepare_cost = c.free_unref_page_body - c.rmqueue_pcplist_page
        self._c_buddy_page = c.buddy_page

    # -- bookkeeping ---------------------------------------------------------------------------------
    def violation(self, message: str) -> None:
        """Record an invariant violation (reported in the run's metrics, never hidden)."""
        self.violations.append(message)

    def page_zone(self, pfn: int) -> Zone:
        return self.zones[self.zone_of_section[pfn >> SECTION_SHIFT]]

    # -- zone->lock ----------------------------------------------------------------------------------
    def zone_lock(self, cpu: CPU, zone: Zone) -> bool | None:
        """``spin_lock(&zone->lock)`` when the caller already disabled IRQs (5.13), else
        ``spin_lock_irqsave()`` (6.x); on PREEMPT_RT spinlock_t sleeps and never disables IRQs."""
        flags = None
        if self.config.preempt_rt:
            if not cpu.irqs_on:  # local_irq_save(); spin_lock(): what RT "considers to be unsafe" (kf §3.1)
                self.stat.rt_sleeping_lock_irqs_off += 1
        elif cpu.irqs_on:
            flags = cpu.local_irq_save()
        zone.lock.lock(cpu)
        return flags

    def zone_unlock(self, cpu: CPU, zone: Zone, flags: bool | None) -> None:
        zone.lock.unlock(cpu)
        if flags is not None:
            cpu.local_irq_restore(flags)

    def struct_page_cost(self, cpu: CPU, zone: Zone) -> int:
        return self._c_buddy_page + self.remote_extra[cpu.node][zone.node]

    # -- buddy <-> pcp -------------------------------------------------------------------------------
    def rmqueue_bulk(self, cpu: CPU, zone: Zone, order: int, count: int, lst: TailList, mt: int,
                     alloc_flags: int) -> int:
        """``rmqueue_bulk()`` (5.13): under ``zone->lock``, move up to ``count`` blocks from the buddy lists to
        the tail of a pcp list; ``NR_FREE_PAGES`` is adjusted once."""
        per_page = self.struct_page_cost(cpu, zone)
        state = self.mem.state
        flags = self.zone_lock(cpu, zone)
        alloced = 0
        for _ in range(count):
            page = zone.rmqueue(cpu, order, mt)
            if page is None:
                break
            cpu.charge(per_page)
            state[page] = PAGE_PCP  # check_pcp_refill() passed
            lst.add_tail(page)
            alloced += 1
        zone.nr_free_pages -= alloced << order
        self.zone_unlock(cpu, zone, flags)
        self.stat.pcp_refills += 1
        return alloced

    def free_pcppages_bulk(self, cpu: CPU, zone: Zone, count: int, pcp: PerCpuPages) -> None:
        """``free_pcppages_bulk()`` (5.13): take ``count`` pages off the tails of the pcp lists round-robin
        (the coldest first) and free them to the buddy allocator under ``zone->lock``."""
        count = min(count, pcp.count)
        if count <= 0:
            return
        mem = self.mem
        per_page = self.struct_page_cost(cpu, zone)
        flags = self.zone_lock(cpu, zone)
        lists = pcp.lists
        mt = 0
        freed = 0
        while freed < count:
            for _ in range(MIGRATE_PCPTYPES):
                mt = (mt + 1) % MIGRATE_PCPTYPES
                if len(lists[mt]):
                    break
            else:
                break  # lists shorter than pcp->count: a corrupted count (the invariant check reports it)
            page = lists[mt].del_last()
            cpu.charge(per_page)
            zone.free_one_page(cpu, page, 0, mem.pageblock_mt[page >> 9])
            freed += 1
        pcp.count -= freed
        zone.nr_free_pages += freed
        self.zone_unlock(cpu, zone, flags)
        self.stat.pcp_drains += 1

    # -- allocation ----------------------------------------------------------------------------------
    def alloc_pages(self, cpu: CPU, gfp: int, order: int = 0, preferred_nid: int | None = None) -> int | None:
        """``__alloc_pages()`` (5.13): the fast path at the low watermark, then a slow path that retries at
        the min watermark with the gfp's ALLOC_HARDER/ALLOC_HIGH (no reclaim or compaction is modelled)."""
        cpu.charge(self._c_alloc_body)
        nid = cpu.node if preferred_nid is None else preferred_nid
        page = self.get_page_from_freelist(cpu, gfp, order, ALLOC_WMARK_LOW, nid)
        if page is None:
            page = self.get_page_from_freelist(cpu, gfp, order, gfp_to_alloc_flags(gfp), nid)
        if page is not None:
            self.stat.pages_allocated += 1 << order
            self.mem.cpu[page] = cpu.id
        return page

    def get_page_from_freelist(self, cpu: CPU, gfp: int, order: int, alloc_flags: int, nid: int) -> int | None:
        """``get_page_from_freelist()``: the first zone in the zonelist that passes ``zone_watermark_fast()``."""
        cpu.charge(self._c_gpff)
        for zone in self.zonelists[nid]:
            mark = zone.watermark[alloc_flags & ALLOC_WMARK_MASK]
            # zone_watermark_fast(); its order-0 test is repeated here so the common case makes no call
            if (order or zone.nr_free_pages <= mark) and not zone.zone_watermark_fast(order, mark, alloc_flags):
                continue
            page = self.rmqueue(cpu, zone, order, gfp, alloc_flags)
            if page is not None:
                self.prep_new_page(cpu, page, order, gfp)
                return page
        return None

    def rmqueue(self, cpu: CPU, zone: Zone, order: int, gfp: int, alloc_flags: int) -> int | None:
        """``rmqueue()``: order-0 pages come from the pcp lists, higher orders from the buddy lists under
        ``zone->lock``. From 6.0 a failed pcp attempt (e.g. trylock) falls through to the buddy lists; the
        design's ``PcpOps.fallthrough_to_buddy`` says which behaviour it models."""
        mt = gfp_migratetype(gfp)
        if order == 0:
            page = self.rmqueue_pcplist(cpu, zone, gfp, mt, alloc_flags)
            if page is not None or not self.pcp_ops.fallthrough_to_buddy:
                return page
        return self.rmqueue_buddy(cpu, zone, order, mt)

    def rmqueue_pcplist(self, cpu: CPU, zone: Zone, gfp: int, mt: int, alloc_flags: int) -> int | None:
        """``rmqueue_pcplist()`` (5.13): protect the pcp (``local_irq_save``), take one page, account it."""
        ops = self.pcp_ops
        pcp = zone.pcp[cpu.id]
        token = ops.lock(cpu, pcp)
        if token is None:  # a trylock design could not take the pcp: fall through to the buddy lists
            self.stat.trylock_failures += 1
            return None
        page = ops.rmqueue_pcplist(cpu, zone, mt, alloc_flags, pcp)
        if page is not None:
            cpu.charge(self._c_stats)  # __count_zid_vm_events(PGALLOC) + zone_statistics()
        ops.unlock(cpu, token, pcp)
        return page

    def rmqueue_buddy(self, cpu: CPU, zone: Zone, order: int, mt: int) -> int | None:
        """The buddy part of ``rmqueue()``: ``spin_lock_irqsave(&zone->lock)`` and ``__rmqueue()``."""
        flags = self.zone_lock(cpu, zone)
        page = zone.rmqueue(cpu, order, mt)
        if page is not None:
            cpu.charge(self.struct_page_cost(cpu, zone))
            zone.nr_free_pages -= 1 << order
            self.mem.state[page] = PAGE_ALLOCATED
            self.mem.order[page] = order
        self.zone_unlock(cpu, zone, flags)
        if page is not None:
            cpu.charge(self._c_stats)
        return page

    def prep_new_page(self, cpu: CPU, page: int, order: int, gfp: int) -> None:
        """``prep_new_page()``: post_alloc_hook, refcount; zeroing with ``__GFP_ZERO`` (clear_page per page)."""
        cost = self._c_prep
        if gfp & GFP_ZERO_FLAG:
            cost += self._c_zero << order
        cpu.charge(cost)

    # -- freeing -------------------------------------------------------------------------------------
    def free_unref_page(self, cpu: CPU, page: int) -> None:
        """``free_unref_page()`` (5.13): free_pages_prepare, then with the pcp protected
        ``free_unref_page_commit()`` onto *this* CPU's list."""
        mem = self.mem
        if mem.state[page] != PAGE_ALLOCATED:
            self.violation(f"double free: pfn {page} freed while {STATE_NAMES[mem.state[page]]} "
                           f"(CPU{cpu.id}, {cpu.context})")
            return
        cpu.charge(self.free_prepare_cost)
        zone = self.zones[self.zone_of_section[page >> SECTION_SHIFT]]  # page_zone(page)
        mt = mem.pageblock_mt[page >> PAGEBLOCK_ORDER]
        ops = self.pcp_ops
        pcp = zone.pcp[cpu.id]
        token = ops.lock(cpu, pcp)
        if token is None:  # trylock failed: free_one_page() straight to the buddy lists
            self.stat.trylock_failures += 1
            self.free_one_page(cpu, zone, page, mt)
        else:
            ops.free_commit(cpu, zone, page, mt)
            ops.unlock(cpu, token, pcp)
        self.stat.pages_freed += 1
        if mem.cpu[page] != cpu.id:
            self.stat.remote_frees += 1

    def free_one_page(self, cpu: CPU, zone: Zone, page: int, mt: int) -> None:
        """``free_one_page()``: one page straight to the buddy lists under ``zone->lock``."""
        flags = self.zone_lock(cpu, zone)
        cpu.charge(self.struct_page_cost(cpu, zone))
        zone.free_one_page(cpu, page, 0, mt)
        zone.nr_free_pages += 1
        self.zone_unlock(cpu, zone, flags)

    def nr_free_pages(self) -> int:
        return sum(z.nr_free_pages for z in self.zones)


def gfp_to_alloc_flags(gfp: int) -> int:
    """``gfp_to_alloc_flags()`` (5.13), the parts the model uses: min watermark, HIGH and HARDER."""
    flags = ALLOC_WMARK_MIN
    if gfp & __GFP_HIGH:
        flags |= ALLOC_HIGH
    if gfp & __GFP_ATOMIC:
        flags |= ALLOC_HARDER
    return flags


__all__ = ["Kernel", "Counters", "gfp_to_alloc_flags"]
