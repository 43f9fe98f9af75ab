"""What tells the built-in designs apart (``plugins/``): bulk designs amortise the IRQ cost of the pcp, the
second pass shortens the IRQs-off window, llist uses atomics instead; twopass refuses a non-empty list."""

from __future__ import annotations

import pytest

from benchframe import BenchframeError
from benchframe.run import RunSpec, run_one
from benchframe.testing import Kit

DESIGNS = ["single", "list", "array", "twopass", "llist", "locallock"]


def test_bulk_designs_amortise_the_irq_cost():
    per = {d: run_one(RunSpec(design=d, workload="page_bench04", params={"bulk": 64, "pages": 4096})).metrics
           for d in DESIGNS}
    assert per["array"]["alloc_cycles_per_page"] < per["single"]["alloc_cycles_per_page"]
    assert per["twopass"]["irqs_off_max_cycles"] < per["list"]["irqs_off_max_cycles"]
    assert per["llist"]["irqs_off_max_cycles"] == 0 and per["llist"]["atomics_per_page"] > 0
    assert all(m["invariant_violations"] == 0 for m in per.values())


def test_twopass_refuses_a_non_empty_list():
    h = Kit("twopass")
    lst = [h.alloc(2)[1][0]]
    with pytest.raises(BenchframeError, match="must be empty"):
        h.call(4, page_list=lst)


def test_preempt_keeps_irqs_on_for_tasks_but_sends_softirq_callers_to_the_buddy_lists():
    """374ad05ab64d: preempt_disable() instead of IRQs off around the pcp -- and in_interrupt() callers (NAPI's
    softirq too) bypass it, the slowdown that got it reverted."""
    pb = {d: run_one(RunSpec(design=d, workload="page_bench04", params={"bulk": 64, "pages": 1024})).metrics
          for d in ("preempt", "list")}
    assert pb["preempt"]["invariant_violations"] == 0
    assert pb["preempt"]["irq_toggles_per_page"] < pb["list"]["irq_toggles_per_page"]
    assert pb["preempt"]["alloc_free_cycles_per_page"] < pb["list"]["alloc_free_cycles_per_page"]
    pool = {d: run_one(RunSpec(design=d, workload="page_pool", params={"packets": 1024})).metrics
            for d in ("preempt", "single")}
    assert pool["preempt"]["invariant_violations"] == 0
    assert pool["preempt"]["fallbacks"] > 0 and pool["preempt"]["zone_lock_hold_max_cycles"] > 0
    assert pool["preempt"]["alloc_cycles_per_packet"] > pool["single"]["alloc_cycles_per_packet"]


def test_the_2017_prototype_has_no_one_page_fallback():
    """kernel-facts §2.4: on the 2017 prototype a bulk call of one page stayed on the bulk path (which is why
    its bulk=1 beat single); 5.13 sends it to the single-page allocator."""
    def fallbacks(kernel):
        return run_one(RunSpec(design="preempt", workload="page_bench04", kernel=kernel,
                               params={"bulk": 1, "pages": 256, "test": "list"})).metrics["fallbacks"]
    assert fallbacks("4.10-prototype") == 0 and fallbacks("5.13") > 0
