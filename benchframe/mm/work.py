"""The body work of each modelled kernel function, counted once from the source, for a cost profile to price.

The model charges the *primitives* a function executes where it executes them (``local_irq_save``, a LOCK'd
atomic, ``spin_lock``: measured with time_bench) and the *state* of the cache lines it touches (a struct page
that is not in L1 costs its miss; ``benchframe.hw.cache``). Everything else a function body does is priced from
this table, by kind of access:

* ``page``: loads and stores of struct page fields, independent of each other (the out-of-order core overlaps
  them), priced ``page_access``;
* ``data``: loads and stores of other kernel data (the zone, the pcp, zonelists, the task, globals), priced
  ``data_access``;
* ``stack``: loads and stores of on-stack structs (``struct alloc_context``), priced ``data_access``;
* ``regs``: the stack traffic the compiler adds -- callee-saved registers a prologue pushes and its epilogue
  pops, the stack protector's canary -- priced ``data_access`` (L1 lines like the rest: a stated assumption, one
  price fewer to fit); KASAN does not instrument them;
* ``percpu``: ``this_cpu``/``raw_cpu`` operations (one %gs-relative instruction each: vm events, the NUMA
  counters, ``this_cpu_off``), priced ``data_access``; unlike the others KASAN does not instrument them;
* ``chain``: loads on a dependent chain -- the next address comes from the line just loaded (``head->next``,
  then ``page->lru.next``; a list walk node after node) -- each paying the L1 load-to-use latency, ``l1_hit``,
  because nothing can overlap them (an array walk's loads are ``page``: independent);
* ``calls``: functions the compiler does not inline, priced ``function_call`` (time_bench).

A profile's ``page_access`` and ``data_access`` are fitted by ``benchframe calibrate``; nobody measured them
directly. Counts follow 5.13's mm/page_alloc.c on x86-64 with CONFIG_NUMA, CONFIG_CMA, CONFIG_MEMCG,
CONFIG_STACKPROTECTOR_STRONG, CONFIG_DEBUG_VM off and every debugging static key off; static-key branches and
register-only work are not counted. They are read from the code, not fitted: each entry says what it counts.
A function perf shows as its own symbol (``benchframe.mm.symbols``) has an entry of its own, so its cycles can
be attributed to it: ``should_fail_alloc_page()`` (noinline), ``__inc_numa_state()`` and
``__mod_zone_page_state()`` (mm/vmstat.c).

``Prices`` turns the counts into cycles for one profile and kernel config, with what KASAN, LOCKDEP,
TRACE_IRQFLAGS, DEBUG_ATOMIC_SLEEP and DEBUG_VM add by their mechanisms.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Work:
    """Accesses by kind (the module docstring), non-inlined calls, and on-stack objects KASAN puts redzones
    around (``stack_objects``)."""

    page: int = 0
    data: int = 0
    stack: int = 0
    regs: int = 0
    percpu: int = 0
    chain: int = 0
    calls: int = 0
    stack_objects: int = 0
    counted: str = ""

    def __add__(self, other: Work) -> Work:
        return Work(self.page + other.page, self.data + other.data, self.stack + other.stack,
                    self.regs + other.regs, self.percpu + other.percpu, self.chain + other.chain,
                    self.calls + other.calls, self.stack_objects + other.stack_objects)

    @property
    def instrumented(self) -> int:
        """Accesses KASAN checks: the C-level ones, not the per-CPU asm operations or the compiler's own stack
        traffic."""
        return self.page + self.data + self.stack + self.chain


NONE = Work()

# -- the single-page allocation path (alloc_pages -> __alloc_pages -> get_page_from_freelist -> rmqueue) ------
ALLOC_PAGES_MEMPOLICY = Work(data=5, regs=6, percpu=4, calls=3, counted=(
    "alloc_pages() with CONFIG_NUMA (mm/mempolicy.c): in_interrupt() and current (per-CPU reads), "
    "get_task_policy() (a call: current->mempolicy, numa_node_id(), preferred_node_policy[node] and its mode), "
    "the MPOL_INTERLEAVE test, policy_node() (the mode, numa_node_id()), policy_nodemask() (a call: the mode); "
    "its prologue/epilogue (three registers). The bulk allocator and alloc_pages_node() skip it."))
ALLOC_PAGES = Work(data=5, stack=6, regs=14, percpu=3, calls=1, stack_objects=1, counted=(
    "__alloc_pages() (5.13): gfp_allowed_mask, current_gfp_context() (current, current->flags), "
    "prepare_alloc_pages() (inlined): NODE_DATA(nid) for node_zonelist(), first_zones_zonelist()'s zoneref "
    "zone_idx, and six stores into the on-stack struct alloc_context (zonelist, nodemask, migratetype, "
    "highest_zoneidx, spread_dirty_pages, preferred_zoneref; its '= { }' zeroing is dead-store eliminated); "
    "ac.preferred_zoneref->zone for alloc_flags_nofragment(); the prologue/epilogue (six callee-saved "
    "registers) and the stack protector's canary (ac's address escapes to get_page_from_freelist: a per-CPU "
    "read and a stack store at entry, a load and a per-CPU compare at exit); the call into it."))
ALLOC_FLAGS_NOFRAGMENT = Work(data=2, counted=(
    "alloc_flags_nofragment() (since 5.0): zone_idx via zone->zone_pgdat, nr_online_nodes (on one node the "
    "populated_zone(zone - 1) test is not reached)."))
SHOULD_FAIL_ALLOC_PAGE = Work(calls=1, counted=(
    "should_fail_alloc_page(): noinline (ALLOW_ERROR_INJECTION), an empty body without FAIL_PAGE_ALLOC: the "
    "call, from prepare_alloc_pages()."))
GET_PAGE_FROM_FREELIST = Work(data=8, stack=6, regs=12, calls=1, counted=(
    "get_page_from_freelist(): the zoneref's zone, nr_online_nodes (the no_fallback test), wmark_pages() "
    "(_watermark[] + watermark_boost), zone_watermark_fast() and __zone_watermark_unusable_free(): "
    "vm_stat[NR_FREE_PAGES] (the shared line; its misses are the cache model's), nr_reserved_highatomic, "
    "vm_stat[NR_FREE_CMA_PAGES] (CONFIG_CMA, unmovable requests) and lowmem_reserve[]; six loads of the "
    "caller's struct alloc_context (preferred_zoneref twice, highest_zoneidx, nodemask, spread_dirty_pages, "
    "migratetype); the prologue/epilogue (six registers); the call into it."))
RMQUEUE = Work(data=2, regs=10, percpu=1, calls=1, counted=(
    "rmqueue() with rmqueue_pcplist() inlined: zone->pageset and this_cpu_off (this_cpu_ptr), the "
    "ZONE_BOOSTED_WATERMARK test_bit of zone->flags; the prologue/epilogue (five registers); the call (a "
    "symbol of its own, kernel-facts §2.1)."))
RMQUEUE_PCPLIST = Work(page=3, data=3, chain=2, counted=(
    "__rmqueue_pcplist() taking one page: list_empty()/list_first_entry() load head->next, then list_del() "
    "loads page->lru.next and .prev -- two dependent loads (each address comes from the line loaded before, "
    "and head->next from the previous call's store); the stores next->prev (the next page), prev->next (the "
    "head), the two LIST_POISON stores; pcp->count-- (load and store)."))
CHECK_NEW_PAGE = Work(page=5, counted=(
    "check_new_page(): _mapcount, mapping, _refcount, flags & PAGE_FLAGS_CHECK_AT_PREP, memcg_data. Run when "
    "rmqueue_bulk() moves a page to a pcp list, or, with DEBUG_VM, when __rmqueue_pcplist() takes it."))
PGALLOC_STATS = Work(page=1, data=2, percpu=3, counted=(
    "__count_zid_vm_events(PGALLOC, page_zonenum(page), 1) (page->flags, a raw_cpu_add) + 5.13 "
    "zone_statistics() (inlined): zone_to_nid() of the zone and of the preferred zone, numa_node_id(); its two "
    "__inc_numa_state() calls are INC_NUMA_STATE."))
INC_NUMA_STATE = Work(data=1, percpu=1, calls=1, counted=(
    "__inc_numa_state() (mm/vmstat.c, out of line until 5.14): zone->pageset, __this_cpu_inc_return() of the "
    "diff and its threshold test; the call. zone_statistics() makes two per page (NUMA_HIT, NUMA_LOCAL)."))
PGALLOC_STATS_5_14 = Work(data=2, percpu=4, counted=(
    "5.14 (f19298b9516c, 3e23060b2d0b): PGALLOC and the NUMA statistics as basic per-CPU event counters: "
    "zone_idx and zone_to_nid (two loads), __count_zid_vm_events and three __count_numa_events() "
    "(raw_cpu_add, inlined): no call, no threshold test."))
PREP_NEW_PAGE = Work(page=3, regs=4, calls=1, counted=(
    "prep_new_page() + post_alloc_hook() (inlined): set_page_private(0), set_page_refcounted() (a plain "
    "store), clear_page_pfmemalloc() (page->index); the prologue/epilogue (two registers); the call (perf "
    "shows it as its own symbol)."))

# -- the bulk allocator, per call and per slot --------------------------------------------------------------------
ALLOC_PAGES_BULK = Work(data=14, stack=6, regs=12, percpu=1, calls=1, stack_objects=1, counted=(
    "__alloc_pages_bulk() once per call (5.13): gfp_allowed_mask, prepare_alloc_pages() (inlined: NODE_DATA, "
    "the zoneref's zone_idx, six stores into struct alloc_context), the zone walk (the zoneref's zone, "
    "nr_online_nodes, wmark_pages() + nr_pages, zone_watermark_fast(): NR_FREE_PAGES, nr_reserved_highatomic, "
    "NR_FREE_CMA_PAGES, lowmem_reserve[], zonelist_zone_idx(ac.preferred_zoneref)), zone->pageset and "
    "this_cpu_off, ac.migratetype, zone->zone_pgdat for zone_idx(zone) in the loop's vm event; the "
    "prologue/epilogue (six registers); the call. No mempolicy, alloc_flags_nofragment or rmqueue wrappers; "
    "should_fail_alloc_page() is its own entry."))
ALLOC_PAGES_BULK_2017 = Work(data=17, stack=6, regs=12, calls=1, counted=(
    "__alloc_pages_bulk_nodemask() once per call (Jan 2017 prototype): in_interrupt(), gfp_allowed_mask, "
    "prepare_alloc_pages() and finalise_ac() of 4.10 (six stores into struct alloc_context), the preferred "
    "zone's watermark, zone->pageset; the prologue/epilogue (six registers); the call."))
BULK_SLOT = Work(data=1, counted="the loop over nr_pages: page_array[nr_populated] tested for a populated slot")
ARRAY_STORE = Work(data=1, counted="page_array[i] = page (or = NULL)")
LIST_ADD = Work(page=3, data=1, chain=1, counted=(
    "list_add(&page->lru, head) onto a caller's list_head: head->next (a dependent load: the previous "
    "list_add stored it), next->prev (the previous first page), page->lru.next and .prev, head->next."))
LIST_DEL = Work(page=4, data=1, counted=(
    "list_del(&page->lru) from a caller's list: page->lru.prev (.next came with the walk's step), next->prev, "
    "prev->next (the head), the two poison stores."))
LIST_NEXT = Work(chain=1, counted=(
    "list_for_each_entry(_safe) one step: page->lru.next, a dependent load (the next address is in the line "
    "just loaded)."))

# -- freeing -------------------------------------------------------------------------------------------------------
PUT_PAGE = Work(page=7, regs=4, calls=2, counted=(
    "put_page() around put_page_testzero() (whose LOCK'd decrement is charged as an atomic): compound_head(), "
    "__put_page(): the zone-device and compound flag tests, __page_cache_release() (PageLRU, "
    "__ClearPageWaiters: a load and a store), mem_cgroup_uncharge() (a call: page_memcg()); __put_page()'s "
    "prologue/epilogue (two registers) and its call."))
FREE_PAGES = Work(calls=1, counted=(
    "__free_pages(page, 0) around put_page_testzero(): the order test and free_the_page() (inlined, a tail "
    "call into free_unref_page()); the call. It skips __page_cache_release() (page_bench04's comment)."))
FREE_UNREF_PAGE = Work(page=7, regs=8, calls=1, counted=(
    "free_unref_page() + free_unref_page_prepare() + free_pcp_prepare() -> free_pages_prepare(page, 0, "
    "false) (all inlined): PageHWPoison, page->mapping, PageMemcgKmem (memcg_data), page_cpupid_reset_last() "
    "and the PAGE_FLAGS_CHECK_AT_PREP clear (flags, read and written), set_pcppage_migratetype() "
    "(page->index); the prologue/epilogue (four registers); the call into it. get_pfnblock_migratetype() is "
    "GET_PFNBLOCK_MIGRATETYPE."))
GET_PFNBLOCK_MIGRATETYPE = Work(data=4, counted=(
    "get_pfnblock_migratetype() (__always_inline __get_pfnblock_flags_mask(): no call): mem_section root, the "
    "section, its pageblock_flags, the bitmap word."))
FREE_UNREF_PAGE_COMMIT = Work(page=4, data=5, percpu=2, chain=1, counted=(
    "free_unref_page_commit() (inlined): page_zone() (page->flags, the zone), get_pcppage_migratetype() "
    "(page->index), __count_vm_event(PGFREE) and this_cpu_off (per-CPU), zone->pageset, list_add() onto the "
    "pcp list (head->next: a dependent load, the previous free stored it; the previous first page's "
    "lru.prev, page->lru.next and .prev, head->next), pcp->count++ and the pcp->high test."))
FREE_PAGES_CHECK = Work(page=5, counted=(
    "free_pages_check(): _mapcount, mapping, _refcount, memcg_data, flags & PAGE_FLAGS_CHECK_AT_FREE. Run when "
    "free_pcppages_bulk() moves a page to the buddy lists, or, with DEBUG_VM, in free_pages_prepare() on every "
    "free."))
IN_INTERRUPT = Work(percpu=1, counted="in_interrupt(): preempt_count (the 2017 prototype's pcp bypass test)")

# -- the buddy allocator, under zone->lock ---------------------------------------------------------------------------
RMQUEUE_BULK = Work(regs=12, calls=1, counted=(
    "rmqueue_bulk() once per refill: its prologue/epilogue (six registers), the call; zone->lock is charged "
    "as a lock; __mod_zone_page_state(NR_FREE_PAGES) is MOD_ZONE_PAGE_STATE."))
RMQUEUE_BULK_PAGE = Work(page=11, data=4, chain=3, counted=(
    "per page moved buddy -> pcp: __rmqueue_smallest()'s free_area[order] list head (list_first_entry: a "
    "dependent load) and del_page_from_free_list() (list_del: page->lru loaded from that page, a dependent "
    "load; next->prev, prev->next, the poison stores; __ClearPageBuddy: a load and a store; "
    "set_page_private(0); area->nr_free--), set_pcppage_migratetype(), list_add_tail() onto the pcp list "
    "(head->prev: a dependent load on the previous add; prev->next, page->lru, head->prev), "
    "get_pcppage_migratetype() for the CMA test. check_new_page() comes on top (here only without DEBUG_VM)."))
MOD_ZONE_PAGE_STATE = Work(data=1, percpu=3, calls=1, counted=(
    "__mod_zone_page_state() (mm/vmstat.c, out of line): zone->pageset, the per-CPU diff (read and written) "
    "and its stat_threshold; the call."))
EMPTY_ORDER = Work(data=1, counted=(
    "__rmqueue_smallest() passing an empty free_area[order].free_list[mt]: its list head's next pointer."))
EXPAND_STEP = Work(page=5, data=4, counted=(
    "one expand() step: add_to_free_list() of the upper half (list_add: head->next and its store, next->prev, "
    "page->lru; area->nr_free++) and set_buddy_order() (set_page_private, __SetPageBuddy: a load and a store)."))
FREE_PCPPAGES_BULK = Work(data=6, stack=2, regs=12, calls=1, counted=(
    "free_pcppages_bulk() once per drain (5.13): count = min(pcp->count, count), pcp->batch for "
    "prefetch_nr, the round-robin over the pcp lists (list_empty tests), has_isolate_pageblock(); the "
    "prologue/epilogue (six registers) and the on-stack LIST_HEAD(head); the call; zone->lock is charged as a "
    "lock."))
FREE_PCPPAGES_BULK_PAGE = Work(page=7, data=3, stack=2, chain=3, counted=(
    "per page drained: list_last_entry (head->prev: a dependent load on the previous list_del) and list_del "
    "from the pcp list (page->lru: dependent; next->prev, prev->next, the poison stores), pcp->count--, "
    "list_add_tail() onto the on-stack private list (its head->prev, read and written; page->lru and "
    "prev->next), prefetch_buddy() (the buddy's address: register work; the prefetch is the cache model's); "
    "then under zone->lock the private list's walk (page->lru.next: dependent) and get_pcppage_migratetype(). "
    "free_pages_check() comes on top (here only without DEBUG_VM)."))
FREE_ONE_PAGE = Work(page=7, data=5, percpu=1, counted=(
    "__free_one_page() of an order-0 page, under zone->lock: task_capc() (current, current->capture_control), "
    "the merge loop's first page_is_buddy() (the buddy's page_type and private), set_buddy_order(), "
    "buddy_merge_likely() (the higher buddy's page_type), add_to_free_list() (list_add, area->nr_free++); "
    "__mod_zone_freepage_state()'s __mod_zone_page_state() is MOD_ZONE_PAGE_STATE."))
MERGE_STEP = Work(page=9, data=2, counted=(
    "one __free_one_page() merge step: del_page_from_free_list(buddy) (list_del: four pointer accesses and "
    "the poison stores, __ClearPageBuddy, set_page_private, nr_free--), the next buddy's page_is_buddy() test."))

# -- llist.h (benchframe.mm.llist) and the per-CPU lists as llists (benchframe.mm.llist_pcp) ---------------------------
LLIST_ADD = Work(page=1, data=1, counted=(
    "llist_add() = llist_add_batch(new, new, head): head->first read, last->next = first (the page's llist_node); "
    "the cmpxchg is an atomic. llist_add_batch() of a chain does the same once."))
LLIST_DEL_FIRST = Work(data=1, chain=1, counted=(
    "llist_del_first(): head->first, then entry->next (a dependent load); the cmpxchg is an atomic."))
LLIST_DEL_ALL = Work(data=1, counted=(
    "llist_del_all(): the list head's address (this_cpu_ptr(pcp)->lists[mt]); the xchg of head->first is an "
    "atomic."))
LLIST_NEXT = Work(chain=1, counted=(
    "one llist_for_each() step over a detached chain: node->next of a struct page's llist_node, a dependent load "
    "-- to take a page off the chain, or to find the chain's last node for llist_add_batch() (llist.h keeps no "
    "tail pointer)."))
LLIST_EMPTY = Work(data=1, counted="llist_empty(): a plain read of head->first (\"not guaranteed to be accurate\")")
PCP_COUNT_THIS_CPU = Work(percpu=1, counted=(
    "this_cpu_add()/this_cpu_sub() on pcp->count: one non-LOCKed read-modify-write instruction on the per-CPU "
    "line (x86 %gs-relative add: it cannot be split by an interrupt or NMI on this CPU, so no atomic is needed)."))
LLIST_FREE_COMMIT = Work(page=2, data=4, percpu=2, counted=(
    "free_unref_page_commit() onto an llist pcp: page_zone() (page->flags, the zone), get_pcppage_migratetype() "
    "(page->index), __count_vm_event(PGFREE) and this_cpu_off (per-CPU), zone->pageset, pcp->high and "
    "pcp->count for the drain test; llist_add() and this_cpu_inc(pcp->count) are charged as themselves."))
LLIST_DRAIN = Work(data=5, regs=12, calls=1, counted=(
    "the llist drain once per call: pcp->batch, pcp->count, llist_empty() of the three pcp lists; the "
    "prologue/epilogue (six registers); the call; each list's llist_del_all()/llist_add_batch() and zone->lock "
    "are charged as themselves."))

# -- what the conversion between caller shapes costs a caller ---------------------------------------------------------
ARRAY_SCAN = Work(data=1, counted="a caller looking at one slot of its array for NULL")
