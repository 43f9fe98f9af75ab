"""The simulated kernel: zones and pcp lists on the simulated machine, and the single-page allocator and free
paths around the bulk API (``__alloc_pages`` -> ``get_page_from_freelist`` -> ``rmqueue`` ->
``rmqueue_pcplist``; ``free_unref_page``), modelled on mm/page_alloc.c as of 5.13.

Not modelled (named so nobody is surprised): direct reclaim and compaction (the slow path only retries at the
min watermark with the gfp's ALLOC_HARDER/ALLOC_HIGH), kswapd, cpusets, memcg accounting, lowmem_reserve.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.hw.frames import Site, symbol
from benchframe.hw.locks import IN_CALLER, SPIN_UNLOCK
from benchframe.hw.topology import PAGEBLOCK_ORDER
from benchframe.mm.boot import (
    SECTION_SHIFT,
    MemoryLayout,
    build_zonelists,
    setup_per_zone_wmarks,
    setup_zone_pagesets,
)
from benchframe.mm.fast import free_fusable, fusable
from benchframe.mm.fast_alloc import alloc_page, alloc_path
from benchframe.mm.fast_free import commit_fusable
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
from benchframe.mm.pcp import (
    NR_LOWORDER_PCP_LISTS,
    PcpOps,
    PerCpuPages,
    TailList,
    pcp_allowed_order,
    pindex_to_order,
)
from benchframe.mm.pcp_lock import LocalLockPcp, version_pcp_ops
from benchframe.mm.prices import ENTRY_ALLOC_PAGES, Prices
from benchframe.mm.symbols import kframe, ksym
from benchframe.mm.zone import (
    ALLOC_HARDER,
    ALLOC_HIGH,
    ALLOC_WMARK_LOW,
    ALLOC_WMARK_MASK,
    ALLOC_WMARK_MIN,
    WMARK_HIGH,
    ZONE_BELOW_HIGH,
    Zone,
)

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.hw.machine import Machine
    from benchframe.kconfig import KernelConfig


_ALLOC_PAGES = (kframe("__alloc_pages"),)
_ALLOC_PAGES_POLICY = (kframe("alloc_pages"), kframe("__alloc_pages"))
_SPIN_LOCK_IRQSAVE = (kframe("_raw_spin_lock_irqsave"),)
_SPIN_UNLOCK_IRQRESTORE = (kframe("_raw_spin_unlock_irqrestore"),)



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
    pcp_bypassed: int = 0  # pcp not taken: a trylock failed, or an IRQ caller bypassed it (2017)
    remote_frees: int = 0  # pages freed on a CPU other than the one that allocated them
    rt_sleeping_lock_irqs_off: int = 0
    buddy_blocks: int = 0  # blocks taken off the buddy lists under zone->lock (trace: mm_page_alloc_zone_locked)
    pcp_drained_blocks: int = 0  # blocks a drain moved from a pcp list to the buddy (trace: mm_page_pcpu_drain)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, 0)


class Kernel:
    """One simulated kernel booted on a machine: its zones, their pcp lists and the allocator paths.

    ``pcp_ops`` is the design's per-CPU list protocol (see ``benchframe.mm.pcp.PcpOps``); the single-page
    paths use it too, since a design like ``local_lock`` changes them as much as the bulk path. ``prices``
    (``benchframe.mm.work``) are the cycles of each function body; ``cache`` the cost of the struct page lines
    they touch.
    """

    def __init__(self, machine: Machine, config: KernelConfig, pcp_ops: type[PcpOps] = PcpOps):
        self.machine = machine
        self.engine = machine.engine
        self.costs = machine.costs
        self.config = config
        self.topology = topology = machine.topology
        self.violations: list[str] = []
        self.stat = Counters()
        self.prices = prices = Prices(self.costs, config)
        layout = MemoryLayout(machine, prices)
        self.mem = layout.mem
        self.cache = layout.cache
        self.zones: list[Zone] = layout.zones
        self.node_zones: list[list[Zone]] = layout.node_zones
        self.zone_of_section = layout.zone_of_section
        setup_per_zone_wmarks(self.zones)
        self.zonelists: list[list[Zone]] = build_zonelists(topology, self.node_zones)
        if pcp_ops is PcpOps:  # the design keeps the kernel's pcp: the version's protection scheme
            pcp_ops = version_pcp_ops(config.version)
        self.pcp_ops = machine.instrument(pcp_ops)(self)
        #: 44042b449872: orders <= PAGE_ALLOC_COSTLY_ORDER and THP are allocated and freed through the pcp
        self.high_order_pcp = config.version.pcp_high_order
        #: 6.7+: get_page_from_freelist() tests the high watermark first and flags a zone below it
        self.pcp_high_autotune = config.version.pcp_high_autotune
        setup_zone_pagesets(self.zones, machine.cpus, self.pcp_ops, config.version.pcp_batch_cap_bytes)
        #: free_pages_prepare() + get_pfnblock_migratetype(): free_unref_page() before the pcp is protected
        self.free_prepare_cost = prices.free_prepare
        self._free_prepare_tails = Site(*prices.free_prepare_site.parts, ((), None))
        # the design keeps 5.13's local_irq_save() around the pcp: the free path calls it directly (speed)
        self._irqsave = type(self.pcp_ops).lock is PcpOps.lock and type(self.pcp_ops).unlock is PcpOps.unlock
        #: the 5.13 steps ``benchframe.mm.fast`` inlines are the ones this kernel runs: its fused loops apply
        self.fused = fusable(self)
        self.fused_free = self.fused and free_fusable(self)
        #: the design's own pcp lock around a commit ``benchframe.mm.fast_free.free_pages_locked`` inlines
        self.fused_free_locked = self.fused and not self.fused_free and commit_fusable(self)
        #: the single-page path's common case runs ``benchframe.mm.fast_alloc.alloc_page``
        self.fused_alloc = self.fused_free and \
            type(self.pcp_ops).rmqueue_pcplist_prepare in (PcpOps.rmqueue_pcplist_prepare,
                                                           LocalLockPcp.rmqueue_pcplist_prepare)
        #: what that path reads of this kernel, gathered once
        self.alloc_path = alloc_path(self) if self.fused_alloc else None

    def unfuse(self) -> None:
        """Run every path step by step from now on. The fused loops inline the class's steps, chosen at boot: a
        method bound on this instance afterwards (a spy, a mutant) is one they would run past. The numbers are
        the same either way."""
        self.fused = self.fused_free = self.fused_free_locked = self.fused_alloc = False
        self.alloc_path = None

    # -- bookkeeping ---------------------------------------------------------------------------------
    def violation(self, message: str) -> None:
        """Record an invariant violation (reported in the run's metrics, never hidden)."""
        self.violations.append(message)

    def page_zone(self, pfn: int) -> Zone:
        return self.zones[self.zone_of_section[pfn >> SECTION_SHIFT]]

    # -- zone->lock ----------------------------------------------------------------------------------
    @symbol(lambda self, cpu, zone: _SPIN_LOCK_IRQSAVE if cpu.irqs_on and not self.config.preempt_rt else ())
    def zone_lock(self, cpu: CPU, zone: Zone) -> bool | None:
        """``spin_lock(&zone->lock)`` when the caller already disabled IRQs (5.13), else
        ``spin_lock_irqsave()`` (6.x); on PREEMPT_RT spinlock_t sleeps and never disables IRQs."""
        flags = None
        if self.config.preempt_rt:
            if not cpu.irqs_on:  # local_irq_save(); spin_lock(): what RT "considers to be unsafe" (kf §3.1)
                self.stat.rt_sleeping_lock_irqs_off += 1
        elif cpu.irqs_on:
            flags = cpu.local_irq_save()
            zone.lock.lock(cpu, IN_CALLER)  # spin_lock_irqsave(): one function
            return flags
        zone.lock.lock(cpu)
        return flags

    @symbol(lambda self, cpu, zone, flags: _SPIN_UNLOCK_IRQRESTORE if flags is not None else ())
    def zone_unlock(self, cpu: CPU, zone: Zone, flags: bool | None) -> None:
        zone.lock.unlock(cpu, IN_CALLER if flags is not None else SPIN_UNLOCK)
        if flags is not None:
            cpu.local_irq_restore(flags)

    # -- buddy <-> pcp -------------------------------------------------------------------------------
    @ksym("rmqueue_bulk")
    def rmqueue_bulk(self, cpu: CPU, zone: Zone, order: int, count: int, lst: TailList, mt: int,
                     alloc_flags: int) -> int:
        """``rmqueue_bulk()`` (5.13): under ``zone->lock``, move up to ``count`` blocks from the buddy lists to
        the tail of a pcp list; each page's struct page is touched (and checked: ``check_pcp_refill()``);
        ``NR_FREE_PAGES`` is adjusted once."""
        prices = self.prices
        per_page = prices.refill_page
        touch = self.cache.touch
        mem = self.mem
        state = mem.state
        flags = self.zone_lock(cpu, zone)
        cpu.charge(prices.refill, prices.refill_site)
        site = prices.refill_page_site
        alloced = 0
        for _ in range(count):
            page = zone.rmqueue(cpu, order, mt)
            if page is None:
                break
            cpu.charge(per_page + touch(cpu, page), site)
            if order:  # check_pcp_refill(page, order): every subpage of the block (44042b449872)
                self._check_tails(cpu, page, order)
            state[page] = PAGE_PCP  # check_pcp_refill() passed
            mem.free_mt[page] = mt  # set_pcppage_migratetype()
            lst.add_tail(page)
            alloced += 1
        zone.nr_free_pages -= alloced << order
        cpu.charge(self.cache.write_shared(cpu, zone.vmstat_line))  # __mod_zone_page_state(NR_FREE_PAGES)
        self.zone_unlock(cpu, zone, flags)
        self.stat.pcp_refills += 1
        self.stat.buddy_blocks += alloced
        return alloced

    @ksym("free_pcppages_bulk")
    def free_pcppages_bulk(self, cpu: CPU, zone: Zone, count: int, pcp: PerCpuPages) -> None:
        """``free_pcppages_bulk()`` (5.13): with IRQs off but without ``zone->lock``, take ``count`` pages off
        the tails of the pcp lists (the coldest), ``batch_free`` at a time round-robin over the migrate types,
        onto a private list, prefetching each page's buddy; then under ``zone->lock`` hand each to
        ``__free_one_page()`` with the migrate type cached in the page (``get_pcppage_migratetype()``)."""
        count = min(count, pcp.count)
        if count <= 0:
            return
        if len(pcp.lists) > NR_LOWORDER_PCP_LISTS:
            self.free_pcppages_bulk_orders(cpu, zone, count, pcp)
            return
        prices = self.prices
        cache = self.cache
        mem = self.mem
        lists = pcp.lists
        cpu.charge(prices.drain)
        private: list[int] = []
        mt = 0
        batch_free = 0
        while count:
            for _ in range(MIGRATE_PCPTYPES):  # round-robin to the next non-empty list
                batch_free += 1
                mt = (mt + 1) % MIGRATE_PCPTYPES
                if len(lists[mt]):
                    break
            else:
                break  # lists shorter than pcp->count: a corrupted count (the invariant check reports it)
            if batch_free == MIGRATE_PCPTYPES:  # this is the only non-empty list: free them all
                batch_free = count
            lst = lists[mt]
            while True:
                page = lst.del_last()
                pcp.count -= 1
                prefetch = cache.prefetch(cpu, page ^ 1)  # prefetch_buddy()
                cpu.charge(prices.drain_page + cache.touch(cpu, page) + prefetch)
                private.append(page)
                count -= 1
                batch_free -= 1
                if not count or not batch_free or not len(lst):
                    break
        flags = self.zone_lock(cpu, zone)
        for page in private:
            cpu.charge(prices.free_one_page, prices.free_one_page_site)
            zone.free_one_page(cpu, page, 0, mem.free_mt[page])  # get_pcppage_migratetype()
        zone.nr_free_pages += len(private)
        cpu.charge(cache.write_shared(cpu, zone.vmstat_line))
        self.zone_unlock(cpu, zone, flags)
        self.stat.pcp_drains += 1
        self.stat.pcp_drained_blocks += len(private)

    def free_pcppages_bulk_orders(self, cpu: CPU, zone: Zone, count: int, pcp: PerCpuPages) -> None:
        """``free_pcppages_bulk()`` with high-order lists (44042b449872): round-robin over every pcp list, a
        block of the list's order at a time, ``count`` in pages; then each block to ``__free_one_page()`` under
        ``zone->lock`` (``spin_lock_irqsave`` when the pcp left IRQs on, 6.2)."""
        prices = self.prices
        cache = self.cache
        mem = self.mem
        lists = pcp.lists
        nr_lists = len(lists)
        cpu.charge(prices.drain)
        private: list[tuple[int, int]] = []
        pindex = nr_lists - 1
        batch_free = 0
        while count > 0:
            for _ in range(nr_lists):
                batch_free += 1
                pindex = (pindex + 1) % nr_lists
                if len(lists[pindex]):
                    break
            else:
                break  # a corrupted count (the invariant check reports it)
            if batch_free == nr_lists:  # the only non-empty list: free them all
                batch_free = count
            lst = lists[pindex]
            order = pindex_to_order(pindex)
            while True:
                page = lst.del_last()
                pcp.count -= 1 << order
                count -= 1 << order
                cpu.charge(prices.drain_page + cache.touch(cpu, page) + cache.prefetch(cpu, page ^ (1 << order)))
                private.append((page, order))
                batch_free -= 1
                if count <= 0 or not batch_free or not len(lst):
                    break
        flags = self.zone_lock(cpu, zone)
        freed = 0
        for page, order in private:
            cpu.charge(prices.free_one_page, prices.free_one_page_site)
            zone.free_one_page(cpu, page, order, mem.free_mt[page])
            freed += 1 << order
        zone.nr_free_pages += freed
        cpu.charge(cache.write_shared(cpu, zone.vmstat_line))
        self.zone_unlock(cpu, zone, flags)
        self.stat.pcp_drains += 1
        self.stat.pcp_drained_blocks += len(private)

    def drain_pages_zone(self, cpu: CPU, zone: Zone, target: int) -> None:
        """``drain_pages_zone()`` of CPU ``target``'s pcp run on ``cpu``: since 6.0 (443c2accd1b6) directly under
        the remote pcp's spinlock; before, ``__drain_all_pages()`` queued work on the target CPU, which only
        that CPU can run (not modelled: a one-line error)."""
        drain = getattr(self.pcp_ops, "drain_remote", None)
        if drain is None:
            raise BenchframeError(f"kernel {self.config.version.name}: a remote pcp drain needs the 6.0 pcp "
                                  f"spinlock (443c2accd1b6); this pcp ({self.pcp_ops.name}) drains on its own CPU")
        drain(cpu, zone, zone.pcp[target])

    def _check_tails(self, cpu: CPU, page: int, order: int) -> None:
        """``check_new_pages()`` / ``check_pcp_refill()`` of a block's tail pages."""
        tails = list(range(page + 1, page + (1 << order)))
        cpu.charge(self.prices.alloc_tail * len(tails) + self.cache.walk(cpu, tails, dependent=False))

    # -- allocation ----------------------------------------------------------------------------------
    @symbol(lambda self, cpu, gfp, order=0, preferred_nid=None, mempolicy=False:
            _ALLOC_PAGES_POLICY if mempolicy else _ALLOC_PAGES)
    def alloc_pages(self, cpu: CPU, gfp: int, order: int = 0, preferred_nid: int | None = None,
                    mempolicy: bool = False) -> int | None:
        """``__alloc_pages()`` (5.13): the fast path at the low watermark, then a slow path that retries at
        the min watermark with the gfp's ALLOC_HARDER/ALLOC_HIGH (no reclaim or compaction is modelled).
        ``mempolicy``: entered through ``alloc_pages()``, which looks up the task's NUMA policy first (what
        ``alloc_page()`` does; ``alloc_pages_node()`` and the bulk allocator's fallback do not)."""
        if self.fused_alloc and not order:  # the common case in one sum, where nothing can observe the clock
            page = alloc_page(self, cpu, gfp, cpu.node if preferred_nid is None else preferred_nid, mempolicy)
            if page is not None:
                return page
        cpu.charge(*self.prices.entry(ENTRY_ALLOC_PAGES, gfp, mempolicy))
        nid = cpu.node if preferred_nid is None else preferred_nid
        page = self.get_page_from_freelist(cpu, gfp, order, ALLOC_WMARK_LOW, nid)
        if page is None:
            page = self.get_page_from_freelist(cpu, gfp, order, gfp_to_alloc_flags(gfp), nid)
        if page is not None:
            self.stat.pages_allocated += 1 << order
            self.mem.cpu[page] = cpu.id
        return page

    @ksym("get_page_from_freelist")
    def get_page_from_freelist(self, cpu: CPU, gfp: int, order: int, alloc_flags: int, nid: int) -> int | None:
        """``get_page_from_freelist()``: the first zone in the zonelist that passes ``zone_watermark_fast()``,
        which reads the zone's shared ``NR_FREE_PAGES`` line. From 6.7 a zone over its high watermark is taken
        at once, one below it is flagged ``ZONE_BELOW_HIGH`` before the test at the request's watermark."""
        cpu.charge(self.prices.get_page_from_freelist)
        read_shared = self.cache.read_shared
        for zone in self.zonelists[nid]:
            mark = zone.watermark[alloc_flags & ALLOC_WMARK_MASK]
            cpu.charge(read_shared(cpu, zone.vmstat_line))
            if self.pcp_high_autotune and self.zone_above_high(zone, order, alloc_flags):
                pass  # try_this_zone
            # zone_watermark_fast(); its order-0 test is repeated here so the common case makes no call
            elif (order or zone.nr_free_pages <= mark) and not zone.zone_watermark_fast(order, mark, alloc_flags):
                continue
            page = self.rmqueue(cpu, zone, order, gfp, alloc_flags)
            if page is not None:
                self.prep_new_page(cpu, page, order, gfp)
                return page
        return None

    @staticmethod
    def zone_above_high(zone: Zone, order: int, alloc_flags: int) -> bool:
        """``get_page_from_freelist()`` (mm/page_alloc.c (6.7+), derived from the code): unless the zone is
        flagged ``ZONE_BELOW_HIGH`` already, ``zone_watermark_fast()`` at ``high_wmark_pages(zone)``; a zone
        that fails it is flagged (pcp->high then shrinks, ``benchframe.mm.pcp_high``)."""
        if zone.flags & ZONE_BELOW_HIGH:
            return False
        if zone.zone_watermark_fast(order, zone.watermark[WMARK_HIGH], alloc_flags):
            return True
        zone.flags |= ZONE_BELOW_HIGH
        return False

    @ksym("rmqueue")
    def rmqueue(self, cpu: CPU, zone: Zone, order: int, gfp: int, alloc_flags: int) -> int | None:
        """``rmqueue()``: order-0 pages come from the pcp lists, higher orders from the buddy lists under
        ``zone->lock``. From 6.0 a failed pcp attempt (e.g. trylock) falls through to the buddy lists; the
        design's ``PcpOps.fallthrough_to_buddy`` says which behaviour it models."""
        cpu.charge(self.prices.rmqueue)
        mt = gfp_migratetype(gfp)
        if order == 0 or (self.high_order_pcp and pcp_allowed_order(order)):
            page = self.rmqueue_pcplist(cpu, zone, gfp, mt, alloc_flags, order)
            if page is not None or not self.pcp_ops.fallthrough_to_buddy:
                return page
        return self.rmqueue_buddy(cpu, zone, order, mt)

    @ksym("rmqueue_pcplist")
    def rmqueue_pcplist(self, cpu: CPU, zone: Zone, gfp: int, mt: int, alloc_flags: int,
                        order: int = 0) -> int | None:
        """``rmqueue_pcplist()`` (5.13): protect the pcp (``local_irq_save``), take one page, account it. A
        block of ``order`` > 0 comes from its order's list (44042b449872)."""
        ops = self.pcp_ops
        pcp = zone.pcp[cpu.id]
        token = ops.lock(cpu, pcp)
        if token is None:  # the pcp could not be taken (a trylock, or an IRQ caller bypassing it)
            self.stat.pcp_bypassed += 1
            return None
        ops.rmqueue_pcplist_prepare(pcp)
        if order:
            page = ops.rmqueue_pcplist_order(cpu, zone, order, mt, alloc_flags, pcp)
            if page is not None:
                self.mem.order[page] = order
        else:
            page = ops.rmqueue_pcplist(cpu, zone, mt, alloc_flags, pcp)
        if page is not None:
            cpu.charge(ops.c_stats, ops.s_stats)  # __count_zid_vm_events(PGALLOC) + zone_statistics()
        ops.unlock(cpu, token, pcp)
        return page

    @ksym("rmqueue_buddy")
    def rmqueue_buddy(self, cpu: CPU, zone: Zone, order: int, mt: int) -> int | None:
        """The buddy part of ``rmqueue()``: ``spin_lock_irqsave(&zone->lock)`` and ``__rmqueue()``."""
        flags = self.zone_lock(cpu, zone)
        page = zone.rmqueue(cpu, order, mt)
        if page is not None:
            cpu.charge(self.prices.refill_page + self.cache.touch(cpu, page), self.prices.refill_page_site)
            zone.nr_free_pages -= 1 << order
            cpu.charge(self.cache.write_shared(cpu, zone.vmstat_line))
            self.mem.state[page] = PAGE_ALLOCATED
            self.mem.order[page] = order
        self.zone_unlock(cpu, zone, flags)
        if page is not None:
            self.stat.buddy_blocks += 1
            cpu.charge(self.pcp_ops.c_stats, self.pcp_ops.s_stats)
            if order:  # check_new_pages(): every subpage of the block
                self._check_tails(cpu, page, order)
        return page

    @ksym("prep_new_page")
    def prep_new_page(self, cpu: CPU, page: int, order: int, gfp: int) -> None:
        """``prep_new_page()``: post_alloc_hook (private, refcount, pfmemalloc), KASAN unpoisoning; zeroing with
        ``__GFP_ZERO`` (clear_page per page). The page's line is the one taking it off its list just touched;
        a second pass that comes back to it later (``twopass``) charges that touch itself."""
        cost = self.prices.prep
        if gfp & GFP_ZERO_FLAG:
            cost += self.prices.clear_page << order
        cpu.charge(cost)

    # -- freeing -------------------------------------------------------------------------------------
    @ksym("free_unref_page")
    def free_unref_page(self, cpu: CPU, page: int) -> None:
        """``free_unref_page()`` (5.13): free_pages_prepare (and with DEBUG_VM its checks, with KASAN the
        page's poisoning), the pageblock's migrate type, then with the pcp protected
        ``free_unref_page_commit()`` onto *this* CPU's list. The page's refcount was just dropped to zero
        on its struct page line (``put_page()``/``__free_pages()``): whoever did that charged the line's
        touch (``benchframe.workloads.context.Caller``)."""
        mem = self.mem
        if mem.state[page] != PAGE_ALLOCATED:
            self.violation(f"double free: pfn {page} freed while {STATE_NAMES[mem.state[page]]} "
                           f"(CPU{cpu.id}, {cpu.context})")
            return
        cpu.charge(self.free_prepare_cost, self.prices.free_prepare_site)  # put_page_testzero() touched the line
        zone = self.zones[self.zone_of_section[page >> SECTION_SHIFT]]  # page_zone(page)
        mt = mem.pageblock_mt[page >> PAGEBLOCK_ORDER]
        ops = self.pcp_ops
        pcp = zone.pcp[cpu.id]
        token = cpu.local_irq_save() if self._irqsave else ops.lock(cpu, pcp)
        if token is None:  # the pcp could not be taken: free_one_page() straight to the buddy lists
            self.stat.pcp_bypassed += 1
            self.free_one_page(cpu, zone, page, mt)
        else:
            ops.free_commit(cpu, zone, page, mt)
            if self._irqsave:
                cpu.local_irq_restore(token)
            else:
                ops.unlock(cpu, token, pcp)
        self.stat.pages_freed += 1
        if mem.cpu[page] != cpu.id:
            self.stat.remote_frees += 1

    @ksym("__free_pages_ok")
    def free_pages_ok(self, cpu: CPU, page: int, order: int) -> None:
        """``__free_pages(page, order)`` of an order > 0 block, ``__free_pages_ok()`` (5.13): free_pages_prepare()
        checks the head and every tail page, then with IRQs off ``free_one_page()`` merges the block into the
        buddy lists under ``zone->lock`` (orders above 0 never go to the 5.13 pcp lists). The caller charged the
        head's refcount drop (``put_page_testzero()``)."""
        mem = self.mem
        if mem.state[page] != PAGE_ALLOCATED:
            self.violation(f"double free: pfn {page} (order {order}) freed while {STATE_NAMES[mem.state[page]]} "
                           f"(CPU{cpu.id}, {cpu.context})")
            return
        tails = list(range(page + 1, page + (1 << order)))
        cpu.charge(self.free_prepare_cost + self.prices.free_tail * len(tails)
                   + self.cache.walk(cpu, tails, dependent=False), self._free_prepare_tails)
        zone = self.zones[self.zone_of_section[page >> SECTION_SHIFT]]
        mt = mem.pageblock_mt[page >> PAGEBLOCK_ORDER]
        if self.high_order_pcp and pcp_allowed_order(order):
            self.free_unref_page_commit_order(cpu, zone, page, mt, order)
        else:
            irq = cpu.local_irq_save()
            self.free_one_page(cpu, zone, page, mt, order)
            cpu.local_irq_restore(irq)
        self.stat.pages_freed += 1 << order
        if mem.cpu[page] != cpu.id:
            self.stat.remote_frees += 1 << order

    def free_unref_page_commit_order(self, cpu: CPU, zone: Zone, page: int, mt: int, order: int) -> None:
        """The pcp part of ``free_unref_page(page, order)`` (44042b449872; ``__free_pages_ok()`` is left for
        orders the pcp does not keep): protect the pcp, ``free_unref_page_commit()`` the block; a failed
        trylock (6.0+) sends it to ``free_one_page()``."""
        ops = self.pcp_ops
        pcp = zone.pcp[cpu.id]
        token = ops.lock(cpu, pcp)
        if token is None:
            self.stat.pcp_bypassed += 1
            self.free_one_page(cpu, zone, page, mt, order)
            return
        ops.free_commit_order(cpu, zone, page, mt, order)
        ops.unlock(cpu, token, pcp)

    @ksym("free_one_page")
    def free_one_page(self, cpu: CPU, zone: Zone, page: int, mt: int, order: int = 0) -> None:
        """``free_one_page()``: one page (or block of ``order``) straight to the buddy lists under ``zone->lock``."""
        flags = self.zone_lock(cpu, zone)
        cpu.charge(self.prices.free_one_page, self.prices.free_one_page_site)
        zone.free_one_page(cpu, page, order, mt)
        zone.nr_free_pages += 1 << order
        cpu.charge(self.cache.write_shared(cpu, zone.vmstat_line))
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
