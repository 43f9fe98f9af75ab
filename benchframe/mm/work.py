"""The body work of each modelled kernel function, counted once from the source, for a cost profile to price.

The model charges the *primitives* a function executes where it executes them (``local_irq_save``, a LOCK'd
atomic, ``spin_lock``: measured with time_bench) and the *state* of the cache lines it touches (a struct page
that is not in L1 costs its miss; ``benchframe.hw.cache``). Everything else a function body does is priced from
this table: how many loads and stores of kernel data it makes, split into struct page fields (``page``) and
other kernel data (``data``: per-CPU pagesets and counters, the zone, zonelists, the task, globals), and how
many functions it calls that the compiler does not inline. A profile prices a ``page`` and a ``data`` access
(``page_access``, ``data_access``: fitted by ``benchframe calibrate``) and a call (``function_call``:
time_bench), so the split between allocation and free, and between per-call and per-page work, follows from
the code rather than from an assumption.

Counts follow 5.13's mm/page_alloc.c on x86-64 with CONFIG_NUMA, CONFIG_DEBUG_VM off and every debugging
static key (page_owner, debug_pagealloc, init_on_alloc/free, page poisoning) disabled; register-only work,
stack traffic and static-key branches are not counted. They are read from the code, not fitted: each entry
says what it counts. ``debug_vm`` is what ``CONFIG_DEBUG_VM`` adds (its checks, ``VM_BUG_ON_PAGE``s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchframe.hw.costs import CostModel
    from benchframe.kconfig import KernelConfig


@dataclass(frozen=True)
class Work:
    """Loads and stores of struct page fields and of other kernel data, and non-inlined calls."""

    page: int = 0
    data: int = 0
    calls: int = 0
    counted: str = ""

    def __add__(self, other: Work) -> Work:
        return Work(self.page + other.page, self.data + other.data, self.calls + other.calls)

    @property
    def accesses(self) -> int:
        return self.page + self.data


NONE = Work()

# -- the single-page allocation path (alloc_pages -> __alloc_pages -> get_page_from_freelist -> rmqueue) ------
ALLOC_PAGES_MEMPOLICY = Work(data=9, calls=3, counted=(
    "alloc_pages() with CONFIG_NUMA (mm/mempolicy.c): in_interrupt(), current->mempolicy, the default/preferred "
    "node policy and its mode, policy_node() and policy_nodemask(); calls of alloc_pages, get_task_policy and "
    "policy_nodemask. The bulk allocator and alloc_pages_node() (page_pool) skip it."))
ALLOC_PAGES = Work(data=7, calls=1, counted=(
    "__alloc_pages(): gfp_allowed_mask, current_gfp_context() (current->flags), prepare_alloc_pages(): "
    "node_zonelist() (NODE_DATA), first_zones_zonelist() (zoneref zone and index); the call into it."))
ALLOC_FLAGS_NOFRAGMENT = Work(data=3, counted=(
    "alloc_flags_nofragment() (since 5.0): zone_idx via zone_pgdat, nr_online_nodes, populated_zone(zone - 1)."))
GET_PAGE_FROM_FREELIST = Work(data=8, calls=1, counted=(
    "get_page_from_freelist(): the zoneref (zone, zone_idx), ac->spread_dirty_pages, the no_fallback test "
    "(nr_online_nodes), wmark_pages() (_watermark[] + watermark_boost), zone_watermark_fast()'s "
    "nr_reserved_highatomic and lowmem_reserve; its NR_FREE_PAGES read is the zone's shared vmstat line, "
    "charged by the cache model; the call into it."))
RMQUEUE = Work(data=3, counted=(
    "rmqueue() + rmqueue_pcplist() (inlined): zone->pageset, this_cpu_off, the ZONE_BOOSTED_WATERMARK test."))
RMQUEUE_PCPLIST = Work(page=5, data=4, counted=(
    "__rmqueue_pcplist() taking one page: list_first_entry (the pcp list head), list_del (page->lru.next and "
    ".prev, next->prev, prev->next, the two poison stores), pcp->count-- (load and store)."))
CHECK_NEW_PAGE = Work(page=5, counted=(
    "check_new_page(): _mapcount, mapping, _refcount, flags & PAGE_FLAGS_CHECK_AT_PREP, memcg_data. Run when "
    "rmqueue_bulk() moves a page to a pcp list, or, with DEBUG_VM, when __rmqueue_pcplist() takes it."))
PGALLOC_STATS = Work(page=1, data=11, counted=(
    "__count_zid_vm_events(PGALLOC, page_zonenum(page), n) (page->flags, a per-CPU add) + 5.13 "
    "zone_statistics(): zone_to_nid() twice, numa_node_id(), two __inc_numa_state() (z->pageset, a per-CPU "
    "increment and its threshold test) -- one update, whatever n is."))
PGALLOC_STATS_5_14 = Work(page=0, data=8, counted=(
    "5.14 (f19298b9516c, 3e23060b2d0b): PGALLOC and zone_statistics() as basic per-CPU event counters, "
    "__count_numa_events() twice with nr_account: no threshold test and fold."))
PREP_NEW_PAGE = Work(page=3, calls=1, counted=(
    "prep_new_page() + post_alloc_hook(): set_page_private(0), set_page_refcounted() (a plain store), "
    "clear_page_pfmemalloc() (page->index); the call (perf shows it as its own symbol)."))

# -- the bulk allocator, per call and per slot --------------------------------------------------------------------
ALLOC_PAGES_BULK = Work(data=19, calls=1, counted=(
    "__alloc_pages_bulk() once per call (5.13): gfp_allowed_mask, prepare_alloc_pages() (as __alloc_pages), the "
    "zone walk (zoneref, nr_online_nodes and zone_to_nid, wmark_pages + nr_pages, nr_reserved_highatomic, "
    "lowmem_reserve), zone->pageset and this_cpu_off; the call. No mempolicy, alloc_flags_nofragment or "
    "rmqueue wrappers; the NR_FREE_PAGES read is the cache model's."))
ALLOC_PAGES_BULK_2017 = Work(data=17, calls=1, counted=(
    "__alloc_pages_bulk_nodemask() once per call (Jan 2017 prototype): in_interrupt(), gfp_allowed_mask, "
    "prepare_alloc_pages() and finalise_ac() of 4.10, the preferred zone's watermark, zone->pageset; the call."))
BULK_SLOT = Work(data=1, counted="the loop over nr_pages: page_array[nr_populated] tested for a populated slot")
ARRAY_STORE = Work(data=1, counted="page_array[i] = page (or = NULL)")
LIST_ADD = Work(page=3, data=2, counted=(
    "list_add(&page->lru, head) onto a list headed off struct page (a caller's list_head): head->next, "
    "next->prev (the previous first page, or the head), page->lru.next and .prev, head->next."))
LIST_DEL = Work(page=4, data=1, counted=(
    "list_del(&page->lru) from a caller's list: page->lru.next and .prev, next->prev, prev->next (a page or the "
    "head); the poison stores are LIST_POISON constants folded into the two stores."))
LIST_NEXT = Work(page=1, counted="list_for_each_entry(_safe): page->lru.next, the next page to visit")

# -- freeing -------------------------------------------------------------------------------------------------------
PUT_PAGE = Work(page=5, calls=1, counted=(
    "put_page() around put_page_testzero() (whose LOCK'd decrement is charged as an atomic): compound_head(), "
    "__put_page(): the zone-device and compound flag tests, __page_cache_release() (PageLRU, "
    "__ClearPageWaiters), mem_cgroup_uncharge() (page_memcg); the call of __put_page."))
FREE_PAGES = Work(calls=1, counted=(
    "__free_pages(page, 0) around put_page_testzero(): the order test and free_the_page(); the call. It skips "
    "__page_cache_release() (page_bench04's comment)."))
FREE_UNREF_PAGE = Work(page=7, data=4, calls=2, counted=(
    "free_unref_page() + free_unref_page_prepare() + free_pcp_prepare() -> free_pages_prepare(page, 0, false): "
    "PageHWPoison, page->mapping, page_cpupid_reset_last() and the PAGE_FLAGS_CHECK_AT_PREP clear (flags, read "
    "and written), get_pfnblock_migratetype() (mem_section root, section, pageblock_flags, the bitmap word), "
    "set_pcppage_migratetype() (page->index); calls of free_unref_page and get_pfnblock_flags_mask."))
FREE_UNREF_PAGE_COMMIT = Work(page=5, data=10, counted=(
    "free_unref_page_commit() (inlined): page_zone() (page->flags, the zone), get_pcppage_migratetype() "
    "(page->index), __count_vm_event(PGFREE), zone->pageset and this_cpu_off, list_add() onto the pcp list "
    "(head->next, the previous first page's lru.prev, page->lru.next and .prev, head->next), pcp->count++ and "
    "the pcp->high test."))
FREE_PAGES_CHECK = Work(page=5, counted=(
    "free_pages_check(): _mapcount, mapping, _refcount, memcg_data, flags & PAGE_FLAGS_CHECK_AT_FREE. Run when "
    "free_pcppages_bulk() moves a page to the buddy lists, or, with DEBUG_VM, in free_pages_prepare() on every "
    "free."))
IN_INTERRUPT = Work(data=1, counted="in_interrupt(): preempt_count (the 2017 prototype's pcp bypass test)")

# -- the buddy allocator, under zone->lock ---------------------------------------------------------------------------
RMQUEUE_BULK = Work(data=4, calls=1, counted=(
    "rmqueue_bulk() once per refill: the call, __mod_zone_page_state(NR_FREE_PAGES) (a per-CPU diff and its "
    "threshold test); zone->lock is charged as a lock."))
RMQUEUE_BULK_PAGE = Work(page=12, data=4, counted=(
    "per page moved buddy -> pcp: __rmqueue_smallest()'s free_area[order] list head (get_page_from_free_area), "
    "del_page_from_free_list() (list_del, __ClearPageBuddy, set_page_private(0), area->nr_free--), "
    "set_pcppage_migratetype(), list_add_tail() onto the pcp list. check_new_page() comes on top (it is run "
    "here only without DEBUG_VM)."))
EXPAND_STEP = Work(page=4, data=2, counted=(
    "one expand() step: add_to_free_list() of the upper half (list_add, area->nr_free++) and set_buddy_order()."))
FREE_PCPPAGES_BULK = Work(data=6, calls=1, counted=(
    "free_pcppages_bulk() once per drain (5.13): count = min(pcp->count, count), the round-robin over the pcp "
    "lists (list_empty tests), has_isolate_pageblock(); the call; zone->lock is charged as a lock."))
FREE_PCPPAGES_BULK_PAGE = Work(page=7, data=2, counted=(
    "per page drained, outside zone->lock: list_last_entry + list_del from the pcp list, pcp->count--, "
    "list_add_tail() onto the private list, prefetch_buddy() (the buddy's pfn); free_pages_check() comes on top "
    "(here only without DEBUG_VM)."))
FREE_ONE_PAGE = Work(page=6, data=4, counted=(
    "__free_one_page() of an order-0 page, under zone->lock: get_pcppage_migratetype(), the merge loop's first "
    "buddy test (page_is_buddy(): the buddy's flags and private), set_buddy_order(), add_to_free_list() (or to "
    "the tail: buddy_merge_likely()), __mod_zone_freepage_state()."))
MERGE_STEP = Work(page=7, data=2, counted=(
    "one __free_one_page() merge step: del_page_from_free_list(buddy) (list_del, __ClearPageBuddy, "
    "set_page_private, nr_free--), the next buddy's page_is_buddy() test."))

# -- llist.h (benchframe.mm.llist) and the per-CPU lists as llists (benchframe.mm.llist_pcp) ---------------------------
LLIST_ADD = Work(page=1, data=1, counted=(
    "llist_add() = llist_add_batch(new, new, head): head->first read, last->next = first (the page's llist_node); "
    "the cmpxchg is an atomic. llist_add_batch() of a chain does the same once."))
LLIST_DEL_FIRST = Work(page=1, data=1, counted=(
    "llist_del_first(): head->first, entry->next; the cmpxchg is an atomic."))
LLIST_DEL_ALL = Work(data=1, counted=(
    "llist_del_all(): the list head's address (this_cpu_ptr(pcp)->lists[mt]); the xchg of head->first is an "
    "atomic."))
LLIST_NEXT = Work(page=1, counted=(
    "one llist_for_each() step over a detached chain: node->next of a struct page's llist_node -- to take a page "
    "off the chain, or to find the chain's last node for llist_add_batch() (llist.h keeps no tail pointer)."))
LLIST_EMPTY = Work(data=1, counted="llist_empty(): a plain read of head->first (\"not guaranteed to be accurate\")")
PCP_COUNT_THIS_CPU = Work(data=2, counted=(
    "this_cpu_add()/this_cpu_sub() on pcp->count: one non-LOCKed read-modify-write instruction on the per-CPU "
    "line (x86 %gs-relative add: it cannot be split by an interrupt or NMI on this CPU, so no atomic is needed)."))
LLIST_FREE_COMMIT = Work(page=2, data=8, counted=(
    "free_unref_page_commit() onto an llist pcp: page_zone() (page->flags, the zone), get_pcppage_migratetype() "
    "(page->index), __count_vm_event(PGFREE), zone->pageset and this_cpu_off, pcp->high and pcp->count for the "
    "drain test; llist_add() and this_cpu_inc(pcp->count) are charged as themselves."))
LLIST_DRAIN = Work(data=5, calls=1, counted=(
    "the llist drain once per call: pcp->batch, pcp->count, llist_empty() of the three pcp lists; the call; each "
    "list's llist_del_all()/llist_add_batch() and zone->lock are charged as themselves."))

# -- what the conversion between caller shapes costs a caller ---------------------------------------------------------
ARRAY_SCAN = Work(data=1, counted="a caller looking at one slot of its array for NULL")


class Prices:
    """What each modelled function body costs on one machine under one kernel config, in whole cycles:
    ``page_access`` per struct page access, ``data_access`` per other access, ``function_call`` per call;
    with KASAN every access adds a shadow check and allocating or freeing a page (un)poisons its shadow; with
    DEBUG_VM the new/free page checks move from the buddy<->pcp moves to every allocation and free."""

    def __init__(self, costs: CostModel, config: KernelConfig):
        self.costs = costs
        self.kasan = config.kasan
        debug_vm = config.debug_vm
        version = config.version
        page_shadow = costs.kasan_page if config.kasan else 0
        self.mempolicy = self(ALLOC_PAGES_MEMPOLICY)
        self.alloc_pages = self(ALLOC_PAGES + (ALLOC_FLAGS_NOFRAGMENT if version.alloc_flags_nofragment else NONE))
        self.get_page_from_freelist = self(GET_PAGE_FROM_FREELIST)
        self.rmqueue = self(RMQUEUE)
        self.take = self(RMQUEUE_PCPLIST + (CHECK_NEW_PAGE if debug_vm else NONE))
        self.stats = self(PGALLOC_STATS)
        self.stats_5_14 = self(PGALLOC_STATS_5_14)
        self.prep = self(PREP_NEW_PAGE) + page_shadow
        self.bulk_call = self(ALLOC_PAGES_BULK)
        self.bulk_call_2017 = self(ALLOC_PAGES_BULK_2017)
        self.bulk_slot = self(BULK_SLOT)
        self.array_store = self(ARRAY_STORE)
        self.list_add = self(LIST_ADD)
        self.list_del = self(LIST_DEL)
        self.list_next = self(LIST_NEXT)
        self.array_scan = self(ARRAY_SCAN)
        self.put_page = self(PUT_PAGE)
        self.free_pages = self(FREE_PAGES)
        self.free_prepare = self(FREE_UNREF_PAGE + (FREE_PAGES_CHECK if debug_vm else NONE)) + page_shadow
        self.free_commit = self(FREE_UNREF_PAGE_COMMIT)
        self.in_interrupt = self(IN_INTERRUPT)
        self.refill = self(RMQUEUE_BULK)
        self.refill_page = self(RMQUEUE_BULK_PAGE + (NONE if debug_vm else CHECK_NEW_PAGE))
        #: each tail page of an order > 0 block: check_new_pages() on allocation, free_pages_prepare()'s
        #: check_free_page() and flags store on free (5.13 checks every subpage, not only the head)
        self.alloc_tail = self(CHECK_NEW_PAGE)
        self.free_tail = self(FREE_PAGES_CHECK)
        self.expand_step = self(EXPAND_STEP)
        self.drain = self(FREE_PCPPAGES_BULK)
        self.drain_page = self(FREE_PCPPAGES_BULK_PAGE + (NONE if debug_vm else FREE_PAGES_CHECK))
        self.free_one_page = self(FREE_ONE_PAGE)
        self.merge_step = self(MERGE_STEP)
        self.llist_add = self(LLIST_ADD)
        #: llist_del_first() as a pcp consumer (check_new_page() with DEBUG_VM, as __rmqueue_pcplist)
        self.llist_del_first = self(LLIST_DEL_FIRST + (CHECK_NEW_PAGE if debug_vm else NONE))
        self.llist_del_all = self(LLIST_DEL_ALL)
        self.llist_next = self(LLIST_NEXT)
        self.llist_empty = self(LLIST_EMPTY)
        self.pcp_count_this_cpu = self(PCP_COUNT_THIS_CPU)
        self.llist_free_commit = self(LLIST_FREE_COMMIT)
        self.llist_drain = self(LLIST_DRAIN)
        #: per page a drain takes off a detached chain to the buddy lists: the walk step, free_pages_check()
        self.llist_drain_page = self(LLIST_NEXT + (NONE if debug_vm else FREE_PAGES_CHECK))
        #: per page taken off a detached chain: the walk step (check_new_page() with DEBUG_VM, as __rmqueue_pcplist)
        self.llist_take = self(LLIST_NEXT + (CHECK_NEW_PAGE if debug_vm else NONE))
        self.clear_page = costs.clear_page

    def __call__(self, work: Work) -> int:
        c = self.costs
        cycles = work.page * c.page_access + work.data * c.data_access + work.calls * c.function_call
        if self.kasan:
            cycles += work.accesses * c.kasan_check
        return math.floor(cycles + 0.5)  # half up: shifting a price by whole cycles shifts it exactly


#: perf's self time of each function of the single-page allocation path (kernel-facts §2.1: the page_pool
#: single-page baseline) as the work the model puts in it: inlined callees count in their caller's self time
PERF_SELF: dict[str, tuple[Work, tuple[str, ...]]] = {
    "rmqueue": (RMQUEUE + RMQUEUE_PCPLIST + PGALLOC_STATS, ("irq_save_restore",)),
    "get_page_from_freelist": (GET_PAGE_FROM_FREELIST, ()),
    "__alloc_pages_nodemask": (ALLOC_PAGES + ALLOC_FLAGS_NOFRAGMENT, ()),
    "prep_new_page": (PREP_NEW_PAGE, ()),
}


def self_cycles(symbol: str, costs: CostModel) -> float:
    """The cycles of ``symbol``'s self time per single-page allocation (unrounded), or a KeyError."""
    work, primitives = PERF_SELF[symbol]
    return (work.page * costs.page_access + work.data * costs.data_access + work.calls * costs.function_call
            + sum(costs.cost(p) for p in primitives))
