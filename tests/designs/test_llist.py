"""The llist designs follow llist.h and the kernel's rules: frees go to the local list, ``pcp->count`` is a
``this_cpu`` counter, the safe consumer pays two atomics and a walk per call, the statistics are the per-CPU
event counters that may be updated with IRQs on."""

from __future__ import annotations

from benchframe.hw.topology import Topology
from benchframe.mm.page import GFP_ATOMIC
from benchframe.testing import make_kernel


def test_a_free_goes_to_the_local_list_not_the_allocating_cpus():
    for design in ("llist", "llist_del_first"):
        h = make_kernel(design, Topology.uma(cpus=2, normal_pages=16384))
        pages = h.caller(0).alloc(GFP_ATOMIC, 4)
        zone = h.kernel.zones[0]
        before = [zone.pcp[c].count for c in (0, 1)]
        h.caller(1).free(pages[0])
        assert zone.pcp[1].count == before[1] + 1 and zone.pcp[0].count == before[0], design
        assert pages[0] in set(zone.pcp[1].lists[0])
        assert h.kernel.stat.remote_frees == 1
        assert h.invariant_problems() == [] and not h.kernel.violations


def test_safe_llist_takes_with_two_atomics_per_call_and_walks_the_rest():
    h = make_kernel("llist", Topology.uma(cpus=1, normal_pages=65536))  # batch 15, high 90
    k = h.kernel
    caller = h.caller(0)
    cpu = h.cpus[0]
    pcp = k.zones[0].pcp[0]
    caller.free_pages(caller.alloc(GFP_ATOMIC, 60))

    def alloc2() -> int:
        atomics, clock = cpu.atomics, cpu.clock
        assert len(caller.alloc(GFP_ATOMIC, 2)) == 2
        assert cpu.atomics - atomics == 2  # llist_del_all's xchg + llist_add_batch's cmpxchg; no atomic count
        return cpu.clock - clock

    long_rest = pcp.count - 2
    long = alloc2()
    caller.alloc(GFP_ATOMIC, pcp.count - 4)
    short_rest = pcp.count - 2
    short = alloc2()
    assert long_rest - short_rest > 40
    # the walk to the remainder's last node: at least one node->next load per page put back
    assert long - short >= (long_rest - short_rest) * k.prices.llist_next
    assert h.invariant_problems() == []


def test_unsafe_llist_del_first_takes_one_atomic_per_page():
    h = make_kernel("llist_del_first")
    caller = h.caller(0)
    cpu = h.cpus[0]
    caller.free_pages(caller.alloc(GFP_ATOMIC, 40))
    atomics = cpu.atomics
    assert len(caller.alloc(GFP_ATOMIC, 8)) == 8
    assert cpu.atomics - atomics == 8


def test_llist_counters_follow_the_kernels_rules():
    """Nothing disables IRQs around the lists, so the statistics must be f19298b9516c's per-CPU event counters
    (5.13's zone_statistics() needs IRQs off), charged once per bulk call."""
    h = make_kernel("llist")
    k = h.kernel
    assert k.pcp_ops.c_stats == k.prices.stats_5_14 != k.prices.stats
    assert h.impl.account_per_page is False
    cpu = h.cpus[0]
    toggles = cpu.irq_toggles
    h.caller(0).free_pages(h.caller(0).alloc(GFP_ATOMIC, 8))
    # the only IRQs-off sections are zone->lock's spin_lock_irqsave (the refill)
    assert cpu.irq_toggles - toggles == k.stat.pcp_refills + k.stat.pcp_drains
