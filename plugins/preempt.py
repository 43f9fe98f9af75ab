"""``preempt``: the per-CPU lists protected by ``preempt_disable()`` instead of ``local_irq_save()``, with
IRQ-context callers bypassing them -- "mm, page_alloc: only use per-cpu allocator for irq-safe requests"
(374ad05ab64d, Mel Gorman, Jan 2017), merged for 4.11-rc and reverted after a netperf regression (kernel-facts
§0, §2.4, §3.3). It was the base of the January 2017 bulk allocator prototype: with ``--kernel 4.10-prototype``
this design is that prototype (list API, statistics once per call, no one-page fallback, free_pages_bulk),
the kernel the 2017 page_bench04 curve was measured on.

* task and softirq context: ``preempt_disable()`` around the pcp (11 cycles on the i7-4790K against 38 for
  ``local_irq_save/restore``);
* softirq, hardirq and NMI context (``in_interrupt()``): the pcp is not used; allocations take the buddy lists
  under ``zone->lock`` (``rmqueue_buddy()``), frees ``free_one_page()`` -- "This modification may slow
  allocations from IRQ context slightly"; network receive runs in softirq, hence the netperf TCP_STREAM
  regression ("8x netperf", 60316 -> 47491 Mbit/s on 4.11-rc6) and the revert.

"""

from __future__ import annotations

from benchframe.api import LIST, BulkAllocator, Design, PcpOps, hookimpl


class PreemptPcp(PcpOps):
    """``preempt_disable()`` around the pcp for !IRQ callers; IRQ callers bypass it."""

    name = "preempt"
    fallthrough_to_buddy = True  # an IRQ caller's allocation goes straight to the buddy lists

    def lock(self, cpu, pcp=None):
        cpu.charge(self.k.prices.in_interrupt)
        if cpu.in_interrupt():  # softirq too: the netperf regression that got it reverted (kernel-facts §3.3)
            return None
        cpu.preempt_disable()
        return True

    def unlock(self, cpu, token, pcp=None) -> None:
        cpu.preempt_enable()


class Preempt(BulkAllocator):
    shape = LIST
    pcp_ops = PreemptPcp
    kernels = ("4.10-prototype", "5.12-v4", "5.13")
    kernels_why = "374ad05ab64d was reverted in 4.11; later kernels moved to local_lock and the pcp spinlock"


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="preempt",
        factory=Preempt,
        description="4.11-rc (reverted): pcp under preempt_disable, IRQ callers bypass it; with --kernel "
                    "4.10-prototype the Jan 2017 bulk allocator prototype",
        models="374ad05ab64d (4.11-rc, reverted) + the Jan 2017 bulk allocator prototype",
    )]
