"""How the kernels after 5.13 protect the per-CPU lists: the ``PcpOps`` of 5.14 (``local_lock``), 6.0 (the pcp
spinlock taken with ``pcp_spin_trylock_irqsave()``) and 6.2 (``pcp_spin_trylock()`` with IRQs left enabled).

A kernel version names its scheme (``KernelVersion.pcp_lock``); a design that keeps the kernel's pcp (``array``,
``list``, ``single``, ``twopass``) runs on the version's scheme (``version_pcp_ops``), a design that changes it
brings its own ``PcpOps``. Sources: kernel-facts §3.1 (local_lock), §3.3 (spinlock, trylock, remote drains,
5749077415994), §1.3 (the bulk allocator's ``goto failed_irq`` on a failed trylock), §3.4 (high-order lists).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.hw.locks import SpinLock
from benchframe.mm.pcp import PAGE_ALLOC_COSTLY_ORDER, PcpOps
from benchframe.mm.pcp_high import (
    MIN_PERCPU_PAGELIST_HIGH_FRACTION,
    PCP_BATCH_SCALE_MAX,
    PCPF_FREE_HIGH_BATCH,
    PCPF_PREV_FREE_HIGH_ORDER,
    nr_pcp_alloc,
    nr_pcp_free,
    nr_pcp_high,
    zone_highsize,
)
from benchframe.mm.symbols import at, ksym
from benchframe.mm.zone import WMARK_HIGH, ZONE_BELOW_HIGH

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.kconfig import KernelVersion
    from benchframe.mm.page_alloc import Kernel
    from benchframe.mm.pcp import PerCpuPages
    from benchframe.mm.zone import Zone

#: f19298b9516c's counters: inlined per-CPU adds, no call of their own
STATS_5_14 = at("zone_statistics")


class LocalLockPcp(PcpOps):
    """5.14: ``local_lock_irqsave(&pagesets.lock, flags)`` (dbbee9d5cd83); on PREEMPT_RT a per-CPU sleeping
    spinlock taken with migration disabled. ``pcp->high`` is ``zone_highsize()``, the drain ``nr_pcp_free()``."""

    name = "local_lock"

    def __init__(self, k: Kernel):
        super().__init__(k)
        self.rt = k.config.preempt_rt
        self.locks = [SpinLock(f"pagesets.lock[cpu{c.id}]", k.machine) for c in k.machine.cpus]
        self.c_stats = k.prices.stats_5_14
        self.s_stats = STATS_5_14
        self.alloc_factor = k.config.version.pcp_alloc_factor
        self.autotune = k.config.version.pcp_high_autotune

    def lock(self, cpu: CPU, pcp: PerCpuPages | None = None) -> Any:
        """``local_lock_irqsave(&pagesets.lock, flags)``."""
        if not self.rt:
            return cpu.local_irq_save()
        cpu.migrate_disable()
        self.locks[cpu.id].lock(cpu)
        return True

    def unlock(self, cpu: CPU, token: Any, pcp: PerCpuPages | None = None) -> None:
        if not self.rt:
            cpu.local_irq_restore(token)
            return
        self.locks[cpu.id].unlock(cpu)
        cpu.migrate_enable()

    def pcp_high(self, zone: Zone, batch: int, local_cpus: int) -> int:
        """``zone_highsize()`` (5.14): ``low_wmark_pages(zone)`` over the zone's local CPUs, at least
        ``batch << 2``; with auto-tuning (6.7+) that is ``high_min``."""
        return zone_highsize(zone, batch, local_cpus)

    def pcp_high_max(self, zone: Zone, batch: int, local_cpus: int) -> int:
        """``zone_set_pageset_high_and_batch()`` (mm/page_alloc.c (6.7+), derived from the code): with
        ``percpu_pagelist_high_fraction`` 0 (the default), ``high_max`` is ``zone_highsize()`` of
        ``MIN_PERCPU_PAGELIST_HIGH_FRACTION``; before 6.7 ``high`` is fixed."""
        if not self.autotune:
            return self.pcp_high(zone, batch, local_cpus)
        return zone_highsize(zone, batch, local_cpus, MIN_PERCPU_PAGELIST_HIGH_FRACTION)

    def rmqueue_pcplist_prepare(self, pcp: PerCpuPages) -> None:
        """``rmqueue_pcplist()``: an allocation halves what the next drain frees (5.14's ``free_factor``, 6.7's
        ``free_count``)."""
        if self.autotune:
            pcp.free_count >>= 1
        else:
            pcp.free_factor >>= 1  # an allocation: the next drain starts from one batch again

    def free_high(self, pcp: PerCpuPages) -> int:
        """``nr_pcp_free()`` (5.14): ``batch << free_factor`` clamped to [batch, high - batch], the factor
        growing while it fits."""
        batch, high = pcp.batch, pcp.high
        if high < batch:
            return 1
        nr = batch << pcp.free_factor
        if nr < high - batch:
            pcp.free_factor += 1
        return max(batch, min(nr, high - batch))

    @ksym("free_unref_page_commit")
    def free_commit(self, cpu: CPU, zone: Zone, page: int, mt: int) -> None:
        self._commit(cpu, zone, page, mt, 0)

    @ksym("free_unref_page_commit")
    def free_commit_order(self, cpu: CPU, zone: Zone, page: int, mt: int, order: int) -> None:
        self._commit(cpu, zone, page, mt, order)

    def _commit(self, cpu: CPU, zone: Zone, page: int, mt: int, order: int) -> None:
        """``free_unref_page_commit()`` (5.14): ``PcpOps.free_commit_order()`` (the page on its order's list),
        its drain ``nr_pcp_free()`` (``commit_high``); with ``nr_pcp_alloc()`` (~6.7) a free first halves
        ``pcp->alloc_factor``. (Not through ``self.free_commit_order``: that would push its frame twice.)"""
        if self.alloc_factor:
            zone.pcp[cpu.id].alloc_factor >>= 1
        super().free_commit_order(cpu, zone, page, mt, order)

    def commit_high(self, cpu: CPU, zone: Zone, pcp: PerCpuPages, order: int) -> None:
        """The end of ``free_unref_page_commit()``: 5.14's drain at ``high``. With auto-tuning (mm/page_alloc.c
        (6.7+), derived from the code): detect high-order frees in a row (``free_high``; PCPF_FREE_HIGH_BATCH is
        never set here), count the page in ``free_count``, let ``nr_pcp_high()`` tune ``pcp->high`` and drain
        ``nr_pcp_free()`` pages at it; a drain that brings the zone back over its high watermark clears
        ZONE_BELOW_HIGH (kswapd, which also clears it, is not modelled)."""
        if not self.autotune:
            super().commit_high(cpu, zone, pcp, order)
            return
        batch = pcp.batch
        free_high = False
        if order and order <= PAGE_ALLOC_COSTLY_ORDER:
            free_high = (pcp.free_count >= batch and bool(pcp.flags & PCPF_PREV_FREE_HIGH_ORDER)
                         and (not pcp.flags & PCPF_FREE_HIGH_BATCH or pcp.count >= batch))
            pcp.flags |= PCPF_PREV_FREE_HIGH_ORDER
        elif pcp.flags & PCPF_PREV_FREE_HIGH_ORDER:
            pcp.flags &= ~PCPF_PREV_FREE_HIGH_ORDER
        if pcp.free_count < batch << PCP_BATCH_SCALE_MAX:
            pcp.free_count += 1 << order
        high = nr_pcp_high(pcp, zone, batch, free_high)
        if pcp.count >= high:
            self.k.free_pcppages_bulk(cpu, zone, nr_pcp_free(pcp, batch, high, free_high), pcp)
            if zone.flags & ZONE_BELOW_HIGH and zone.zone_watermark_ok(0, zone.watermark[WMARK_HIGH], 0):
                zone.flags &= ~ZONE_BELOW_HIGH


class PcpSpinLock(LocalLockPcp):
    """6.0: the pcp's own ``spinlock_t`` (4b23a68f9536, 01b44456a7aa): ``pcp_spin_trylock_irqsave()`` =
    ``pcpu_task_pin()`` (preempt_disable; migrate_disable on RT), ``local_irq_save()``, ``spin_trylock()``. A
    failed trylock (another CPU draining this pcp remotely, 443c2accd1b6) returns NULL: the allocation falls
    through to the buddy lists (``rmqueue_buddy()``), the free goes to ``free_one_page()``, the bulk allocator
    takes ``failed_irq`` (kernel-facts §1.3, §3.3). With ``irqs_on`` (6.2, 5749077415994) the lock is taken
    with ``pcp_spin_trylock()``: no IRQ disabling, so an interrupt that allocates or frees while its CPU holds
    the pcp fails the trylock and takes the buddy lists."""

    name = "pcp_spin_trylock_irqsave"
    fallthrough_to_buddy = True  # 6.0 rmqueue(): "if (likely(page)) goto out;" else rmqueue_buddy()

    def __init__(self, k: Kernel):
        super().__init__(k)
        self.irqs_on = k.config.version.pcp_irqs_on

    def init_pcp(self, pcp: PerCpuPages) -> None:
        pcp.lock = SpinLock(f"pcp->lock[{pcp.zone.name}][cpu{pcp.cpu}]", self.k.machine)

    def lock(self, cpu: CPU, pcp: PerCpuPages | None = None) -> Any:
        """``pcp_trylock_prepare()`` (a no-op on SMP) and ``pcp_spin_trylock[_irqsave]()``; ``None`` when the
        trylock failed. The token is the saved IRQ state (``None`` inside: nothing was saved)."""
        assert pcp is not None, "the pcp spinlock lives in struct per_cpu_pages"
        if self.rt:
            cpu.migrate_disable()  # pcpu_task_pin() on PREEMPT_RT; spinlock_t sleeps, IRQs stay on
        else:
            cpu.preempt_disable()  # pcpu_task_pin(): "faster than migrate_disable"
        flags = None if self.irqs_on or self.rt else cpu.local_irq_save()
        if pcp.lock.trylock(cpu):
            return (flags,)
        if flags is not None:
            cpu.local_irq_restore(flags)
        self._unpin(cpu)
        return None

    def _unpin(self, cpu: CPU) -> None:
        if self.rt:
            cpu.migrate_enable()
        else:
            cpu.preempt_enable()

    def unlock(self, cpu: CPU, token: Any, pcp: PerCpuPages | None = None) -> None:
        """``pcp_spin_unlock[_irqrestore]()`` and ``pcp_trylock_finish()``."""
        assert pcp is not None
        pcp.lock.unlock(cpu)
        if token[0] is not None:
            cpu.local_irq_restore(token[0])
        self._unpin(cpu)

    def refill_batch(self, zone: Zone, pcp: PerCpuPages, order: int) -> int:
        """``nr_pcp_alloc()`` (~6.7, kernel-facts §1.2; ``benchframe.mm.pcp_high``) where the version has it: the
        refill grows with ``alloc_factor`` and, where ``pcp->high`` is auto-tuned, raises it."""
        if not self.alloc_factor:
            return super().refill_batch(zone, pcp, order)
        return nr_pcp_alloc(pcp, zone, order)

    def rmqueue_pcplist(self, cpu: CPU, zone: Zone, mt: int, alloc_flags: int, pcp: PerCpuPages) -> int | None:
        """``__rmqueue_pcplist()`` of an order-0 page: the order-aware one, whose refill is ``nr_pcp_alloc()``."""
        if not self.alloc_factor:
            return super().rmqueue_pcplist(cpu, zone, mt, alloc_flags, pcp)
        return self.rmqueue_pcplist_order(cpu, zone, 0, mt, alloc_flags, pcp)

    def drain_remote(self, cpu: CPU, zone: Zone, pcp: PerCpuPages) -> None:
        """``drain_pages_zone()`` run by ``cpu`` on another CPU's pcp (443c2accd1b6, 6.0): under that pcp's
        spinlock (``spin_lock_irqsave``; no IRQs off on RT), every page back to the buddy lists."""
        flags = None if self.rt else cpu.local_irq_save()
        pcp.lock.lock(cpu)
        self.k.free_pcppages_bulk(cpu, zone, pcp.count, pcp)
        pcp.lock.unlock(cpu)
        if flags is not None:
            cpu.local_irq_restore(flags)


PCP_OPS: dict[str, type[PcpOps]] = {
    "irqsave": PcpOps,
    "local_lock": LocalLockPcp,
    "spin_irqsave": PcpSpinLock,
    "spin": PcpSpinLock,
}


def version_pcp_ops(version: KernelVersion) -> type[PcpOps]:
    """The pcp protection scheme of ``version`` (``KernelVersion.pcp_lock``)."""
    try:
        return PCP_OPS[version.pcp_lock]
    except KeyError:
        raise BenchframeError(f"kernel {version.name}: unknown pcp_lock {version.pcp_lock!r}; known: "
                              f"{', '.join(PCP_OPS)}") from None


__all__ = ["LocalLockPcp", "PcpSpinLock", "PCP_OPS", "STATS_5_14", "version_pcp_ops"]
