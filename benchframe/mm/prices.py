"""``Prices``: the counted body work of ``benchframe.mm.work`` priced for one cost profile and kernel config, in
whole cycles per modelled function, with the attribution ``Site`` of every charge that spans several functions.

The base price of a function is its accesses by kind and its calls (``work`` module docstring), rounded half
up per function. The debugging options add what their mechanisms add:

* ``KASAN`` (generic, outline instrumentation -- 5.13's default, ``KASAN_OUTLINE``): every instrumented access
  (C-level loads and stores: struct page fields, kernel data, on-stack structs; not the per-CPU asm operations
  or the compiler's register saves) calls ``__asan_loadN``/``__asan_storeN``, a call plus the shadow check
  (``kasan_check``); every on-stack struct whose address escapes gets redzones, poisoned at function entry and
  unpoisoned at exit (``KASAN_REDZONE_STORES`` shadow stores); allocating a page unpoisons its shadow and
  freeing poisons it (``kasan_page``); an atomic on a struct page is checked too
  (``instrument_atomic_read_write``).
* ``LOCKDEP``: ``prepare_alloc_pages()`` acquires and releases the ``fs_reclaim`` lockdep map for a request that
  may reclaim (``__need_fs_reclaim()``: ``__GFP_DIRECT_RECLAIM``), two ``lockdep_hook``s; spin locks pay one on
  each side (``benchframe.hw.locks``).
* ``DEBUG_ATOMIC_SLEEP``: ``might_sleep_if(gfp & __GFP_DIRECT_RECLAIM)`` in ``prepare_alloc_pages()``
  (``might_sleep``).
* ``TRACE_IRQFLAGS``: ``trace_hardirqs_off/on()`` on every IRQ save, restore, disable and enable
  (``benchframe.hw.cpu``).
* ``DEBUG_VM``: the new/free page checks move from the buddy<->pcp moves to every allocation and free.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from benchframe.hw.frames import Site
from benchframe.mm import work as w
from benchframe.mm.page import __GFP_DIRECT_RECLAIM as GFP_DIRECT_RECLAIM  # no dunder names in classes
from benchframe.mm.symbols import kframe

if TYPE_CHECKING:
    from benchframe.hw.costs import CostModel
    from benchframe.hw.frames import Frame
    from benchframe.kconfig import KernelConfig

#: shadow stores around one on-stack object's redzones, at entry and at exit (an estimate from GCC's
#: -fsanitize=kernel-address stack instrumentation: the left, partial and right redzones, then their clearing)
KASAN_REDZONE_STORES = 4


def _frames(*names: str) -> tuple[Frame, ...]:
    return tuple(kframe(n) for n in names)


class Prices:
    """What each modelled function body costs on one machine under one kernel config, in whole cycles (the
    module docstring), and where a charge spanning several functions goes (``*_site``)."""

    def __init__(self, costs: CostModel, config: KernelConfig):
        self.costs = costs
        self.config = config
        self.kasan = config.kasan
        debug_vm = config.debug_vm
        version = config.version
        #: what allocating or freeing a page adds to its (un)poisoning with KASAN
        self.kasan_page = costs.kasan_page if config.kasan else 0
        #: what KASAN adds to a LOCK'd atomic on a struct page (one instrumented access)
        self.atomic_check = self.instrumented(1)
        # -- the single-page allocation path
        self.mempolicy = self(w.ALLOC_PAGES_MEMPOLICY)
        self.alloc_pages = self(w.ALLOC_PAGES + (w.ALLOC_FLAGS_NOFRAGMENT if version.alloc_flags_nofragment
                                                 else w.NONE))
        self.should_fail = self(w.SHOULD_FAIL_ALLOC_PAGE)
        self.get_page_from_freelist = self(w.GET_PAGE_FROM_FREELIST)
        self.rmqueue = self(w.RMQUEUE)
        self.take = self(w.RMQUEUE_PCPLIST + (w.CHECK_NEW_PAGE if debug_vm else w.NONE))
        inline_stats, numa = self(w.PGALLOC_STATS), 2 * self(w.INC_NUMA_STATE)
        self.stats = inline_stats + numa
        self.stats_site = Site((_frames("zone_statistics"), inline_stats),
                               (_frames("zone_statistics", "__inc_numa_state"), numa))
        self.stats_5_14 = self(w.PGALLOC_STATS_5_14)
        self.prep = self(w.PREP_NEW_PAGE) + self.kasan_page
        self.clear_page = costs.clear_page
        # -- the bulk allocator
        self.bulk_call = self(w.ALLOC_PAGES_BULK)
        self.bulk_call_2017 = self(w.ALLOC_PAGES_BULK_2017)
        self.bulk_slot = self(w.BULK_SLOT)
        self.array_store = self(w.ARRAY_STORE)
        self.list_add = self(w.LIST_ADD)
        self.list_del = self(w.LIST_DEL)
        self.list_next = self(w.LIST_NEXT)
        self.array_scan = self(w.ARRAY_SCAN)
        # -- freeing
        self.put_page = self(w.PUT_PAGE)
        self.free_pages = self(w.FREE_PAGES)
        prepare = self(w.FREE_UNREF_PAGE + (w.FREE_PAGES_CHECK if debug_vm else w.NONE)) + self.kasan_page
        pfnblock = self(w.GET_PFNBLOCK_MIGRATETYPE)
        self.free_prepare = prepare + pfnblock
        self.free_prepare_site = Site((_frames("free_pages_prepare"), prepare),
                                      (_frames("get_pfnblock_migratetype"), pfnblock))
        self.free_commit = self(w.FREE_UNREF_PAGE_COMMIT)
        self.in_interrupt = self(w.IN_INTERRUPT)
        # -- the buddy allocator
        rmqueue_bulk, mod_state = self(w.RMQUEUE_BULK), self(w.MOD_ZONE_PAGE_STATE)
        self.refill = rmqueue_bulk + mod_state
        self.refill_site = Site(((), rmqueue_bulk), (_frames("__mod_zone_page_state"), mod_state))
        smallest = self(w.RMQUEUE_BULK_PAGE)
        check = 0 if debug_vm else self(w.CHECK_NEW_PAGE)
        self.refill_page = smallest + check
        self.refill_page_site = Site((_frames("__rmqueue", "__rmqueue_smallest"), smallest),
                                     (_frames("check_new_page"), check))
        self.empty_order = self(w.EMPTY_ORDER)
        #: each tail page of an order > 0 block: check_new_pages() on allocation, free_pages_prepare()'s
        #: check_free_page() and flags store on free (5.13 checks every subpage, not only the head)
        self.alloc_tail = self(w.CHECK_NEW_PAGE)
        self.free_tail = self(w.FREE_PAGES_CHECK)
        self.expand_step = self(w.EXPAND_STEP)
        self.drain = self(w.FREE_PCPPAGES_BULK)
        self.drain_page = self(w.FREE_PCPPAGES_BULK_PAGE + (w.NONE if debug_vm else w.FREE_PAGES_CHECK))
        one_page = self(w.FREE_ONE_PAGE)
        self.free_one_page = one_page + mod_state
        self.free_one_page_site = Site((_frames("__free_one_page"), one_page),
                                       (_frames("__free_one_page", "__mod_zone_page_state"), mod_state))
        self.merge_step = self(w.MERGE_STEP)
        # -- llist.h and the llist pcp designs
        self.llist_add = self(w.LLIST_ADD)
        #: llist_del_first() as a pcp consumer (check_new_page() with DEBUG_VM, as __rmqueue_pcplist)
        self.llist_del_first = self(w.LLIST_DEL_FIRST + (w.CHECK_NEW_PAGE if debug_vm else w.NONE))
        self.llist_del_all = self(w.LLIST_DEL_ALL)
        self.llist_next = self(w.LLIST_NEXT)
        self.llist_empty = self(w.LLIST_EMPTY)
        self.pcp_count_this_cpu = self(w.PCP_COUNT_THIS_CPU)
        self.llist_free_commit = self(w.LLIST_FREE_COMMIT)
        self.llist_drain = self(w.LLIST_DRAIN)
        #: per page a drain takes off a detached chain to the buddy lists: the walk step, free_pages_check()
        self.llist_drain_page = self(w.LLIST_NEXT + (w.NONE if debug_vm else w.FREE_PAGES_CHECK))
        #: per page taken off a detached chain: the walk step (check_new_page() with DEBUG_VM, as __rmqueue_pcplist)
        self.llist_take = self(w.LLIST_NEXT + (w.CHECK_NEW_PAGE if debug_vm else w.NONE))
        self._entries: dict[tuple[int, bool, bool], tuple[int, Site]] = {}
        #: ``entry(ENTRY_ALLOC_PAGES, gfp, mempolicy)``'s cycles, indexed ``reclaim << 1 | mempolicy`` (the
        #: fused single-page path's: ``benchframe.mm.fast_alloc``)
        self.alloc_entry = tuple(self.entry(ENTRY_ALLOC_PAGES, GFP_DIRECT_RECLAIM if i & 2 else 0, bool(i & 1))[0]
                                 for i in range(4))

    def __call__(self, work: w.Work) -> int:
        """One function body's cycles, rounded half up (shifting a price by whole cycles shifts it exactly)."""
        c = self.costs
        cycles = (work.page * c.page_access + (work.data + work.stack + work.regs + work.percpu) * c.data_access
                  + work.chain * c.l1_hit + work.calls * c.function_call)
        if self.kasan:
            cycles += (work.instrumented * (c.function_call + c.kasan_check)
                       + work.stack_objects * KASAN_REDZONE_STORES * c.data_access)
        return math.floor(cycles + 0.5)

    def instrumented(self, accesses: int) -> int:
        """What KASAN adds to ``accesses`` instrumented accesses made outside a counted body (an atomic)."""
        if not self.kasan:
            return 0
        return math.floor(accesses * (self.costs.function_call + self.costs.kasan_check) + 0.5)

    def entry(self, kind: int, gfp: int, mempolicy: bool = False) -> tuple[int, Site]:
        """The charge of an allocator entry point's own work and its site: ``kind`` is ``ENTRY_ALLOC_PAGES``
        (``__alloc_pages()``, with ``alloc_pages()``'s policy lookup on top when ``mempolicy``) or a bulk
        allocator's call (``ENTRY_BULK``, ``ENTRY_BULK_2017``); ``prepare_alloc_pages()`` adds
        ``should_fail_alloc_page()`` and, for a request that may reclaim, the LOCKDEP ``fs_reclaim`` map and
        DEBUG_ATOMIC_SLEEP's ``might_sleep()``."""
        reclaim = bool(gfp & GFP_DIRECT_RECLAIM)
        key = (kind, reclaim, mempolicy)
        cached = self._entries.get(key)
        if cached is not None:
            return cached
        body = (self.alloc_pages, self.bulk_call, self.bulk_call_2017)[kind]
        c = self.costs
        debug = self.config.debug_options
        parts: list[tuple[Any, ...]] = [((), body), (_frames("should_fail_alloc_page"), self.should_fail)]
        if reclaim and "LOCKDEP" in debug:
            parts.append((_frames("fs_reclaim_acquire"), c.lockdep_hook))
            parts.append((_frames("fs_reclaim_release"), c.lockdep_hook))
        if reclaim and "DEBUG_ATOMIC_SLEEP" in debug:
            parts.append((_frames("__might_sleep"), c.might_sleep))
        if mempolicy:
            parts.append(((), self.mempolicy, 1))  # alloc_pages(): the caller of __alloc_pages()
        out = (sum(p[1] for p in parts), Site(*parts))
        self._entries[key] = out
        return out


ENTRY_ALLOC_PAGES, ENTRY_BULK, ENTRY_BULK_2017 = 0, 1, 2

__all__ = ["ENTRY_ALLOC_PAGES", "ENTRY_BULK", "ENTRY_BULK_2017", "KASAN_REDZONE_STORES", "Prices"]
