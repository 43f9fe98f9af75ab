"""The kernel functions the model mirrors, as a 5.13 x86-64 build has them: which are symbols of their own
(``perf report`` shows them with self time) and which the compiler inlines into their callers (their cycles
count in the caller's self time; ``benchframe perf`` still shows them as inlined frames).

``ksym(name)`` tags a method of the model with its function (``benchframe.hw.frames.symbol``), inlined or not
as this table says. Sources: kernel-facts §2.1 (the page_pool profile shows ``rmqueue``,
``get_page_from_freelist``, ``__alloc_pages_nodemask`` and ``prep_new_page``; the bulk profile of the v1-v4
postings ``__alloc_pages_bulk_nodemask`` and ``__rmqueue_pcplist``, which 3b822017b636 inlined for 5.13) and
the annotations in 5.13's mm/page_alloc.c (``static inline``, ``__always_inline``, ``noinline``); where the
code leaves it to the compiler the entry says so. Frames carry the 5.13 names on every kernel version; perf
profiles of older kernels name two of them differently (``ALIASES``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from benchframe.hw.frames import Frame, Site, symbol

if TYPE_CHECKING:
    from collections.abc import Callable

F = TypeVar("F", bound="Callable[..., Any]")

#: function -> why it is a symbol of its own (False) or inlined (True), in a 5.13 x86-64 build
SYMBOLS: dict[str, tuple[bool, str]] = {
    # the single-page allocation path
    "alloc_pages": (False, "mm/mempolicy.c, exported (alloc_pages_current() before 5.13)"),
    "__alloc_pages": (False, "exported; __alloc_pages_nodemask() before 5.13 (kf §2.1 profile)"),
    "prepare_alloc_pages": (True, "static inline"),
    "alloc_flags_nofragment": (True, "static inline"),
    "get_page_from_freelist": (False, "kf §2.1 profile"),
    "zone_watermark_fast": (True, "static inline"),
    "rmqueue": (False, "kf §2.1 profile"),
    "rmqueue_pcplist": (True, "static, one caller; absent from the kf §2.1 profile, counted in rmqueue"),
    "__rmqueue_pcplist": (True, "static inline since 3b822017b636 (5.13); a symbol in the v1-v4 postings"),
    "zone_statistics": (True, "static inline"),
    "prep_new_page": (False, "kf §2.1 profile"),
    "post_alloc_hook": (True, "global, but small and inlined into prep_new_page (assumption: perf's profile "
                              "shows no post_alloc_hook)"),
    "check_new_page": (True, "static inline (check_pcp_refill/check_new_pcp)"),
    "should_fail_alloc_page": (False, "noinline (ALLOW_ERROR_INJECTION): an empty function without FAIL_PAGE_ALLOC"),
    "__inc_numa_state": (False, "mm/vmstat.c, out of line (5.13; 5.14 made the NUMA counters inline)"),
    "__mod_zone_page_state": (False, "mm/vmstat.c, out of line"),
    "get_pfnblock_migratetype": (True, "static __always_inline, around __get_pfnblock_flags_mask()"),
    "fs_reclaim_acquire": (False, "mm/page_alloc.c, LOCKDEP's lock_map_acquire()"),
    "fs_reclaim_release": (False, "mm/page_alloc.c, LOCKDEP's lock_map_release()"),
    "__might_sleep": (False, "kernel/sched/core.c (DEBUG_ATOMIC_SLEEP)"),
    # the bulk allocator
    "__alloc_pages_bulk": (False, "exported; __alloc_pages_bulk_nodemask() in v1-v4 (kf §2.1 profile)"),
    # the buddy allocator
    "rmqueue_bulk": (False, "static, large; its own symbol (kf §2.1: 44.54% of rmqueue_bulk samples)"),
    "__rmqueue": (True, "static __always_inline"),
    "__rmqueue_smallest": (True, "static __always_inline"),
    "expand": (True, "static inline"),
    "rmqueue_buddy": (True, "the zone->lock part of rmqueue(), in rmqueue itself in 5.13"),
    "free_pcppages_bulk": (False, "static, large"),
    "__free_one_page": (True, "static inline"),
    "free_one_page": (False, "static, several callers"),
    "__free_pages_ok": (False, "static, several callers"),
    # freeing
    "__put_page": (False, "mm/swap.c, exported"),
    "__free_pages": (False, "exported"),
    "free_unref_page": (False, "global"),
    "free_unref_page_commit": (True, "static, one caller"),
    "free_pages_prepare": (True, "static __always_inline"),
    # locks (kernel/locking/spinlock.c; x86-64 without CONFIG_PREEMPTION: spin_unlock() is inlined)
    "_raw_spin_lock": (False, "kernel/locking/spinlock.c"),
    "_raw_spin_trylock": (False, "kernel/locking/spinlock.c"),
    "_raw_spin_unlock": (True, "INLINE_SPIN_UNLOCK (!PREEMPTION): a store, inlined"),
    "_raw_spin_lock_irqsave": (False, "kernel/locking/spinlock.c"),
    "_raw_spin_unlock_irqrestore": (False, "kernel/locking/spinlock.c"),
    "native_queued_spin_lock_slowpath": (False, "the wait of a contended spinlock"),
    # llist.h and lib/llist.c
    "llist_add": (True, "static inline around llist_add_batch()'s loop, as the model charges it"),
    "llist_add_batch": (False, "lib/llist.c"),
    "llist_del_first": (False, "lib/llist.c"),
    "llist_del_all": (True, "static inline: one xchg"),
    "this_cpu_add": (True, "one %gs-relative instruction"),
}

#: a 5.13 frame name -> the name an older kernel's perf profile gives the same function
ALIASES: dict[str, str] = {
    "__alloc_pages": "__alloc_pages_nodemask",  # 84172f4bb752 renamed it in 5.13
    "__alloc_pages_bulk": "__alloc_pages_bulk_nodemask",
}


def kframe(name: str) -> Frame:
    """The frame of kernel function ``name`` (a KeyError for one the table does not know)."""
    return Frame(name, SYMBOLS[name][0])


def ksym(name: str) -> Callable[[F], F]:
    """Tag a method as modelling kernel function ``name``, inlined or not as ``SYMBOLS`` says."""
    return symbol(name, SYMBOLS[name][0])


def at(*names: str) -> Site:
    """A site: every cycle of the charge to these kernel functions (``SYMBOLS``), below the current stack."""
    return Site.at(*(kframe(n) for n in names))


__all__ = ["ALIASES", "SYMBOLS", "at", "kframe", "ksym"]
