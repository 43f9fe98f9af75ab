"""The invariants of DESIGN §7, checked after every run (and after every step under exploration):

* page conservation: every page is in exactly one of buddy, a pcp list, a caller's hands;
* no page handed out twice (also checked as pages are handed out, see ``PcpOps`` and the harness's
  ``Caller``);
* ``pcp->count`` and ``free_area[].nr_free`` / ``NR_FREE_PAGES`` equal the lists they count.

Returns human-readable violations; an empty list means the state is consistent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.mm.page import MIGRATE_PCPTYPES, PAGE_ALLOCATED, PAGE_BUDDY, PAGE_PCP, STATE_NAMES
from benchframe.mm.pcp import pindex_to_order

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from benchframe.mm.page_alloc import Kernel
    from benchframe.mm.pcp import PerCpuPages
    from benchframe.mm.zone import Zone


class _Census:
    """Where each page was found (0 unseen, else its PAGE_* place), and the problems found so far."""

    def __init__(self, k: Kernel):
        self.k = k
        self.state = k.mem.state
        self.owner = bytearray(k.mem.nr_pages)
        self.problems: list[str] = []

    def claim(self, pfn: int, where: int, what: str) -> None:
        if self.owner[pfn]:
            self.problems.append(f"pfn {pfn} is in two places: {STATE_NAMES[self.owner[pfn]]} and {what}")
        self.owner[pfn] = where

    def buddy(self, zone: Zone) -> None:
        """``free_area[].nr_free`` and ``NR_FREE_PAGES`` against the free lists; every free block PageBuddy."""
        for order, nr in enumerate(zone.nr_free):
            found = sum(len(zone.free_area[order][mt]) for mt in range(len(zone.free_area[order])))
            if found != nr:
                self.problems.append(f"{zone.name}: free_area[{order}].nr_free is {nr} but {found} blocks are listed")
        free = 0
        owner = self.owner
        for pfn, order, _mt in zone.free_blocks():
            if self.state[pfn] != PAGE_BUDDY or self.k.mem.order[pfn] != order:
                self.problems.append(f"{zone.name}: free block at pfn {pfn} order {order} not marked PageBuddy")
            block = owner[pfn:pfn + (1 << order)]
            if block.count(0) != len(block):
                for p in range(pfn, pfn + (1 << order)):
                    self.claim(p, PAGE_BUDDY, f"{zone.name} buddy order-{order} block")
            else:
                owner[pfn:pfn + (1 << order)] = bytes([PAGE_BUDDY]) * (1 << order)
            free += 1 << order
        if free != zone.nr_free_pages:
            self.problems.append(f"{zone.name}: NR_FREE_PAGES is {zone.nr_free_pages} but {free} pages are free")

    def pcp(self, zone: Zone, pcp: PerCpuPages) -> None:
        """``pcp->count`` against its lists; every listed page marked as on a pcp list."""
        listed = 0
        high_order = len(pcp.lists) > MIGRATE_PCPTYPES  # 44042b449872: a list per order (pindex_to_order())
        for pindex, lst in enumerate(pcp.lists):
            order = pindex_to_order(pindex) if high_order else 0
            for pfn in lst:
                listed += 1 << order
                if self.state[pfn] != PAGE_PCP:
                    self.problems.append(f"pfn {pfn} on {lst.name} is marked {STATE_NAMES[self.state[pfn]]}")
                for p in range(pfn, pfn + (1 << order)):
                    self.claim(p, PAGE_PCP, lst.name)
        if listed != pcp.count:
            self.problems.append(f"{zone.name} pcp of CPU{pcp.cpu}: count is {pcp.count} but {listed} pages are "
                                 "listed")

    def held(self, held: set[int], orders: Mapping[int, int]) -> None:
        for pfn in sorted(held):
            if self.state[pfn] != PAGE_ALLOCATED:
                self.problems.append(f"pfn {pfn} is in a caller's hands but marked {STATE_NAMES[self.state[pfn]]}")
            for p in range(pfn, pfn + (1 << orders.get(pfn, 0))):
                self.claim(p, PAGE_ALLOCATED, "a caller's hands")

    def lost(self) -> None:
        """Pages of a zone that are nowhere: neither free nor held."""
        lost = 0
        first = None
        for zone in self.k.zones:
            span = self.owner[zone.start_pfn:zone.end_pfn]
            lost += span.count(0)
            if first is None and span.count(0):
                first = zone.start_pfn + span.index(0)
        if lost:
            self.problems.append(f"{lost} page(s) lost: neither free nor held (first pfn {first})")


def check_kernel(k: Kernel, held: Iterable[int] = (), orders: Mapping[int, int] | None = None) -> list[str]:
    """Every DESIGN §7 invariant of ``k`` with ``held`` the pages in callers' hands; ``orders`` gives the order of
    the blocks among them that are larger than one page (head pfn -> order)."""
    census = _Census(k)
    for zone in k.zones:
        census.buddy(zone)
        for pcp in zone.pcp:
            census.pcp(zone, pcp)
    census.held(set(held), orders or {})
    census.lost()
    return census.problems
