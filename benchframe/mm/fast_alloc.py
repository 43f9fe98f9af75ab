"""The fused single-page path: ``__alloc_pages()`` of one order-0 page off the pcp list in one sum.

The steps of ``Kernel.alloc_pages`` for the common case -- the entry, ``get_page_from_freelist()`` with the
first zone's watermark passing, ``rmqueue()``, ``rmqueue_pcplist()`` under ``local_irq_save()`` taking the head
of a non-empty list, ``prep_new_page()`` -- with their charges summed in a local clock, under the rules of
``benchframe.mm.fast``: a charge is an addition only while the clock stays below ``cpu.next_event``. Before
``local_irq_save()`` each charge is checked against it (one that would reach it: the whole slow path, nothing
done); with IRQs off the plain interrupt policy looks at nothing but an NMI (``Interrupts.irqs_off``), so the
charges up to ``local_irq_restore()`` are additions; after it the controller is asked again (``rearm``, which
may deliver) and ``prep_new_page()`` is a true charge, as in the slow path. Used only where ``fusable`` holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from benchframe.hw.cache import NO_CPU, CacheModel
from benchframe.hw.cpu import INF
from benchframe.hw.irq import NMI_KIND
from benchframe.mm.page import __GFP_DIRECT_RECLAIM as GFP_DIRECT_RECLAIM
from benchframe.mm.page import __GFP_MOVABLE as GFP_MOVABLE
from benchframe.mm.page import __GFP_RECLAIMABLE as GFP_RECLAIMABLE
from benchframe.mm.page import __GFP_ZERO as GFP_ZERO
from benchframe.mm.page import (
    MIGRATE_MOVABLE,
    MIGRATE_RECLAIMABLE,
    MIGRATE_UNMOVABLE,
    PAGE_ALLOCATED,
    PAGE_PCP,
)
from benchframe.mm.pcp import PcpOps, handed_out_twice
from benchframe.mm.zone import ALLOC_WMARK_LOW, ALLOC_WMARK_MASK

if TYPE_CHECKING:
    from array import array

    from benchframe.hw.cpu import CPU
    from benchframe.mm.page_alloc import Counters, Kernel
    from benchframe.mm.zone import Zone


#: what ``alloc_page`` reads of a kernel that does not change while it runs (``alloc_path``)
AllocPath = tuple["list[list[Zone]]", "tuple[int, ...]", int, int, int, int, int, CacheModel, bool, bytearray,
                  "array[int]", "Counters"]


def alloc_path(k: Kernel) -> AllocPath:
    """``k``'s zonelists, prices, cache model, ``mem_map`` and counters as ``alloc_page`` reads them, gathered
    once at boot (``Kernel.alloc_path``: a tuple, which pickles with its kernel) so that the path unpacks them
    from one object instead of reading the kernel's attributes, page after page."""
    prices = k.prices
    ops = k.pcp_ops
    return (k.zonelists, prices.alloc_entry, prices.get_page_from_freelist, prices.rmqueue,
            ops.c_take + ops.c_stats,  # __rmqueue_pcplist(), then the PGALLOC stats
            prices.prep, prices.clear_page, k.cache,
            # 5.14's (LocalLockPcp) rmqueue_pcplist_prepare(): an allocation halves free_factor
            type(ops).rmqueue_pcplist_prepare is not PcpOps.rmqueue_pcplist_prepare,
            k.mem.state, k.mem.cpu, k.stat)


def alloc_page(k: Kernel, cpu: CPU, gfp: int, nid: int, mempolicy: bool) -> int | None:  # noqa: C901
    """``__alloc_pages()`` of one order-0 page served by the first zone's pcp list without a refill, IRQs on,
    no explore hook, no NMI source (``local_irq_save()`` would ask the controller about it) and no charge
    before ``local_irq_save()`` reaching ``next_event``. ``None``: not that case, nothing done (the caller takes
    the whole path). (The C901 exception: the steps of one kernel path, in order.)"""
    irq = cpu.irq
    sources = cpu.sources
    ne = cpu.next_event
    if not cpu.irqs_on or irq.charge_point is not None:
        return None
    if sources:
        if sources[0].kind == NMI_KIND:  # (NMI sources sort first)
            return None
    elif ne != INF:
        return None
    path = k.alloc_path
    if path is None:
        return None
    (zonelists, entry, freelist, rmqueue, take_stats, prep, clear_page, cache, halve_free_factor, state, owner,
     stat) = path
    zone = zonelists[nid][0]
    if zone.nr_free_pages <= zone.watermark[ALLOC_WMARK_LOW & ALLOC_WMARK_MASK]:
        return None  # zone_watermark_fast()'s order-0 test fails: the zonelist walk
    cid = cpu.id
    pcp = zone.pcp[cid]
    # gfp_migratetype(), inlined
    mt = MIGRATE_MOVABLE if gfp & GFP_MOVABLE else MIGRATE_RECLAIMABLE if gfp & GFP_RECLAIMABLE else MIGRATE_UNMOVABLE
    lst = pcp.lists[mt]
    q = lst.q
    if not q:
        return None  # a refill
    # read_shared() of the zone's NR_FREE_PAGES line, its cost first: it is recorded only if the path is taken
    shared = zone.vmstat_line
    seen = cache.shared_seen[cid]
    version = cache.shared_version[shared]
    extra = 0
    if seen[shared] != version and cache.shared_writer[shared] not in (NO_CPU, cid):
        extra = cache.x_transfer
    save, restore = cpu.irq_half
    # the entry, get_page_from_freelist(), read_shared(), rmqueue(), local_irq_save(): each below next_event
    clock = cpu.clock + entry[(2 if gfp & GFP_DIRECT_RECLAIM else 0) | (1 if mempolicy else 0)]
    if clock >= ne:
        return None
    clock += freelist
    if clock >= ne:
        return None
    clock += extra
    if clock >= ne:
        return None
    clock += rmqueue
    if clock >= ne:
        return None
    clock += save
    if clock >= ne:
        return None
    seen[shared] = version
    cpu.irqs_on = False  # local_irq_save()
    cpu.irqs_off_since = clock
    cpu.irq_toggles += 1
    if sources:
        cpu.next_event = INF  # Interrupts.irqs_off(): no NMI source, no hook
    if halve_free_factor:
        pcp.free_factor >>= 1  # 5.14's (LocalLockPcp): an allocation, the next drain starts from one batch
    pg: Any = q[0]  # the int object the list holds, stored and returned as it is (no new box)
    page: int = pg
    c1 = cid + 1
    l1 = cache.l1
    line = cache.line
    seq = cache.seq[cid]
    v = line[page]
    if v & 255 == c1 and seq - (v >> 8) < l1:
        line[page] = seq << 8 | c1
        extra = 0
    else:
        extra = CacheModel.touch(cache, cpu, page)
        seq = cache.seq[cid]
    if len(q) > 1:
        nxt = q[1]
        v = line[nxt]
        if v & 255 == c1 and seq - (v >> 8) < l1:
            line[nxt] = seq << 8 | c1
        else:
            extra += CacheModel.touch(cache, cpu, nxt)
    q.popleft()
    pcp.count = pcp.count - 1
    st: int = state[pg]
    if st != PAGE_PCP:
        handed_out_twice(k, cpu, page, lst.name)
    state[pg] = PAGE_ALLOCATED
    clock += take_stats + extra + restore
    cpu.irqs_on = True  # local_irq_restore()
    windows = cpu.irqs_off_windows  # Samples.append of the window, inlined (as free_pages does)
    w = clock - cpu.irqs_off_since
    counts = windows.counts
    counts[w] = counts.get(w, 0) + 1
    windows.n = windows.n + 1
    windows.total = windows.total + w
    if gfp & GFP_ZERO:
        prep += clear_page
    if sources:  # the controller looks again (and may deliver), then prep_new_page() is a true charge
        cpu.clock = clock
        irq.rearm(cpu)
        cpu.charge(prep)
    else:
        cpu.clock = clock + prep
    stat.pages_allocated = stat.pages_allocated + 1
    owner[pg] = cid
    return cast("int | None", pg)


def alloc_page_array(k: Kernel, cpu: CPU, gfp: int, nr_pages: int, page_array: list[int | None],
                     preferred_nid: int | None, scan: int, store: int) -> int:
    """The pre-5.13 callers' loop (the ``single`` design's ``alloc_bulk``), compiled: for each slot its
    ``scan``; a NULL slot filled by ``alloc_page()`` -- ``alloc_page`` above where it applies, else
    ``Kernel.alloc_pages`` -- and its ``store``; the loop stops at the first page not had. Returns the slots
    populated. The same calls and charges, in the same order, as the plugin's loop; used where
    ``Kernel.fused_alloc`` holds."""
    stat = k.stat
    mempolicy = preferred_nid is None
    nid = cpu.node if preferred_nid is None else preferred_nid
    populated = 0
    for i in range(max(nr_pages, 0)):
        cpu.charge(scan)
        if page_array[i] is not None:
            populated += 1
            continue
        page = alloc_page(k, cpu, gfp, nid, mempolicy)
        if page is None:
            page = k.alloc_pages(cpu, gfp, 0, preferred_nid, mempolicy=mempolicy)
            if page is None:
                stat.partial_returns += 1
                break
        page_array[i] = page
        cpu.charge(store)
        populated += 1
    return populated


__all__ = ["alloc_page", "alloc_page_array"]
