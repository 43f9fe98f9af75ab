"""``struct zone``: the buddy allocator's ``free_area``, watermarks, ``NR_FREE_PAGES`` and ``zone->lock``.

Models mm/page_alloc.c as of 5.13. Simplifications (each named where it applies): no HIGHATOMIC/CMA/ISOLATE
migrate types, no compaction or reclaim, no lowmem_reserve, fallback steals whole free blocks.
Methods carry the kernel function names without their leading underscores (`rmqueue_smallest` models
`__rmqueue_smallest()`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from benchframe.hw.topology import MAX_ORDER, PAGEBLOCK_ORDER
from benchframe.mm.page import (
    FALLBACKS,
    MIGRATE_MOVABLE,
    MIGRATE_TYPES,
    PAGE_BUDDY,
    PAGE_TAIL,
    MemMap,
)
from benchframe.mm.symbols import ksym

if TYPE_CHECKING:
    from collections.abc import Iterator

    from benchframe.hw.cache import CacheModel
    from benchframe.hw.cpu import CPU
    from benchframe.hw.locks import SpinLock
    from benchframe.mm.pcp import PerCpuPages

# alloc_flags (mm/internal.h, 5.13)
ALLOC_WMARK_MIN: Final = 0x00
ALLOC_WMARK_LOW: Final = 0x01
ALLOC_WMARK_HIGH: Final = 0x02
ALLOC_WMARK_MASK: Final = 0x03
ALLOC_HARDER: Final = 0x10
ALLOC_HIGH: Final = 0x20
WMARK_MIN, WMARK_LOW, WMARK_HIGH = 0, 1, 2
#: ``zone->flags`` (6.7+): free pages fell below the high watermark (get_page_from_freelist() sets it); the pcp
#: lists then shrink pcp->high instead of growing it (nr_pcp_high(), nr_pcp_alloc())
ZONE_BELOW_HIGH = 1 << 0


class Zone:
    """One zone of one node. ``free_area[order][migratetype]`` are ordered sets of block-head pfns whose last
    item is the list head (``list_add`` appends, ``list_first_entry`` takes the last)."""

    def __init__(self, name: str, node: int, zone_idx: int, start_pfn: int, pages: int, mem: MemMap,
                 lock: SpinLock, cache: CacheModel, expand_cost: int, merge_cost: int, empty_cost: int = 0):
        self.name = name
        self.node = node
        self.zone_idx = zone_idx
        self.start_pfn = start_pfn
        self.end_pfn = start_pfn + pages
        self.managed_pages = pages
        self.mem = mem
        self.lock = lock
        self.free_area: list[list[dict[int, None]]] = [
            [{} for _ in range(MIGRATE_TYPES)] for _ in range(MAX_ORDER)]
        self.nr_free = [0] * MAX_ORDER  # free_area[order].nr_free
        self.nr_free_pages = 0  # vm_stat[NR_FREE_PAGES]
        self.watermark = [0, 0, 0]  # _watermark[WMARK_MIN/LOW/HIGH]
        self.flags = 0  # zone->flags: ZONE_BELOW_HIGH (6.7+)
        self.pcp: list[PerCpuPages] = []  # per_cpu_pageset, indexed by CPU id (filled at boot)
        self.cache = cache
        self._split = expand_cost  # one expand() step (mm.work.EXPAND_STEP)
        self._merge = merge_cost  # one __free_one_page() merge step (mm.work.MERGE_STEP)
        self._empty = empty_cost  # an empty free list passed by __rmqueue_smallest() (mm.work.EMPTY_ORDER)
        self.vmstat_line = cache.shared_line()  # vm_stat[NR_FREE_PAGES]: read by every watermark check

    def __repr__(self) -> str:
        return f"<zone {self.name} node{self.node} pfn {self.start_pfn}-{self.end_pfn}>"

    def contains(self, pfn: int) -> bool:
        return self.start_pfn <= pfn < self.end_pfn

    # -- initialisation ------------------------------------------------------------------------------
    def init_free(self) -> None:
        """Put every page on the free lists as MAX_ORDER-1 blocks (``memblock_free_all`` at boot), Movable."""
        pfn = self.start_pfn
        while pfn < self.end_pfn:
            order = MAX_ORDER - 1
            while pfn + (1 << order) > self.end_pfn or pfn & ((1 << order) - 1):
                order -= 1
            self._add_free(pfn, order, MIGRATE_MOVABLE)
            self.nr_free_pages += 1 << order
            pfn += 1 << order

    def setup_watermarks(self, min_pages: int, scale_factor: int = 10) -> None:
        """``__setup_per_zone_wmarks()`` (5.13): min share of ``min_free_kbytes``; low/high by
        ``watermark_scale_factor`` (default 10 = 0.1% of the zone)."""
        gap = max(min_pages >> 2, self.managed_pages * scale_factor // 10000)
        self.watermark = [min_pages, min_pages + gap, min_pages + 2 * gap]

    # -- free lists ----------------------------------------------------------------------------------
    def _add_free(self, pfn: int, order: int, mt: int) -> None:
        mem = self.mem
        mem.state[pfn] = PAGE_BUDDY
        mem.order[pfn] = order
        mem.free_mt[pfn] = mt
        self.free_area[order][mt][pfn] = None
        self.nr_free[order] += 1

    def _del_free(self, pfn: int, order: int, mt: int) -> None:
        del self.free_area[order][mt][pfn]
        self.nr_free[order] -= 1
        self.mem.state[pfn] = PAGE_TAIL

    @ksym("expand")
    def expand(self, cpu: CPU, pfn: int, low: int, high: int, mt: int) -> None:
        """``expand()``: give back the upper halves of a block split from order ``high`` down to ``low``."""
        size = 1 << high
        touch = self.cache.touch
        while high > low:
            high -= 1
            size >>= 1
            self._add_free(pfn + size, high, mt)
            cpu.charge(self._split + touch(cpu, pfn + size))  # set_buddy_order(), add_to_free_list()

    @ksym("__rmqueue_smallest")
    def rmqueue_smallest(self, cpu: CPU, order: int, mt: int) -> int | None:
        """``__rmqueue_smallest()``: the smallest free block of ``mt`` that fits, split down to ``order``."""
        for current in range(order, MAX_ORDER):
            area = self.free_area[current][mt]
            if area:
                pfn = next(reversed(area))  # list_first_entry: the most recently added block
                if current > order:
                    cpu.charge(self._empty * (current - order))  # the empty lists it looked at first
                self._del_free(pfn, current, mt)
                self.expand(cpu, pfn, order, current, mt)
                return pfn
        return None

    def rmqueue_fallback(self, cpu: CPU, order: int, start_mt: int) -> bool:
        """``__rmqueue_fallback()``, simplified: steal the largest free block of a fallback type and move it to
        ``start_mt`` (the kernel moves the whole pageblock when the block is large enough; we always do)."""
        for current in range(MAX_ORDER - 1, order - 1, -1):
            for fmt in FALLBACKS[start_mt]:
                area = self.free_area[current][fmt]
                if area:
                    pfn = next(iter(area))  # the kernel steals from the tail (the coldest block)
                    self._del_free(pfn, current, fmt)
                    if current >= PAGEBLOCK_ORDER:
                        mem = self.mem
                        for blk in range(pfn >> PAGEBLOCK_ORDER, (pfn + (1 << current)) >> PAGEBLOCK_ORDER):
                            mem.pageblock_mt[blk] = start_mt
                    self._add_free(pfn, current, start_mt)
                    return True
        return False

    @ksym("__rmqueue")
    def rmqueue(self, cpu: CPU, order: int, mt: int) -> int | None:
        """``__rmqueue()``: smallest block of the type, else steal from a fallback type and retry."""
        pfn = self.rmqueue_smallest(cpu, order, mt)
        if pfn is None and self.rmqueue_fallback(cpu, order, mt):
            pfn = self.rmqueue_smallest(cpu, order, mt)
        return pfn

    @ksym("__free_one_page")
    def free_one_page(self, cpu: CPU, pfn: int, order: int, mt: int) -> None:
        """``__free_one_page()``: merge with free buddies up the orders, then add the block to its free list."""
        mem = self.mem
        state = mem.state
        morder = mem.order
        state[pfn] = PAGE_TAIL  # inside a free block from now on; _add_free() marks the final head PageBuddy
        touch = self.cache.touch
        while order < MAX_ORDER - 1:
            buddy = pfn ^ (1 << order)
            if not (self.start_pfn <= buddy < self.end_pfn):
                break
            extra = touch(cpu, buddy)  # page_is_buddy(): the buddy's flags and private
            if state[buddy] != PAGE_BUDDY or morder[buddy] != order:
                cpu.charge(extra)
                break
            self._del_free(buddy, order, mem.free_mt[buddy])
            cpu.charge(self._merge + extra)
            pfn &= buddy
            order += 1
        self._add_free(pfn, order, mt)

    # -- watermarks ----------------------------------------------------------------------------------
    def zone_watermark_fast(self, order: int, mark: int, alloc_flags: int) -> bool:
        """``zone_watermark_fast()`` (5.13): the order-0 fast check against NR_FREE_PAGES, else
        ``__zone_watermark_ok()`` which also needs a free block of at least ``order``. No lowmem_reserve."""
        free = self.nr_free_pages
        if not order and free > mark:
            return True
        return self.zone_watermark_ok(order, mark, alloc_flags)

    def zone_watermark_ok(self, order: int, mark: int, alloc_flags: int) -> bool:
        """``__zone_watermark_ok()`` (5.13), without lowmem_reserve and HIGHATOMIC reserves."""
        min_ = mark
        free = self.nr_free_pages - ((1 << order) - 1)
        if alloc_flags & ALLOC_HIGH:
            min_ -= min_ // 2
        if alloc_flags & ALLOC_HARDER:
            min_ -= min_ // 4
        if free <= min_:
            return False
        if not order:
            return True
        return any(self.nr_free[o] for o in range(order, MAX_ORDER))

    def free_blocks(self) -> Iterator[tuple[int, int, int]]:
        """Every free block as (pfn, order, migratetype) — for invariant checks."""
        for order in range(MAX_ORDER):
            for mt in range(MIGRATE_TYPES):
                for pfn in self.free_area[order][mt]:
                    yield pfn, order, mt


def min_free_kbytes(lowmem_kbytes: int) -> int:
    """``init_per_zone_wmark_min()``: ``int_sqrt(lowmem_kbytes * 16)`` clamped to [128, 262144] (5.13)."""
    return max(128, min(262144, math.isqrt(lowmem_kbytes * 16)))


__all__ = ["Zone", "min_free_kbytes", "ALLOC_WMARK_LOW", "ALLOC_WMARK_MIN", "ALLOC_WMARK_HIGH",
           "ALLOC_WMARK_MASK", "ALLOC_HARDER", "ALLOC_HIGH", "ZONE_BELOW_HIGH"]
