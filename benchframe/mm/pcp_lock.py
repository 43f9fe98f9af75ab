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
from benchframe.mm.page import PAGE_PCP
from benchframe.mm.pcp import PcpOps, order_to_pindex
from benchframe.mm.symbols import at, ksym
from benchframe.mm.zone import WMARK_LOW

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.kconfig import KernelVersion
    from benchframe.mm.page_alloc import Kernel
    from benchframe.mm.pcp import PerCpuPages
    from benchframe.mm.zone import Zone

#: f19298b9516c's counters: inlined per-CPU adds, no call of their own
STATS_5_14 = at("zone_statistics")
#: CONFIG_PCP_BATCH_SCALE_MAX's default: the cap of ``pcp->alloc_factor`` (mm/Kconfig, ~6.7; kernel-facts §1.2
#: names the cap, the default 5 is read from the Kconfig entry)
PCP_BATCH_SCALE_MAX = 5


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
        ``batch << 2``."""
        return max(zone.watermark[WMARK_LOW] // max(1, local_cpus), max(1, batch) << 2)

    def rmqueue_pcplist_prepare(self, pcp: PerCpuPages) -> None:
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
        """``free_unref_page_commit()`` (5.14): add the page (a block of ``order`` on its order's list) to this
        CPU's pcp; at ``high``, drain ``nr_pcp_free()`` pages. With ``nr_pcp_alloc()`` (~6.7) a free halves
        ``pcp->alloc_factor``."""
        k = self.k
        pcp = zone.pcp[cpu.id]
        if self.alloc_factor:
            pcp.alloc_factor >>= 1
        k.mem.state[page] = PAGE_PCP
        k.mem.free_mt[page] = mt
        pcp.lists[order_to_pindex(mt, order)].add_head(cpu, page, self.c_commit)
        pcp.count += 1 << order
        if pcp.count >= pcp.high:
            k.free_pcppages_bulk(cpu, zone, self.free_high(pcp), pcp)


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
        """``nr_pcp_alloc()`` (~6.7, kernel-facts §1.2) where the version has it: an order-0 refill of
        ``batch << alloc_factor``, capped by ``high - count - batch`` (at least one batch), the factor growing
        on each refill that fits up to ``PCP_BATCH_SCALE_MAX``; then ``max(batch >> order, 2)``."""
        if not self.alloc_factor:
            return super().refill_batch(zone, pcp, order)
        base = pcp.batch
        if pcp.high < base:
            return 1
        batch = base if order else base << pcp.alloc_factor
        if not order:
            most = max(pcp.high - pcp.count - base, base)
            if batch <= most and pcp.alloc_factor < PCP_BATCH_SCALE_MAX:
                pcp.alloc_factor += 1
            batch = min(batch, most)
        if batch > 1:
            batch = max(batch >> order, 2)
        return batch

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
