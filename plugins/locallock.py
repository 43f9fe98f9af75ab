"""``locallock``: the 5.14 page allocator -- the per-CPU lists under ``local_lock`` (dbbee9d5cd83) with the
bulk allocator's statistics batched (3e23060b2d0b) -- as 5.14 really is.

* The pcp is protected by ``local_lock_irqsave(&pagesets.lock, flags)``: on a normal kernel exactly
  ``local_irq_save()``; with ``PREEMPT_RT`` a per-CPU sleeping spinlock taken with migration disabled and IRQs
  left enabled. On PREEMPT_RT ``zone->lock`` is a sleeping lock too, so this design never disables IRQs there.
* PGALLOC/``zone_statistics()`` are basic per-CPU counters on every path (f19298b9516c); the bulk allocator
  counts them once per call (``nr_account``) after the unlock.
* ``pcp->high`` is ``zone_highsize()``: the zone's low watermark split over the zone's local CPUs, at least
  four batches; a free that reaches it drains ``nr_pcp_free()`` pages, doubling (``free_factor``) on each
  drain without an allocation in between, which ``rmqueue_pcplist()`` halves.
* ``PAGE_OWNER`` forces the bulk allocator to one page at a time (the pagesets.lock recursion fix, Jul 2021).

Model limit: an interrupt handler that allocates on a CPU whose task holds the RT lock would sleep and boost
the owner in the kernel; the model cannot preempt, so it reports a deadlock instead.
"""

from __future__ import annotations

from benchframe.api import ARRAY, BulkAllocator, Design, PcpOps, SpinLock, hookimpl
from benchframe.mm.page import PAGE_PCP
from benchframe.mm.symbols import at
from benchframe.mm.zone import WMARK_LOW

#: f19298b9516c's counters: inlined per-CPU adds, no call of their own
STATS_5_14 = at("zone_statistics")


class LocalLockPcp(PcpOps):
    name = "local_lock"

    def __init__(self, k):
        super().__init__(k)
        self.rt = k.config.preempt_rt
        self.locks = [SpinLock(f"pagesets.lock[cpu{c.id}]", k.machine) for c in k.machine.cpus]
        self.c_stats = k.prices.stats_5_14
        self.s_stats = STATS_5_14

    def lock(self, cpu, pcp=None):
        """``local_lock_irqsave(&pagesets.lock, flags)``."""
        if not self.rt:
            return cpu.local_irq_save()
        cpu.migrate_disable()
        self.locks[cpu.id].lock(cpu)
        return True

    def unlock(self, cpu, token, pcp=None) -> None:
        if not self.rt:
            cpu.local_irq_restore(token)
            return
        self.locks[cpu.id].unlock(cpu)
        cpu.migrate_enable()

    def pcp_high(self, zone, batch, local_cpus) -> int:
        """``zone_highsize()`` (5.14): ``low_wmark_pages(zone)`` over the zone's local CPUs, at least
        ``batch << 2``."""
        return max(zone.watermark[WMARK_LOW] // max(1, local_cpus), max(1, batch) << 2)

    def rmqueue_pcplist_prepare(self, pcp) -> None:
        pcp.free_factor >>= 1  # an allocation: the next drain starts from one batch again

    def free_commit(self, cpu, zone, page, mt) -> None:
        """``free_unref_page_commit()`` (5.14): add the page to this CPU's list; at ``high``, drain
        ``nr_pcp_free()`` pages: ``batch << free_factor`` clamped to [batch, high - batch], the factor growing
        while it fits."""
        k = self.k
        pcp = zone.pcp[cpu.id]
        k.mem.state[page] = PAGE_PCP
        k.mem.free_mt[page] = mt
        pcp.lists[mt].add_head(cpu, page, self.c_commit)
        pcp.count += 1
        if pcp.count >= pcp.high:
            batch, high = pcp.batch, pcp.high
            if high < batch:
                nr = 1
            else:
                nr = batch << pcp.free_factor
                if nr < high - batch:
                    pcp.free_factor += 1
                nr = max(batch, min(nr, high - batch))
            k.free_pcppages_bulk(cpu, zone, nr, pcp)


class LocalLock(BulkAllocator):
    shape = ARRAY
    pcp_ops = LocalLockPcp
    account_per_page = False
    page_owner_fallback = True


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="locallock",
        factory=LocalLock,
        description="5.14: local_lock pcp (local_irq_save, or an RT sleeping lock), stats once per call after "
                    "unlock, zone_highsize() and free_factor",
        models="dbbee9d5cd83 + 3e23060b2d0b + f19298b9516c (5.14)",
    )]
