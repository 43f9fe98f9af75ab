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

The protocol is the 5.14 kernel's own (``benchframe.mm.pcp_lock.LocalLockPcp``, what ``--kernel 5.14`` runs
every kernel-pcp design on); this design applies it to an older kernel (5.13) as the patch series did.

Model limit: an interrupt handler that allocates on a CPU whose task holds the RT lock would sleep and boost
the owner in the kernel; the model cannot preempt, so it reports a deadlock instead.
"""

from __future__ import annotations

from benchframe.api import ARRAY, BulkAllocator, Design, LocalLockPcp, hookimpl


class LocalLock(BulkAllocator):
    shape = ARRAY
    pcp_ops = LocalLockPcp
    account_per_page = False
    page_owner_fallback = True
    kernels = ("4.10-prototype", "5.12-v4", "5.13", "5.14")
    kernels_why = "6.0 replaced the local_lock pcp by the pcp spinlock, 01b44456a7aa; --kernel 5.14 runs it"


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="locallock",
        factory=LocalLock,
        description="5.14: local_lock pcp (local_irq_save, or an RT sleeping lock), stats once per call after "
                    "unlock, zone_highsize() and free_factor",
        models="dbbee9d5cd83 + 3e23060b2d0b + f19298b9516c (5.14)",
    )]
