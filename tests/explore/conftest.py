"""Designs written for the explorer's tests: one per kind of kernel bug it must find, and the safe patterns that
look like them but must stay SAFE. Each is a small override of the 5.13 building blocks, as a kernel patch
would be; ``test_designs`` registers them all."""

from __future__ import annotations

import pytest

from benchframe.api import ARRAY, LIST, BulkAllocator, Design, PcpOps
from benchframe.mm.page import PAGE_ALLOCATED, PAGE_PCP, gfp_migratetype
from benchframe.mm.zone import ALLOC_WMARK_LOW
from benchframe.plugins import get_registry


def _refill(k, cpu, zone, lst, mt, n) -> int:
    """What rmqueue_bulk() does under zone->lock, without the lock and without NR_FREE_PAGES."""
    got = 0
    for _ in range(n):
        page = zone.rmqueue(cpu, 0, mt)
        if page is None:
            break
        cpu.charge(k.prices.refill_page)
        k.mem.state[page] = PAGE_PCP
        k.mem.free_mt[page] = mt
        lst.add_tail(page)
        got += 1
    return got


# -- bugs --------------------------------------------------------------------------------------------------------
class UnlockBeforeFreeListPcp(PcpOps):
    """The refill releases zone->lock after the first page, before the free-list updates are complete."""

    def rmqueue_pcplist(self, cpu, zone, mt, alloc_flags, pcp):
        lst = pcp.lists[mt]
        if not lst:
            k = self.k
            flags = k.zone_lock(cpu, zone)
            got = _refill(k, cpu, zone, lst, mt, 1)
            zone.nr_free_pages -= got
            k.zone_unlock(cpu, zone, flags)  # too early: the rest of the batch comes off the free lists unlocked
            got2 = _refill(k, cpu, zone, lst, mt, pcp.batch - 1)
            flags = k.zone_lock(cpu, zone)
            zone.nr_free_pages -= got2
            k.zone_unlock(cpu, zone, flags)
            pcp.count += got + got2
            if not lst:
                return None
        return super().rmqueue_pcplist(cpu, zone, mt, alloc_flags, pcp)


class UnlockBeforeFreeList(BulkAllocator):
    shape = ARRAY
    pcp_ops = UnlockBeforeFreeListPcp


class NrFreeIrqsOnPcp(PcpOps):
    """The refill defers its NR_FREE_PAGES update to the unlock, where it is a read-modify-write with IRQs back
    on (``__mod_zone_page_state()`` needs them off)."""

    def __init__(self, k):
        super().__init__(k)
        self.owed = {}

    def rmqueue_pcplist(self, cpu, zone, mt, alloc_flags, pcp):
        lst = pcp.lists[mt]
        if not lst:
            k = self.k
            flags = k.zone_lock(cpu, zone)
            got = _refill(k, cpu, zone, lst, mt, pcp.batch)
            k.zone_unlock(cpu, zone, flags)
            pcp.count += got
            self.owed[cpu.id] = self.owed.get(cpu.id, 0) + got
            if not lst:
                return None
        return super().rmqueue_pcplist(cpu, zone, mt, alloc_flags, pcp)

    def unlock(self, cpu, token, pcp=None):
        cpu.local_irq_restore(token)
        owed = self.owed.pop(cpu.id, 0)
        if owed and pcp is not None:
            free = pcp.zone.nr_free_pages
            cpu.charge(self.k.prices.refill)
            pcp.zone.nr_free_pages = free - owed


class NrFreeIrqsOn(BulkAllocator):
    shape = ARRAY
    pcp_ops = NrFreeIrqsOnPcp


class CountBeforeIrqsOff(BulkAllocator):
    """Time of check, time of use: ``pcp->count`` read with IRQs still on, then that many pages taken with IRQs
    off, without looking at the list again."""

    shape = ARRAY

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None):
        k = self.k
        zone = k.zonelists[cpu.node][0]
        pcp = zone.pcp[cpu.id]
        avail = pcp.count  # read before local_irq_save()
        cpu.charge(k.prices.bulk_call)
        if nr_pages < 2 or avail < nr_pages or page_array is None:
            return super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array)
        mt = gfp_migratetype(gfp)
        ops = k.pcp_ops
        token = ops.lock(cpu, pcp)
        lst = pcp.lists[mt]
        for i in range(nr_pages):  # trusts avail: no refill
            page = lst.del_first(cpu, ops.c_take)
            pcp.count -= 1
            k.mem.state[page] = PAGE_ALLOCATED
            k.mem.cpu[page] = cpu.id
            page_array[i] = page
        ops.unlock(cpu, token, pcp)
        k.stat.pages_allocated += nr_pages
        return nr_pages


class DisableEnablePcp(PcpOps):
    """``local_irq_disable()``/``local_irq_enable()`` where the section may be entered with IRQs already off (a
    hardirq handler allocating): the enable turns them on inside the handler."""

    def lock(self, cpu, pcp=None):
        cpu.local_irq_disable()
        return True

    def unlock(self, cpu, token, pcp=None):
        cpu.local_irq_enable()


class DisableEnable(BulkAllocator):
    shape = ARRAY
    pcp_ops = DisableEnablePcp


# -- safe patterns -----------------------------------------------------------------------------------------------
class NestedSaveRestorePcp(PcpOps):
    """Two nested ``local_irq_save()``/``local_irq_restore()`` pairs around the pcp."""

    def lock(self, cpu, pcp=None):
        outer = cpu.local_irq_save()
        return outer, cpu.local_irq_save()

    def unlock(self, cpu, token, pcp=None):
        outer, inner = token
        cpu.local_irq_restore(inner)
        cpu.local_irq_restore(outer)


class NestedSaveRestore(BulkAllocator):
    shape = ARRAY
    pcp_ops = NestedSaveRestorePcp


class LongIrqsOff(BulkAllocator):
    """One IRQs-off section around the whole bulk call, zone choice included."""

    shape = LIST

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None):
        flags = cpu.local_irq_save()
        n = super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array)
        cpu.local_irq_restore(flags)
        return n


class IrqsOnBetweenPages(BulkAllocator):
    """One ``rmqueue()`` per page, each with its own IRQs-off section: IRQs on between pages."""

    shape = ARRAY

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None):
        k = self.k
        zone = k.zonelists[cpu.node][0]
        n = 0
        for i in range(max(nr_pages, 0)):
            if page_array[i] is not None:
                n += 1
                continue
            page = k.rmqueue(cpu, zone, 0, gfp, ALLOC_WMARK_LOW)
            if page is None:
                break
            k.mem.cpu[page] = cpu.id
            k.prep_new_page(cpu, page, 0, gfp)
            k.stat.pages_allocated += 1
            page_array[i] = page
            n += 1
        return n


class PrefillIrqsave(BulkAllocator):
    """Before the 5.13 loop, the pcp list is topped up to ``nr_pages`` under ``spin_lock_irqsave(&zone->lock)``
    (free lists, NR_FREE_PAGES and the pcp list all changed with the lock held and IRQs off)."""

    shape = ARRAY

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None):
        k = self.k
        zone = k.zonelists[cpu.node][0]
        mt = gfp_migratetype(gfp)
        flags = k.zone_lock(cpu, zone)  # spin_lock_irqsave(): IRQs go off here
        pcp = zone.pcp[cpu.id]
        want = max(0, min(nr_pages, 16) - pcp.count)
        got = _refill(k, cpu, zone, pcp.lists[mt], mt, want)
        zone.nr_free_pages -= got
        pcp.count += got
        k.zone_unlock(cpu, zone, flags)
        return super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array)


BUGS = {
    "unlock_before_free_list": UnlockBeforeFreeList,
    "nr_free_irqs_on": NrFreeIrqsOn,
    "count_before_irqs_off": CountBeforeIrqsOff,
    "disable_enable": DisableEnable,
}
SAFE = {
    "nested_save_restore": NestedSaveRestore,
    "long_irqs_off": LongIrqsOff,
    "irqs_on_between_pages": IrqsOnBetweenPages,
    "prefill_irqsave": PrefillIrqsave,
}


@pytest.fixture
def test_designs(monkeypatch):
    """The registry knows every design above, by its name in ``BUGS`` and ``SAFE``."""
    reg = get_registry()
    designs = dict(reg.designs)
    for name, factory in {**BUGS, **SAFE}.items():
        designs[name] = Design(name, factory, (factory.__doc__ or name).split("\n")[0])
    monkeypatch.setattr(reg, "designs", designs)
    return reg
