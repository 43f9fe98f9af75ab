"""``pcpspin``: the per-CPU page lists protected by a spinlock, IRQs left enabled (6.0 + 6.2).

6.0 ("Drain remote per-cpu directly", 4b23a68f9536 / 01b44456a7aa) put a ``spinlock_t`` in ``struct
per_cpu_pages``; 6.2 (5749077415994, "leave IRQs enabled for per-cpu page allocations") stopped disabling IRQs
around it: ``pcp = pcp_spin_trylock(zone->per_cpu_pageset)``, which pins the task (``preempt_disable()`` on
!PREEMPT_RT, ``migrate_disable()`` on RT) and *try*-locks the pcp. If the lock is held — an interrupt arrived
while this CPU was in the middle of a pcp operation — the allocation falls through to the buddy lists
(``rmqueue_buddy()``) and the free to ``free_one_page()``; the bulk allocator goes to its single-page path.
``zone->lock`` is taken with ``spin_lock_irqsave()`` during refills and drains (benchframe's ``Kernel.zone_lock``
does that whenever IRQs are still enabled).

Everything else is the 5.13 bulk allocator building block with the array interface.
"""

from __future__ import annotations

from benchframe.api import ARRAY, BulkAllocator, Design, PcpOps, SpinLock, hookimpl


class PcpSpinOps(PcpOps):
    """``pcp_spin_trylock()`` / ``pcp_spin_unlock()`` (6.2)."""

    name = "pcp_spin_trylock"
    fallthrough_to_buddy = True  # 6.0+ rmqueue(): a failed pcp attempt tries rmqueue_buddy()

    def __init__(self, k):
        super().__init__(k)
        self.rt = k.config.preempt_rt
        self.locks: dict[tuple[int, int, int], SpinLock] = {}

    def _lock_of(self, cpu, pcp) -> SpinLock:
        key = (pcp.zone.node, pcp.zone.zone_idx, pcp.cpu)
        lock = self.locks.get(key)
        if lock is None:
            lock = self.locks[key] = SpinLock(f"pcp->lock[cpu{pcp.cpu}][{pcp.zone.name}]", self.k.machine)
        return lock

    def _pin(self, cpu) -> None:
        """``pcpu_task_pin()``: preempt_disable() on !RT ("faster than migrate_disable"), migrate_disable() on RT."""
        if self.rt:
            cpu.migrate_disable()
        else:
            cpu.preempt_disable()

    def _unpin(self, cpu) -> None:
        if self.rt:
            cpu.migrate_enable()
        else:
            cpu.preempt_enable()

    def lock(self, cpu, pcp=None):
        self._pin(cpu)
        if not self._lock_of(cpu, pcp).trylock(cpu):
            self._unpin(cpu)
            return None
        return True

    def unlock(self, cpu, token, pcp=None) -> None:
        self._lock_of(cpu, pcp).unlock(cpu)
        self._unpin(cpu)


class PcpSpin(BulkAllocator):
    shape = ARRAY
    pcp_ops = PcpSpinOps
    account_per_page = False  # 6.x counts nr_account once, after the unlock


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="pcpspin",
        factory=PcpSpin,
        description="6.0/6.2 pcp spinlock: pcp_spin_trylock with IRQs enabled, trylock failure -> buddy path",
        models="4b23a68f9536 + 01b44456a7aa (6.0), 5749077415994 (6.2)",
    )]
