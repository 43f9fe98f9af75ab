"""``locallock``: the 5.14 conversion of the per-CPU lists to ``local_lock`` (dbbee9d5cd83) with the bulk
allocator's statistics batched (3e23060b2d0b).

The pcp is protected by ``local_lock_irqsave(&pagesets.lock, flags)``: on a normal kernel exactly
``local_irq_save()``; with ``PREEMPT_RT`` a per-CPU sleeping spinlock taken with migration disabled and IRQs
left enabled. ``PGALLOC``/``zone_statistics`` are counted once per call (``nr_account``) and applied after the
unlock. On PREEMPT_RT ``zone->lock`` is a sleeping lock too, so this design never disables IRQs there.

Model limit: an interrupt handler that allocates on a CPU whose task holds the RT lock would sleep and boost
the owner in the kernel; the model cannot preempt, so it reports a deadlock instead.
"""

from __future__ import annotations

from benchframe import hookimpl
from benchframe.api import ARRAY, BulkAllocator, Design
from benchframe.hw.locks import SpinLock
from benchframe.mm.pcp import PcpOps


class LocalLockPcp(PcpOps):
    name = "local_lock"

    def __init__(self, k):
        super().__init__(k)
        self.rt = k.config.preempt_rt
        self.locks = [SpinLock(f"pagesets.lock[cpu{c.id}]", k.machine) for c in k.machine.cpus]

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


class LocalLock(BulkAllocator):
    shape = ARRAY
    pcp_ops = LocalLockPcp
    account_per_page = False


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="locallock",
        factory=LocalLock,
        description="5.14 local_lock pcp: local_irq_save, or an RT sleeping lock; stats batched after unlock",
        models="dbbee9d5cd83 + 3e23060b2d0b (5.14)",
    )]
