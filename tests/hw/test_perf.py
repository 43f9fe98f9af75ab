"""Attribution (benchframe.hw.perf): every cycle of a run lands on a frame, the frames add up to the clocks, an
attributed run's numbers are the plain run's, and a plugin's own functions show under their own names."""

from __future__ import annotations

import re

import pytest

from benchframe.api import ARRAY, BulkAllocator, Design, symbol
from benchframe.hw.frames import Frame, Site
from benchframe.hw.perf import Profile
from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one

DESIGNS = ("single", "list", "array", "twopass", "llist", "llist_del_first", "locallock", "preempt")
WORKLOADS = (
    ("page_bench04", {"bulk": 64, "pages": 1024}),
    ("page_bench04", {"test": "single", "pages": 512}),
    ("page_pool", {"packets": 512, "warmup": 64, "remote_free": 0.5}),
    ("sunrpc", {"calls": 10}),
    ("irq_latency", {"bulk": 64, "bursts": 10}),
    ("contention", {"cpus": 4, "bursts": 5}),
    ("numa", {"calls": 5}),
    ("nmi", {"bursts": 5, "hold": False}),
)
FOLDED = re.compile(r"^[^;]+(;[^;]+)* \d+$")


@pytest.fixture(scope="module")
def registry():
    return get_registry()


@pytest.mark.parametrize(("workload", "params"), WORKLOADS, ids=[f"{w}-{i}" for i, (w, _) in enumerate(WORKLOADS)])
@pytest.mark.parametrize("design", DESIGNS)
def test_self_cycles_sum_to_the_clocks_and_change_no_number(registry, design, workload, params):
    plain = run_one(RunSpec(design=design, workload=workload, params=params, seed=3), registry)
    on = run_one(RunSpec(design=design, workload=workload, params=params, seed=3, perf=True), registry)
    assert on.metrics == plain.metrics
    assert on.perf_stacks and not plain.perf_stacks
    if any("deadlock" in v for v in on.violations):
        return  # a deadlock stops a charge half spent: its cycles were attributed, not all reached the clock
    assert sum(on.perf_stacks.values()) == on.perf_cycles > 0
    assert not [s for s in on.perf_stacks if "[unknown]" in s], "a charge outside every frame"
    again = run_one(RunSpec(design=design, workload=workload, params=params, seed=3, perf=True), registry)
    assert again.perf_stacks == on.perf_stacks  # deterministic, in order too


def test_folded_stacks_are_flamegraph_input(registry):
    run = run_one(RunSpec(design="array", workload="page_bench04", params={"bulk": 64, "pages": 512}, perf=True),
                  registry)
    lines = [f"{stack} {cycles}" for stack, cycles in run.perf_stacks.items()]
    assert lines and all(FOLDED.match(line) for line in lines), lines[:3]
    stacks = list(run.perf_stacks)
    assert stacks == sorted(stacks)
    # the bulk call's inlined __rmqueue_pcplist and its own prep_new_page, below the module's test function
    assert "time_bulk_page_alloc_free_array;__alloc_pages_bulk;__rmqueue_pcplist_[i]" in run.perf_stacks
    assert "time_bulk_page_alloc_free_array;__alloc_pages_bulk;prep_new_page" in run.perf_stacks
    assert any(s.endswith("free_unref_page;local_irq_save_[i]") for s in stacks)


def test_single_page_path_has_the_frames_perf_shows(registry):
    run = run_one(RunSpec(design="single", workload="page_bench04", params={"test": "single", "pages": 512},
                          perf=True), registry)
    chain = "time_single_page_alloc_put;alloc_pages;__alloc_pages;get_page_from_freelist;rmqueue"
    assert chain in run.perf_stacks
    assert f"{chain};rmqueue_pcplist_[i];__rmqueue_pcplist_[i]" in run.perf_stacks
    assert "time_single_page_alloc_put;__put_page;free_unref_page;free_unref_page_commit_[i]" in run.perf_stacks


class WithOwnRefill(BulkAllocator):
    """A design with a function of its own: it tops the pcp list up before the loop."""

    shape = ARRAY

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None):
        self.top_up(cpu)
        return super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array,
                                  preferred_nid=preferred_nid)

    @symbol("pcp_top_up")
    def top_up(self, cpu):
        cpu.charge(7)
        cpu.charge(3, Site.at(Frame("top_up_check", inline=True)))


def test_a_plugin_designs_own_functions_appear_under_their_names(registry):
    registry.designs["own_refill"] = Design(name="own_refill", factory=WithOwnRefill, description="test")
    try:
        run = run_one(RunSpec(design="own_refill", workload="page_bench04", params={"bulk": 64, "pages": 512},
                              perf=True), registry)
    finally:
        del registry.designs["own_refill"]
    calls = 512 // 64
    base = "time_bulk_page_alloc_free_array;__alloc_pages_bulk;pcp_top_up"
    assert run.perf_stacks[base] == 7 * calls
    assert run.perf_stacks[f"{base};top_up_check_[i]"] == 3 * calls
    assert sum(run.perf_stacks.values()) == run.perf_cycles


def test_a_site_that_does_not_add_up_is_a_bug_not_a_silent_misattribution():
    prof = Profile()
    site = Site(((Frame("a"),), 5), ((Frame("b"),), 3))
    prof.record([Frame("f")], site, 8, 0, 0)
    assert prof.stacks == {(Frame("f"), Frame("a")): 5, (Frame("f"), Frame("b")): 3}
    with pytest.raises(AssertionError, match="does not account"):
        prof.record([Frame("f")], site, 9, 0, 0)
    with pytest.raises(AssertionError, match="does not account"):
        prof.record([Frame("f")], site, 7, 0, 0)


def test_misses_go_below_the_part_that_paid_them_and_up_reaches_the_caller():
    prof = Profile()
    site = Site(((), 4, 1), ((Frame("x", True),), None), miss=1)
    prof.record([Frame("caller"), Frame("callee")], site, 20, 6, 2)
    caller, callee, x = Frame("caller"), Frame("callee"), Frame("x", True)
    assert prof.stacks[(caller,)] == 4
    assert prof.stacks[(caller, callee, x)] == 20 - 8 - 4
    assert prof.stacks[(caller, callee, x, Frame("[miss] struct page", True))] == 6
    assert prof.stacks[(caller, callee, x, Frame("[miss] vm_stat", True))] == 2
    assert prof.total == 20
