"""Building blocks of a bulk allocator design: ``__alloc_pages_bulk()`` as merged in 5.13, in steps a design
can override one at a time (as a kernel patch changes one part of the function).

``BulkAllocator.alloc_bulk`` keeps the 5.13 control flow and the kernel's fallbacks:

1. ``nr_pages <= 0`` returns 0; an array's leading populated slots are skipped (bounds checked first,
   b08e50dd6448); a fully populated array returns its size (ff4b2b4014cb, the 5.13 NFSD fix);
2. one page left to fill, ``PAGE_OWNER`` enabled, or no local zone passing
   ``zone_watermark_fast(mark + nr_pages)`` (bulk never spills to a remote node): the single-page path;
3. the pcp is protected (``PcpOps.lock``), pages are taken with ``PcpOps.rmqueue_pcplist`` and, per page,
   accounted, prepped and stored; populated array slots met on the way are skipped and counted;
4. if the pcp yields nothing before the first page: the single-page path; later: partial success.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe.hw.frames import Site
from benchframe.mm.fast import free_pages, take_pages
from benchframe.mm.fast_free import free_pages_locked
from benchframe.mm.page import __GFP_ZERO as GFP_ZERO
from benchframe.mm.page import gfp_migratetype
from benchframe.mm.pcp import PcpList, PcpOps
from benchframe.mm.prices import ENTRY_BULK, ENTRY_BULK_2017
from benchframe.mm.symbols import kframe, ksym
from benchframe.mm.zone import ALLOC_WMARK_LOW, ALLOC_WMARK_MASK, Zone

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.kconfig import KernelVersion
    from benchframe.mm.page_alloc import Kernel

LIST = "list"
ARRAY = "array"

#: a caller's ``struct page **`` array: a pfn or NULL (``None``) per slot
PageArray = list["int | None"]


class DesignImpl:
    """What every design implements, bound to one simulated kernel.

    ``shape`` is the caller-facing form: ``"list"`` (pages appended to ``page_list``) or ``"array"`` (NULL slots
    of ``page_array`` filled). ``pcp_ops`` is the per-CPU list protocol the whole kernel uses with this design.
    """

    shape = ARRAY
    pcp_ops: type[PcpOps] = PcpOps
    #: False: the kernel before the bulk API, whose callers allocate a page at a time (a workload modelled on a
    #: caller runs that caller's pre-5.13 code with it, e.g. the page_pool's one page per slow-path call)
    bulk_api = True
    #: the kernel versions the design applies to (empty: every version where its API and pcp fit)
    kernels: tuple[str, ...] = ()
    #: why it applies to those only (shown when it refuses another)
    kernels_why = ""

    def __init__(self, k: Kernel, **options: Any):
        self.k = k
        self.options = options

    @classmethod
    def kernel_problem(cls, version: KernelVersion) -> str | None:
        """Why the design cannot run on kernel ``version`` (one line), or None: a version it is not meant for
        (``kernels``), a list design where the list API is gone (c8b979530f27, 6.14), or a pcp of its own made
        of order-0 lists on a kernel that keeps high orders on the pcp (44042b449872)."""
        if cls.kernels and version.name not in cls.kernels:
            return f"applies to kernel {' and '.join(cls.kernels)} only ({cls.kernels_why})"
        if cls.shape == LIST and cls.bulk_api and not version.bulk_list_api:
            return (f"kernel {version.name} has no alloc_pages_bulk_list() (c8b979530f27 dropped the page_list "
                    "argument): run an array design")
        ops = cls.pcp_ops
        if ops is not PcpOps and version.pcp_high_order and ops.list_class is not PcpList:
            return (f"its per-CPU lists ({ops.name}) hold order-0 pages only, but kernel {version.name} keeps "
                    "orders <= 3 and THP on the pcp lists (44042b449872): run it on 5.13 or older")
        return None

    def alloc_bulk(self, cpu: CPU, gfp: int, nr_pages: int, page_list: list[int] | None = None,
                   page_array: PageArray | None = None, preferred_nid: int | None = None) -> int:
        """Allocate up to ``nr_pages`` onto ``page_list`` (list designs) or into the NULL slots of
        ``page_array[:nr_pages]`` (array designs); return the pages on the list / the populated slots.
        ``preferred_nid``: the ``_node`` variant's node (``None``: ``numa_mem_id()``)."""
        raise NotImplementedError

    def free_page(self, cpu: CPU, page: int) -> None:
        """Free one page whose refcount dropped to zero: ``free_unref_page()`` -- its steps summed where
        nothing overrides them (``free_bulk`` of one page)."""
        k = self.k
        if k.fused_free:
            free_pages(k, cpu, [page])
        elif k.fused_free_locked:
            free_pages_locked(k, cpu, [page])
        else:
            k.free_unref_page(cpu, page)

    def free_bulk(self, cpu: CPU, pages: list[int]) -> None:
        """Free several pages; by default one at a time, as the 5.13 callers did."""
        free = self.free_page
        if type(self).free_page is DesignImpl.free_page:
            if self.k.fused_free:  # free_unref_page() of each page, its charges summed (benchframe.mm.fast)
                free_pages(self.k, cpu, pages)
                return
            if self.k.fused_free_locked:  # the same around the design's own pcp lock (benchframe.mm.fast_free)
                free_pages_locked(self.k, cpu, pages)
                return
            free = self.k.free_unref_page  # what free_page() does, one Python call less per page
        for page in pages:
            free(cpu, page)


class BulkAllocator(DesignImpl):
    """``__alloc_pages_bulk()`` as merged in 5.13 (387ba26fb1cb + 0f87d9d30f21 + fixes), in overridable steps;
    on the ``4.10-prototype`` kernel the January 2017 prototype's control flow (no one-page fallback,
    statistics once per call; kernel-facts §2.4)."""

    shape = ARRAY
    prep_in_loop = True  # False: prep_new_page() in a second pass after the pcp is unlocked (v3-v5)
    spill_remote = False  # True: a what-if variant that lets the zone walk continue to other nodes
    #: True/False: PGALLOC/zone_statistics per page with IRQs off / once per call after unlock (5.14,
    #: 3e23060b2d0b); None: what the kernel version does
    account_per_page: bool | None = None
    #: PAGE_OWNER forces one page at a time: the fix for the pagesets.lock recursion of 5.14's local_lock
    #: (Jul 2021, Fixes dbbee9d5cd83), so only designs built on 5.14+ have it
    page_owner_fallback = False

    def __init__(self, k: Kernel, **options: Any):
        super().__init__(k, **options)
        prices = k.prices
        version = k.config.version
        self.one_page_fallback = version.bulk_one_page_fallback
        if version.bulk_page_owner_fallback:  # 5.14+: the pagesets.lock recursion fix is in the kernel itself
            self.page_owner_fallback = True
        self.version = version
        if self.account_per_page is None:
            self.account_per_page = version.bulk_stats_per_page
        self._entry = ENTRY_BULK_2017 if version.bulk_2017 else ENTRY_BULK
        self._c_slot = prices.bulk_slot if self.shape == ARRAY else 0
        self._c_scan = prices.array_scan
        self._c_store = prices.array_store if self.shape == ARRAY else prices.list_add
        self._page_sites: dict[tuple[int, int, int], Site] = {}

    # -- steps ---------------------------------------------------------------------------------------
    def choose_zone(self, cpu: CPU, gfp: int, nr_pages: int, alloc_flags: int,
                    preferred_nid: int | None = None) -> Zone | None:
        """The zonelist walk of ``__alloc_pages_bulk()``: the first zone of the preferred node whose
        ``zone_watermark_fast(wmark + nr_pages)`` passes (a read of its shared NR_FREE_PAGES line); a zone on
        another node ends the walk (no spill)."""
        k = self.k
        zonelist = k.zonelists[cpu.node if preferred_nid is None else preferred_nid]
        preferred = zonelist[0]
        for zone in zonelist:
            if len(k.node_zones) > 1 and zone.node != preferred.node and not self.spill_remote:
                return None
            cpu.charge(k.cache.read_shared(cpu, zone.vmstat_line))
            mark = zone.watermark[alloc_flags & ALLOC_WMARK_MASK] + nr_pages
            if zone.zone_watermark_fast(0, mark, alloc_flags):
                return zone
        return None

    def _page_site(self, stats: Site | None, prep: int, rest: int) -> Site:
        """Where one page's charge in the loop goes: the statistics (their own site's parts), the inlined
        prep_new_page() (a function of its own), the store."""
        key = (id(stats), prep, rest)
        site = self._page_sites.get(key)
        if site is None:
            site = Site(*(stats.parts if stats is not None else ()), (_PREP_FRAMES, prep), ((), rest))
            self._page_sites[key] = site
        return site

    def prep(self, cpu: CPU, page: int, gfp: int) -> None:
        self.k.prep_new_page(cpu, page, 0, gfp)

    def single_page(self, cpu: CPU, gfp: int, page_list: list[int] | None, page_array: PageArray | None,
                    nr_populated: int, preferred_nid: int | None = None) -> int:
        """``failed:`` label: one page through ``__alloc_pages()``, which may try harder than the bulk path."""
        k = self.k
        k.stat.fallbacks += 1
        page = k.alloc_pages(cpu, gfp, 0, preferred_nid)
        if page is not None:
            if page_list is not None:
                page_list.append(page)
            elif page_array is not None:
                page_array[nr_populated] = page
            cpu.charge(self._c_store)
            nr_populated += 1
        return nr_populated

    # -- the function --------------------------------------------------------------------------------
    @ksym("__alloc_pages_bulk")
    def alloc_bulk(self, cpu: CPU, gfp: int, nr_pages: int, page_list: list[int] | None = None,  # noqa: C901
                   page_array: PageArray | None = None, preferred_nid: int | None = None) -> int:
        """``__alloc_pages_bulk(gfp, numa_mem_id(), NULL, nr_pages, page_list, page_array)`` (5.13), step by
        step (the C901 exception: it mirrors that one kernel function)."""
        k = self.k
        k.stat.bulk_calls += 1
        if nr_pages <= 0:
            return 0
        if page_list and self.version.bulk_list_must_be_empty:
            return 0  # v1-v4: WARN_ON_ONCE(!list_empty(page_list)), return 0
        nr_populated = 0
        scan = self._c_scan
        if page_array is not None:
            while nr_populated < nr_pages and page_array[nr_populated] is not None:
                nr_populated += 1
                cpu.charge(scan)
            if nr_populated == nr_pages:
                return nr_populated
        if (self.one_page_fallback and nr_pages - nr_populated == 1) or \
                (self.page_owner_fallback and k.config.page_owner):
            return self.single_page(cpu, gfp, page_list, page_array, nr_populated, preferred_nid)
        # gfp_allowed_mask, prepare_alloc_pages() (with should_fail_alloc_page()), the zone walk, the pcp pointer
        cpu.charge(*k.prices.entry(self._entry, gfp))
        alloc_flags = ALLOC_WMARK_LOW
        zone = self.choose_zone(cpu, gfp, nr_pages, alloc_flags, preferred_nid)
        if zone is None:
            if self.version.bulk_no_zone_returns_0:
                return 0  # v1-v4: no zone passed the watermark
            return self.single_page(cpu, gfp, page_list, page_array, nr_populated, preferred_nid)

        ops = k.pcp_ops
        pcp = zone.pcp[cpu.id]
        mt = gfp_migratetype(gfp)
        token = ops.lock(cpu, pcp)
        if token is None:  # the pcp could not be taken (a trylock design, an IRQ caller bypassing it)
            return self.single_page(cpu, gfp, page_list, page_array, nr_populated, preferred_nid)
        take = ops.rmqueue_pcplist
        stats = ops.c_stats if self.account_per_page else 0
        prep_now = self.prep_in_loop
        # prep_new_page() of an order-0 page without __GFP_ZERO is charged with the rest of the page's work
        # when the design keeps the 5.13 step (the hot path: one charge per page); otherwise the design's prep()
        inline_prep = prep_now and type(self).prep is BulkAllocator.prep and not gfp & GFP_ZERO
        store = self._c_store
        slot = self._c_slot
        # per page after __rmqueue_pcplist(): statistics (5.13), prep_new_page(), the store into list or array
        prep = k.prices.prep if inline_prep else 0
        per_page = stats + prep + store + slot
        page_site = self._page_site(ops.s_stats if stats else None, prep, store + slot)
        taken: list[int] = []  # pages still to prep after unlock (second-pass designs)
        owner = k.mem.cpu
        nr_account = 0
        if k.fused and prep_now == inline_prep:  # the loop below, its charges summed (benchframe.mm.fast)
            nr_populated, nr_account, dry = take_pages(k, cpu, zone, pcp, mt, alloc_flags, nr_populated, nr_pages,
                                                       page_list, page_array, per_page, slot,
                                                       None if prep_now else taken)
            if dry and not nr_populated:  # nothing at all: try the single-page path (which may reclaim)
                ops.unlock(cpu, token, pcp)
                return self.single_page(cpu, gfp, page_list, page_array, nr_populated, preferred_nid)
        else:
            while nr_populated < nr_pages:
                if page_array is not None and page_array[nr_populated] is not None:
                    nr_populated += 1  # skip already-populated slots
                    cpu.charge(slot)
                    continue
                page = take(cpu, zone, mt, alloc_flags, pcp)
                if page is None:
                    if not nr_populated:  # nothing at all: try the single-page path (which may reclaim)
                        ops.unlock(cpu, token, pcp)
                        return self.single_page(cpu, gfp, page_list, page_array, nr_populated, preferred_nid)
                    break
                nr_account += 1
                owner[page] = cpu.id
                if not prep_now:
                    taken.append(page)
                elif not inline_prep:
                    self.prep(cpu, page, gfp)
                if page_list is not None:
                    page_list.append(page)
                elif page_array is not None:
                    page_array[nr_populated] = page
                cpu.charge(per_page, page_site)
                nr_populated += 1
        ops.unlock(cpu, token, pcp)
        if not self.account_per_page and nr_account:
            cpu.charge(ops.c_stats, ops.s_stats)  # PGALLOC and zone_statistics(), nr_account at once
        for page in taken:
            self.prep(cpu, page, gfp)
        k.stat.pages_allocated += nr_account
        if nr_populated < nr_pages:
            k.stat.partial_returns += 1
        return nr_populated


_PREP_FRAMES = (kframe("prep_new_page"),)

__all__ = ["BulkAllocator", "DesignImpl", "LIST", "ARRAY", "PageArray"]
