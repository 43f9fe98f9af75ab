"""The simulated kernel: zones and pcp lists on the simulated machine, and the single-page allocator and free
paths around the bulk API (``__alloc_pages`` -> ``get_page_from_freelist`` -> ``rmqueue`` ->
``rmqueue_pcplist``; ``free_unref_page``), modelled on mm/page_alloc.c as of 5.13.

Not modelled (named so nobody is surprised): direct reclaim and compaction (the slow path only retries at the
min watermark with the gfp's ALLOC_HARDER/ALLOC_HIGH), kswapd, cpusets, memcg accounting, lowmem_reserve.
"""

from __future__ import annotations

from benchframe.engine import Engine
from benchframe.hw.cpu import CPU
from benchframe.hw.locks import SpinLock
from benchframe.hw.topology import MAX_ORDER, PAGEBLOCK_ORDER, Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.page import (
    __GFP_ATOMIC,
    __GFP_HIGH,
    MIGRATE_PCPTYPES,
    PAGE_ALLOCATED,
    PAGE_PCP,
    STATE_NAMES,
    MemMap,
    gfp_migratetype,
)
from benchframe.mm.page import __GFP_ZERO as GFP_ZERO_FLAG  # dunder names get mangled inside classes
from benchframe.mm.pcp import PcpOps, PerCpuPages, pcp_high, zone_batchsize
from benchframe.mm.zone import (
    ALLOC_HARDER,
    ALLOC_HIGH,
    ALLOC_WMARK_LOW,
    ALLOC_WMARK_MASK,
    ALLOC_WMARK_MIN,
    Zone,
    min_free_kbytes,
)

SECTION_SHIFT = MAX_ORDER - 1  # zones are aligned to MAX_ORDER blocks; page_zone() looks up by block


class Counters:
    """Event counters of one run (all CPUs)."""

    __slots__ = ("pages_allocated", "pages_freed", "bulk_calls", "fallbacks", "partial_returns",
                 "pcp_refills", "pcp_drains", "refused", "trylock_failures", "remote_frees",
                 "rt_sleeping_lock_irqs_off")

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class Kernel:
    """One simulated kernel instance: the machine's zones, their pcp lists and the allocator paths.

    ``pcp_ops`` is the design's per-CPU list protocol (see ``benchframe.mm.pcp.PcpOps``); the single-page
    paths use it too, since a design like ``local_lock`` changes them as much as the bulk path.
    """

    def __init__(self, engine: Engine, topology: Topology, config: KernelConfig,
                 pcp_ops: type[PcpOps] = PcpOps):
        self.engine = engine
        self.costs = costs = engine.costs
        self.config = config
        self.topology = topology
        self.violations: list[str] = []
        self.stat = Counters()
        # CPUs, numbered node by node
        if not engine.cpus:
            for nid, node in enumerate(topology.nodes):
                for _ in range(node.cpus):
                    engine.add_cpu(nid)
        # zones, laid out in pfn order; each starts on a MAX_ORDER boundary
        total = 0
        layout = []
        for nid, node in enumerate(topology.nodes):
            for zidx, spec in enumerate(node.zones):
                layout.append((nid, zidx, spec, total))
                total += -(-spec.pages // (1 << SECTION_SHIFT)) << SECTION_SHIFT
        self.mem = MemMap(total)
        self.zones: list[Zone] = []
        self.node_zones: list[list[Zone]] = [[] for _ in topology.nodes]
        self.zone_of_section = bytearray(total >> SECTION_SHIFT)
        for nid, zidx, spec, start in layout:
            name = spec.name if len(topology.nodes) == 1 else f"{spec.name}@node{nid}"
            zone = Zone(name, nid, zidx, start, spec.pages, self.mem,
                        SpinLock(f"zone->lock[{name}]", engine), costs)
            for sec in range(start >> SECTION_SHIFT, -(-(start + spec.pages) // (1 << SECTION_SHIFT))):
                self.zone_of_section[sec] = len(self.zones)
            zone.init_free()
            self.zones.append(zone)
            self.node_zones[nid].append(zone)
        self._setup_per_zone_wmarks()
        # zonelists: local zones highest first, then other nodes by distance (build_zonelists)
        self.zonelists: list[list[Zone]] = []
        for nid in range(len(topology.nodes)):
            order = sorted(range(len(topology.nodes)), key=lambda n, nid=nid: (topology.distance[nid][n], n))
            self.zonelists.append([z for n in order for z in reversed(self.node_zones[n])])
        # remote struct page access penalty per (cpu node, zone node)
        delta = costs.cache_miss_remote - costs.cache_miss_local
        self.remote_extra = [[0 if a == b else delta for b in range(len(topology.nodes))]
                             for a in range(len(topology.nodes))]
        # per-CPU pagesets
        self.pcp_ops = pcp_ops(self)
        for zone in self.zones:
            raw = zone_batchsize(zone.managed_pages)  # 0 for tiny zones; pageset_set_batch() clamps batch
            batch = max(1, raw)
            zone.pcp = [PerCpuPages(cpu.id, zone, batch, pcp_high(raw),
                                    [self.pcp_ops.new_list(cpu.id, zone, mt) for mt in range(MIGRATE_PCPTYPES)])
                        for cpu in engine.cpus]
        c = costs
        self._c_alloc_body = c.alloc_pages_body
        self._c_gpff = c.get_page_from_freelist_body
        self._c_stats = c.zone_statistics
        self._c_prep = c.prep_new_page
        self._c_zero = c.clear_page
        self._c_free_prepare = c.free_unref_page_body - c.rmqueue_pcplist_page
        self._c_buddy_page = c.buddy_page

    # -- bookkeeping ---------------------------------------------------------------------------------
    def violation(self, message: str) -> None:
        """Record an invariant violation (reported in the run's metrics, never hidden)."""
        self.violations.append(message)

    def page_zone(self, pfn: int) -> Zone:
        return self.zones[self.zone_of_section[pfn >> SECTION_SHIFT]]

    def _setup_per_zone_wmarks(self) -> None:
        """``setup_per_zone_wmarks()``: split ``min_free_kbytes`` over zones by size."""
        lowmem = sum(z.managed_pages for z in self.zones)
        min_pages = min_free_kbytes(lowmem * 4) // 4
        for zone in self.zones:
            zone.setup_watermarks(min_pages * zone.managed_pages // lowmem)

    # -- zone->lock ----------------------------------------------------------------------------------
    def zone_lock(self, cpu: CPU, zone: Zone):
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

    def zone_unlock(self, cpu: CPU, zone: Zone, flags) -> None:
        zone.lock.unlock(cpu)
        if flags is not None:
            cpu.local_irq_restore(flags)

    def struct_page_cost(self, cpu: CPU, zone: Zone) -> int:
        return self._c_buddy_page + self.remote_extra[cpu.node][zone.node]

    # -- buddy <-> pcp -------------------------------------------------------------------------------
    def rmqueue_bulk(self, cpu: CPU, zone: Zone, order: int, count: int, lst, mt: int, alloc_flags: int) -> int:
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
        cpu.charge(self._c_free_prepare)
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
