"""The costs issue #20 asks to come from their mechanisms: dependent list chains, KASAN's instrumentation, the
2021 free_pages_bulk(), the callers as they ran."""

from __future__ import annotations

import pytest

from benchframe.kconfig import KernelConfig
from benchframe.mm import work as w
from benchframe.mm.prices import Prices
from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one


@pytest.fixture(scope="module")
def registry():
    return get_registry()


def test_a_dependent_chain_costs_its_load_to_use_latency_an_array_walk_overlaps(registry):
    costs = registry.cost_model("e5-1650v4")
    prices = Prices(costs, KernelConfig.parse([]))
    n = 64
    chain = prices(w.LIST_NEXT) * n  # list_for_each: each step waits for the line before
    walk = prices(w.Work(page=1)) * n  # an array walk: independent loads
    assert prices(w.LIST_NEXT) == costs.l1_hit
    assert chain > 3 * walk
    # list_add() onto a caller's list and __rmqueue_pcplist() wait on their chains wherever they run
    assert prices.list_add >= costs.l1_hit and prices.take >= 2 * costs.l1_hit
    # and the cache: misses of a dependent walk add up, an array's overlap in the fill buffers
    from benchframe.hw.topology import Topology
    from benchframe.workloads.context import Harness

    design, options = registry.design_spec("array")
    h = Harness(design, options, costs, KernelConfig.parse([]), Topology.uma(cpus=1, normal_pages=4096), registry)
    cold = list(range(1024, 1024 + 64))  # never touched since boot: in DRAM
    dependent = h.kernel.cache.walk(h.cpus[0], cold, dependent=True)
    h2 = Harness(design, options, costs, KernelConfig.parse([]), Topology.uma(cpus=1, normal_pages=4096), registry)
    overlapped = h2.kernel.cache.walk(h2.cpus[0], cold, dependent=False)
    assert dependent == 64 * (costs.dram_local - costs.l1_hit)
    assert overlapped * costs.fill_buffers == pytest.approx(dependent, abs=costs.fill_buffers)


def test_twopass_s_second_pass_walks_the_list_it_built(registry):
    plain = run_one(RunSpec(design="list", workload="page_bench04", params={"bulk": 64, "pages": 2048}), registry)
    two = run_one(RunSpec(design="twopass", workload="page_bench04", params={"bulk": 64, "pages": 2048}), registry)
    l1 = registry.cost_model(None).l1_hit
    assert two.metrics["alloc_cycles_per_page"] - plain.metrics["alloc_cycles_per_page"] >= l1


def _kasan_extra(registry, bulk: int) -> float:
    """KASAN's extra cycles per bulk call of ``array`` at ``bulk`` pages (alloc and free)."""
    params = {"bulk": bulk, "pages": 64 * 16}
    plain = run_one(RunSpec(design="array", workload="page_bench04", params=params), registry)
    kasan = run_one(RunSpec(design="array", workload="page_bench04", params=params, config=("KASAN",)), registry)
    per_page = kasan.metrics["alloc_free_cycles_per_page"] - plain.metrics["alloc_free_cycles_per_page"]
    return per_page * bulk


def test_kasan_s_per_call_term_does_not_scale_with_pages(registry):
    e8, e16, e64 = (_kasan_extra(registry, b) for b in (8, 16, 64))
    per_page = (e64 - e16) / 48
    per_call = e64 - 64 * per_page
    assert per_call > 0, "the bulk call's own instrumented accesses and stack redzones, once per call"
    assert e16 - e8 == pytest.approx(8 * per_page, rel=0.02)  # linear in the pages: the rest is per call
    prices = Prices(registry.cost_model(None), KernelConfig.parse(["KASAN"]))
    plain = Prices(registry.cost_model(None), KernelConfig.parse([]))
    assert prices.bulk_call - plain.bulk_call > 0  # the call's stack object and accesses
    assert prices.kasan_page > 0 and plain.kasan_page == 0
    # the per-CPU asm counters are not instrumented: only the C-level accesses pay
    assert prices(w.Work(percpu=5)) == plain(w.Work(percpu=5))
    assert prices(w.Work(regs=5)) == plain(w.Work(regs=5))
    assert prices(w.Work(data=5)) > plain(w.Work(data=5))


def test_the_2021_free_pages_bulk_refills_through_rmqueue_bulk_each_call(registry):
    calls = 32
    run = run_one(RunSpec(design="list", workload="page_bench04", kernel="5.12-v4",
                          params={"bulk": 64, "pages": 64 * calls, "test": "list", "free": "bulk_2021"}), registry)
    assert run.metrics["invariant_violations"] == 0
    assert run.metrics["pcp_refills"] >= calls  # the pcp never gets the pages back: every call refills it
    assert run.metrics["pcp_drains"] == 0
    loop = run_one(RunSpec(design="list", workload="page_bench04",
                           params={"bulk": 64, "pages": 64 * calls, "test": "list"}), registry)
    assert loop.metrics["pcp_refills"] == 0  # today's loop frees to the pcp: the next call finds them there


def test_a_free_the_kernel_does_not_have_is_refused(registry):
    from benchframe import BenchframeError

    with pytest.raises(BenchframeError, match="free=bulk_2021 needs the kernel"):
        run_one(RunSpec(design="list", workload="page_bench04", params={"free": "bulk_2021", "test": "list"}),
                registry)


def test_v4_refuses_a_non_empty_list_and_twopass_runs_as_posted(registry):
    from benchframe.hw.topology import Topology
    from benchframe.mm.bulk import LIST
    from benchframe.workloads.context import Harness

    design, options = registry.design_spec("twopass")
    h = Harness(design, options, registry.cost_model(None), KernelConfig.parse([], "5.12-v4"),
                Topology.uma(cpus=1, normal_pages=4096), registry)
    caller = h.caller(0)
    lst: list[int] = []
    assert caller.alloc_list(0, 8, lst) == 8 and h.design.shape == LIST
    assert caller.alloc_list(0, 8, lst) == 0  # WARN_ON_ONCE(!list_empty(page_list)); return 0


def test_sunrpc_refills_meet_an_empty_pcp_when_pages_leave_through_the_network(registry):
    net = run_one(RunSpec(design="array", workload="sunrpc", params={"calls": 40}), registry)
    local = run_one(RunSpec(design="array", workload="sunrpc", params={"calls": 40, "release": "local"}), registry)
    assert net.metrics["pcp_refills"] > 0 == local.metrics["pcp_refills"]
    assert net.metrics["alloc_cycles_per_call"] > local.metrics["alloc_cycles_per_call"]


def test_page_pool_without_a_bulk_api_pays_the_slow_path_per_packet(registry):
    single = run_one(RunSpec(design="single", workload="page_pool", params={"packets": 1024}, perf=True), registry)
    array = run_one(RunSpec(design="array", workload="page_pool", params={"packets": 1024}, perf=True), registry)
    from benchframe.workloads import page_pool as pp

    slow = "__page_pool_alloc_pages_slow"
    prices = Prices(registry.cost_model(None), KernelConfig.parse([]))
    assert sum(c for s, c in single.perf_stacks.items() if s.endswith(slow)) == 1024 * prices(pp.PP_SLOW_NODE)
    refills = 1024 // 64
    per_refill = prices(pp.PP_SLOW) + prices(pp.PP_NULL_SLOTS) + 64 * prices(pp.PP_KEEP)
    assert sum(c for s, c in array.perf_stacks.items() if s.endswith(slow)) == refills * per_refill
    # and the baseline allocates with alloc_pages_node(): no NUMA policy lookup
    assert not any(";alloc_pages;" in s for s in single.perf_stacks)
