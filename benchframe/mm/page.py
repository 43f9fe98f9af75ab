"""``struct page`` and gfp flags.

A page is its pfn (an ``int``). What the kernel keeps in ``struct page`` lives in per-pfn arrays of
``MemMap`` (as ``mem_map[]`` is an array of struct page): where the page is (state), its buddy order, the CPU
that last allocated it, and a next pointer for designs that overload struct page with an ``llist_node``.
"""

from __future__ import annotations

from array import array
from typing import Final

from benchframe.hw.topology import PAGEBLOCK_ORDER

# Where a page is. Exactly one holds for every page (DESIGN §7, page conservation).
PAGE_TAIL: Final = 0  # inside a free buddy block whose head is elsewhere
PAGE_BUDDY: Final = 1  # head of a free buddy block (PageBuddy), its order in MemMap.order
PAGE_PCP: Final = 2  # on a per-CPU page list
PAGE_ALLOCATED: Final = 3  # handed out: in a caller's hands (or in flight inside a design)
STATE_NAMES = {PAGE_TAIL: "buddy-tail", PAGE_BUDDY: "buddy", PAGE_PCP: "pcp", PAGE_ALLOCATED: "allocated"}

# Migrate types (include/linux/mmzone.h, 5.13).
MIGRATE_UNMOVABLE: Final = 0
MIGRATE_MOVABLE: Final = 1
MIGRATE_RECLAIMABLE: Final = 2
MIGRATE_PCPTYPES: Final = 3  # the number of types on the pcp lists
MIGRATE_TYPES: Final = 3  # HIGHATOMIC, CMA and ISOLATE are not modelled
MIGRATETYPE_NAMES = ("Unmovable", "Movable", "Reclaimable")
# fallbacks[] of mm/page_alloc.c (5.13), restricted to the modelled types.
FALLBACKS = {
    MIGRATE_UNMOVABLE: (MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE),
    MIGRATE_MOVABLE: (MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE),
    MIGRATE_RECLAIMABLE: (MIGRATE_UNMOVABLE, MIGRATE_MOVABLE),
}

# gfp flags: the bits the model looks at (include/linux/gfp.h).
__GFP_MOVABLE: Final = 0x08
__GFP_RECLAIMABLE: Final = 0x10
__GFP_HIGH: Final = 0x20
__GFP_ATOMIC: Final = 0x200
__GFP_ZERO: Final = 0x100
__GFP_DIRECT_RECLAIM: Final = 0x400
__GFP_KSWAPD_RECLAIM: Final = 0x800
__GFP_NOWARN: Final = 0x2000
__GFP_NORETRY: Final = 0x10000
__GFP_IO: Final = 0x40
__GFP_FS: Final = 0x80
GFP_ATOMIC = __GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM
GFP_KERNEL = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM | __GFP_IO | __GFP_FS
GFP_NAMES = {"GFP_ATOMIC": GFP_ATOMIC, "GFP_KERNEL": GFP_KERNEL, "__GFP_ZERO": __GFP_ZERO,
             "__GFP_NOWARN": __GFP_NOWARN, "__GFP_NORETRY": __GFP_NORETRY}


def gfp_migratetype(gfp: int) -> int:
    """``gfp_migratetype()``: the migrate type a gfp mask allocates from."""
    if gfp & __GFP_MOVABLE:
        return MIGRATE_MOVABLE
    if gfp & __GFP_RECLAIMABLE:
        return MIGRATE_RECLAIMABLE
    return MIGRATE_UNMOVABLE


def parse_gfp(text: str) -> int:
    """``"GFP_ATOMIC|__GFP_ZERO"`` -> mask."""
    mask = 0
    for part in text.replace(" ", "").split("|"):
        if part not in GFP_NAMES:
            raise ValueError(f"unknown gfp flag {part!r}; known: {', '.join(GFP_NAMES)}")
        mask |= GFP_NAMES[part]
    return mask


class MemMap:
    """``mem_map[]``: per-pfn page metadata for the whole machine."""

    __slots__ = ("nr_pages", "state", "order", "free_mt", "pageblock_mt", "cpu", "next")

    def __init__(self, nr_pages: int):
        self.nr_pages = nr_pages
        self.state = bytearray(nr_pages)  # PAGE_* above
        self.order = bytearray(nr_pages)  # buddy order of a PAGE_BUDDY head
        # page->index: which free_area[order][mt] list a PAGE_BUDDY head is on; on a pcp list its migrate type
        self.free_mt = bytearray(nr_pages)
        self.pageblock_mt = bytearray(MIGRATE_MOVABLE for _ in range((nr_pages >> PAGEBLOCK_ORDER) + 1))
        self.cpu = array("h", [-1]) * nr_pages  # CPU that allocated the page last (for remote-free designs)
        self.next = array("l", [-1]) * nr_pages  # page->pcp_llist.next for llist designs (-1 = NULL)

    def migratetype(self, pfn: int) -> int:
        """``get_pfnblock_migratetype()``."""
        return self.pageblock_mt[pfn >> PAGEBLOCK_ORDER]
