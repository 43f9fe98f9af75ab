"""What distinguishes each kernel after 5.13 (issue 28): high-order pages on the pcp lists (44042b449872), the
6.0 pcp spinlock taken with trylock and its buddy fallback, the 6.2 pcp with IRQs left enabled, the 6.14
array-only bulk API; and the designs that refuse a version they do not fit."""

from __future__ import annotations

import pytest

from benchframe import BenchframeError
from benchframe.hw.topology import PAGEBLOCK_ORDER, Topology
from benchframe.kconfig import KERNELS, KernelConfig, kernel_for_release
from benchframe.mm.page import PAGE_PCP
from benchframe.mm.pcp import NR_PCP_LISTS, order_to_pindex, pindex_to_order
from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one
from benchframe.workloads.context import Harness

GFP_KERNEL = 0  # the model's unmovable, may-sleep request (no flag bits it reads)


@pytest.fixture(scope="module")
def registry():
    return get_registry()


def harness(registry, kernel: str, design: str = "array", cpus: int = 1) -> Harness:
    rec, options = registry.design_spec(design)
    return Harness(rec, options, registry.cost_model(None), KernelConfig.parse([], kernel),
                   Topology.uma(cpus=cpus, normal_pages=65536), registry)


def test_pindex_keeps_order0_lists_where_5_13_had_them_and_thp_last():
    assert [order_to_pindex(mt, 0) for mt in range(3)] == [0, 1, 2]
    assert order_to_pindex(1, 3) == 10 and order_to_pindex(0, PAGEBLOCK_ORDER) == NR_PCP_LISTS - 1
    assert [pindex_to_order(order_to_pindex(2, o)) for o in (0, 1, 2, 3, PAGEBLOCK_ORDER)] == [0, 1, 2, 3, 9]


@pytest.mark.parametrize("kernel", ["5.13", "5.14"])
def test_order3_comes_from_the_pcp_once_high_order_lists_exist(registry, kernel):
    h = harness(registry, kernel)
    k, caller = h.kernel, h.caller(0)
    page = caller.alloc_pages(GFP_KERNEL, 3)
    assert page is not None
    pcp = k.zones[-1].pcp[0]
    if kernel == "5.13":
        assert len(pcp.lists) == 3 and k.stat.pcp_refills == 0 and pcp.count == 0  # the buddy lists directly
    else:
        # one refill of max(batch >> 3, 2) order-3 blocks, the rest kept on the order-3 list (pages counted)
        refill = max(pcp.batch >> 3, 2)
        assert len(pcp.lists) == NR_PCP_LISTS and k.stat.pcp_refills == 1
        assert len(pcp.lists[order_to_pindex(0, 3)]) == refill - 1 and pcp.count == (refill - 1) << 3
    caller.free_pages_order(page, 3)
    if kernel == "5.14":
        assert k.mem.state[page] == PAGE_PCP and pcp.count == refill << 3  # freed back onto the pcp
    assert not h.invariant_problems()


def test_thp_lives_on_its_own_pcp_list_on_5_14(registry):
    h = harness(registry, "5.14")
    caller = h.caller(0)
    page = caller.alloc_pages(GFP_KERNEL, PAGEBLOCK_ORDER)
    caller.free_pages_order(page, PAGEBLOCK_ORDER)
    pcp = h.kernel.zones[-1].pcp[0]
    # a THP counts 512 pages against pcp->high: freeing it drains the pcp (the commit's caveat)
    assert h.kernel.stat.pcp_drains >= 1 or page in pcp.lists[NR_PCP_LISTS - 1]
    assert not h.invariant_problems()


@pytest.mark.parametrize("kernel", ["6.0", "6.2", "6.14"])
def test_a_failed_pcp_trylock_takes_the_buddy_lists(registry, kernel):
    h = harness(registry, kernel, cpus=2)
    k = h.kernel
    cpu0, cpu1 = h.cpus
    pcp = k.zones[-1].pcp[0]
    pcp.lock.lock(cpu1)  # CPU1 holds CPU0's pcp, as a remote drain does (443c2accd1b6)
    caller = h.caller(0)
    page = caller.alloc_page(GFP_KERNEL)
    assert page is not None and k.stat.pcp_bypassed == 1 and pcp.count == 0  # rmqueue_buddy(), not the pcp
    got = caller.alloc(GFP_KERNEL, 8)  # the bulk allocator: goto failed_irq, one page from the buddy lists
    assert len(got) == 1 and k.stat.fallbacks == 1
    caller.free(page)  # the free: free_one_page() straight to the buddy lists
    # bypassed: the single page, the bulk call's fallback page, the free (the bulk call counts as a fallback)
    assert k.stat.pcp_bypassed == 3 and pcp.count == 0
    pcp.lock.unlock(cpu1)
    assert len(caller.alloc(GFP_KERNEL, 8)) == 8 and pcp.count > 0
    assert not h.invariant_problems(), h.invariant_problems()


def test_remote_drain_needs_the_6_0_pcp_spinlock(registry):
    h = harness(registry, "6.0", cpus=2)
    caller = h.caller(0)
    caller.alloc(GFP_KERNEL, 8)
    zone = h.kernel.zones[-1]
    assert zone.pcp[0].count > 0
    h.kernel.drain_pages_zone(h.cpus[1], zone, 0)
    assert zone.pcp[0].count == 0 and zone.pcp[0].lock.acquisitions >= 2
    old = harness(registry, "5.14", cpus=2)
    with pytest.raises(BenchframeError, match="remote pcp drain needs the 6.0 pcp spinlock"):
        old.kernel.drain_pages_zone(old.cpus[1], old.kernel.zones[-1], 0)


@pytest.mark.parametrize("kernel,irqs_on", [("5.13", False), ("5.14", False), ("6.0", False), ("6.2", True),
                                            ("6.14", True)])
def test_irqs_stay_on_around_the_pcp_from_6_2(registry, kernel, irqs_on):
    h = harness(registry, kernel)
    cpu = h.cpus[0]
    seen = []
    ops = h.kernel.pcp_ops
    take = ops.rmqueue_pcplist

    def spy(*args):
        seen.append(cpu.irqs_on)
        return take(*args)

    ops.rmqueue_pcplist = spy
    # 5.13's fused loop (benchframe.mm.fast) inlines rmqueue_pcplist, so a spy on the instance needs the slow path
    h.kernel.unfuse()
    h.caller(0).alloc(GFP_KERNEL, 4)
    assert seen and all(s == irqs_on for s in seen)


def test_the_6_2_pcp_refill_disables_irqs_under_zone_lock_only(registry):
    run = run_one(RunSpec(design="array", workload="page_bench04", kernel="6.2",
                          params={"bulk": 64, "pages": 4096, "warmup": 0}), registry)
    base = run_one(RunSpec(design="array", workload="page_bench04", kernel="6.0",
                           params={"bulk": 64, "pages": 4096, "warmup": 0}), registry)
    assert 0 < run.metrics["irqs_off_max_cycles"] < base.metrics["irqs_off_max_cycles"]
    assert run.metrics["invariant_violations"] == 0 == base.metrics["invariant_violations"]


def test_6_14_refills_grow_with_alloc_factor(registry):
    h = harness(registry, "6.14")
    caller = h.caller(0)
    held = [caller.alloc(GFP_KERNEL, 64) for _ in range(8)]
    pcp = h.kernel.zones[-1].pcp[0]
    assert pcp.alloc_factor > 0  # consecutive refills without a free: nr_pcp_alloc() doubled the batch
    grown = h.kernel.stat.pcp_refills
    h2 = harness(registry, "6.2")
    for _ in range(8):
        h2.caller(0).alloc(GFP_KERNEL, 64)
    assert grown < h2.kernel.stat.pcp_refills
    caller.free_pages([p for pages in held for p in pages])
    assert pcp.alloc_factor == 0 and not h.invariant_problems()


@pytest.mark.parametrize("design,kernel,why", [
    ("list", "6.14", "no alloc_pages_bulk_list"), ("twopass", "6.14", "no alloc_pages_bulk_list"),
    ("llist", "5.14", "order-0 pages only"), ("locallock", "6.0", "applies to kernel"),
    ("preempt", "6.2", "applies to kernel")])
def test_designs_refuse_a_kernel_they_do_not_fit_in_one_line(registry, design, kernel, why):
    with pytest.raises(BenchframeError, match=why) as exc:
        run_one(RunSpec(design=design, workload="page_bench04", kernel=kernel, params={"pages": 256}), registry)
    assert "\n" not in str(exc.value)


def test_a_capture_replays_on_the_newest_version_not_newer_than_its_release():
    assert kernel_for_release("6.18.0-rc3").name == "6.14"
    assert kernel_for_release("6.1.55").name == "6.0" and kernel_for_release("5.15").name == "5.14"
    with pytest.raises(BenchframeError, match="older than every modelled release"):
        kernel_for_release("4.19")
    assert all(v.source for v in KERNELS.values())


@pytest.mark.parametrize("kernel,one_at_a_time", [("5.13", False), ("6.2", True)])
def test_page_owner_sends_the_bulk_allocator_one_page_at_a_time_from_5_14(registry, kernel, one_at_a_time):
    run = run_one(RunSpec(design="array", workload="page_bench04", kernel=kernel, config=("PAGE_OWNER",),
                          params={"bulk": 16, "pages": 256}), registry)
    assert (run.metrics["fallbacks"] > 0) is one_at_a_time
