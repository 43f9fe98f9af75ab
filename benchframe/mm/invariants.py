"""The invariants of DESIGN §7, checked after every run (and after every step under exploration):

* page conservation: every page is in exactly one of buddy, a pcp list, a caller's hands;
* no page handed out twice (also checked as pages are handed out, see ``PcpOps`` and ``api.Caller``);
* ``pcp->count`` and ``free_area[].nr_free`` / ``NR_FREE_PAGES`` equal the lists they count.

Returns human-readable violations; an empty list means the state is consistent.
"""

from __future__ import annotations

from collections.abc import Iterable

from benchframe.mm.page import PAGE_ALLOCATED, PAGE_BUDDY, PAGE_PCP, STATE_NAMES
from benchframe.mm.page_alloc import Kernel


def check_kernel(k: Kernel, held: Iterable[int] = ()) -> list[str]:
    problems: list[str] = []
    mem = k.mem
    state = mem.state
    owner = bytearray(mem.nr_pages)  # 0 unseen, 1 buddy, 2 pcp, 3 held
    held = set(held)

    def claim(pfn: int, where: int, what: str) -> None:
        if owner[pfn]:
            problems.append(f"pfn {pfn} is in two places: {STATE_NAMES[owner[pfn]]} and {what}")
        owner[pfn] = where

    for zone in k.zones:
        free = 0
        for order, nr in enumerate(zone.nr_free):
            found = sum(len(zone.free_area[order][mt]) for mt in range(len(zone.free_area[order])))
            if found != nr:
                problems.append(f"{zone.name}: free_area[{order}].nr_free is {nr} but {found} blocks are listed")
        for pfn, order, _mt in zone.free_blocks():
            if state[pfn] != PAGE_BUDDY or mem.order[pfn] != order:
                problems.append(f"{zone.name}: free block at pfn {pfn} order {order} not marked PageBuddy")
            block = owner[pfn:pfn + (1 << order)]
            if block.count(0) != len(block):
                for p in range(pfn, pfn + (1 << order)):
                    claim(p, PAGE_BUDDY, f"{zone.name} buddy order-{order} block")
            else:
                owner[pfn:pfn + (1 << order)] = bytes([PAGE_BUDDY]) * (1 << order)
            free += 1 << order
        if free != zone.nr_free_pages:
            problems.append(f"{zone.name}: NR_FREE_PAGES is {zone.nr_free_pages} but {free} pages are free")
        for pcp in zone.pcp:
            listed = 0
            for lst in pcp.lists:
                for pfn in lst:
                    listed += 1
                    if state[pfn] != PAGE_PCP:
                        problems.append(f"pfn {pfn} on {lst.name} is marked {STATE_NAMES[state[pfn]]}")
                    claim(pfn, PAGE_PCP, lst.name)
            if listed != pcp.count:
                problems.append(f"{zone.name} pcp of CPU{pcp.cpu}: count is {pcp.count} but {listed} pages are listed")
    for pfn in sorted(held):
        if state[pfn] != PAGE_ALLOCATED:
            problems.append(f"pfn {pfn} is in a caller's hands but marked {STATE_NAMES[state[pfn]]}")
        claim(pfn, PAGE_ALLOCATED, "a caller's hands")
    lost = 0
    first = None
    for zone in k.zones:
        span = owner[zone.start_pfn:zone.end_pfn]
        lost += span.count(0)
        if first is None and span.count(0):
            first = zone.start_pfn + span.index(0)
    if lost:
        problems.append(f"{lost} page(s) lost: neither free nor held (first pfn {first})")
    return problems
