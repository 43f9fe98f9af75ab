"""The real-caller workloads: every design runs every workload cleanly, and each workload shows what it is for."""

from __future__ import annotations

import pytest

from benchframe.run import RunSpec, run_one

DESIGNS = ["single", "list", "array", "twopass", "llist", "locallock"]
SMALL = {
    "page_bench04": {"pages": 1024},
    "page_pool": {"packets": 2048, "remote_free": 0.5},
    "sunrpc": {"calls": 20},
    "irq_latency": {"bursts": 40},
    "contention": {"bursts": 30, "cpus": 3},
    "numa": {"calls": 10},
}


def run(design, workload, seed=1, config=(), **params):
    return run_one(RunSpec(design=design, workload=workload, params={**SMALL.get(workload, {}), **params},
                           seed=seed, config=config))


@pytest.mark.parametrize("workload", sorted(SMALL))
@pytest.mark.parametrize("design", DESIGNS)
def test_every_design_runs_every_workload_cleanly(design, workload):
    r = run(design, workload)
    assert r.metrics["invariant_violations"] == 0, r.violations
    assert r.metrics["pages_allocated"] > 0


def test_sunrpc_full_array_needs_no_allocation():
    r = run("array", "sunrpc", holes=0)
    assert r.metrics["pages_allocated"] == 0
    assert r.metrics["alloc_cycles_per_call"] > 0  # the array is still scanned


def test_sunrpc_array_beats_single_and_list_pays_for_holes():
    single, lst, arr = (run(d, "sunrpc", holes=64, pattern="scattered") for d in ("single", "list", "array"))
    assert arr.metrics["alloc_cycles_per_call"] < lst.metrics["alloc_cycles_per_call"] < \
        single.metrics["alloc_cycles_per_call"]


def test_page_pool_list_designs_pay_for_the_walk():
    lst, arr = run("list", "page_pool", remote_free=0.0), run("array", "page_pool", remote_free=0.0)
    assert lst.metrics["alloc_cycles_per_packet"] > arr.metrics["alloc_cycles_per_packet"]
    assert lst.metrics["packets_per_sec"] < arr.metrics["packets_per_sec"]


def test_page_pool_remote_free_uses_two_cpus():
    r = run("array", "page_pool", remote_free=0.5)
    assert r.metrics["invariant_violations"] == 0


def test_irq_latency_grows_with_bulk_and_second_pass_shortens_the_window():
    off = {(d, b): run(d, "irq_latency", bulk=b).metrics["irqs_off_max_cycles"]
           for d in ("list", "twopass") for b in (8, 64, 256)}
    assert off[("list", 8)] < off[("list", 64)] < off[("list", 256)]
    for b in (8, 64, 256):
        assert off[("twopass", b)] < off[("list", b)]


def test_locallock_under_preempt_rt_keeps_latency_flat():
    lat = {b: run("locallock", "irq_latency", bulk=b, config=("PREEMPT_RT",)).metrics for b in (8, 256)}
    assert lat[256]["irqs_off_max_cycles"] == 0
    # at worst an interrupt queues behind one other handler (500 cycles of work + entry/exit), whatever the bulk
    from benchframe.hw.costs import builtin_profile_paths, load_profile_file

    one_handler = 500 + load_profile_file(builtin_profile_paths()["e5-1650v4"]).irq_entry_exit
    assert lat[256]["irq_latency_max_cycles"] <= one_handler
    hard = run("list", "irq_latency", bulk=256, config=("PREEMPT_RT",)).metrics
    assert hard["irq_latency_max_cycles"] > 3 * lat[256]["irq_latency_max_cycles"]


def test_contention_is_simulated():
    r = run("array", "contention", cpus=4, bursts=100)
    assert r.metrics["zone_lock_wait_cycles"] > 0 and r.metrics["remote_frees"] > 0
    assert r.metrics["pcp_refills"] > 0 and r.metrics["pcp_drains"] > 0
    assert run("array", "contention", cpus=4, bursts=100).metrics == r.metrics  # deterministic
    alone = run("array", "contention", cpus=1, bursts=100)
    assert alone.metrics["zone_lock_wait_cycles"] == 0


def test_numa_bulk_falls_back_and_spilling_goes_remote():
    kept = run("array", "numa")
    spilled = run("array", "numa", spill=True)
    assert kept.metrics["fallbacks"] > 0
    assert spilled.metrics["remote_page_share"] > kept.metrics["remote_page_share"]
    assert spilled.metrics["use_cycles_per_page"] > kept.metrics["use_cycles_per_page"]


def test_nmi_llist_refuses_and_irq_disabling_designs_are_caught():
    llist = run("llist", "nmi", bursts=60)
    assert llist.metrics["nmi_refused"] > 0 and llist.metrics["nmi_allocs"] == 0
    assert llist.metrics["invariant_violations"] == 0
    broken = [run(d, "nmi", bursts=200, seed=s).metrics["invariant_violations"]
              for d in ("list", "twopass") for s in (1, 2, 3)]
    assert sum(broken) > 0


def test_page_owner_forces_single_pages():
    r = run("array", "page_bench04", config=("PAGE_OWNER",), bulk=16)
    assert r.metrics["fallbacks"] > 0
    assert r.config == ["PAGE_OWNER"]


def test_sunrpc_under_page_owner_fills_every_hole_and_counts_the_sleeps():
    # PAGE_OWNER forces one page per bulk call (kf §1.3): 5.13's svc_alloc_arg sleeps once per short iteration
    r = run("array", "sunrpc", config=("PAGE_OWNER",), holes=40)
    assert r.metrics["invariant_violations"] == 0, r.violations
    assert r.metrics["pages_allocated"] == 40 * SMALL["sunrpc"]["calls"]
    assert r.metrics["sleeps_per_call"] >= 39
    later = run("array", "sunrpc", config=("PAGE_OWNER",), holes=40, loop="progress")
    assert later.metrics["sleeps_per_call"] == 0
    assert run("array", "sunrpc", holes=8).metrics["sleeps_per_call"] == 0


@pytest.mark.parametrize("config", [("PREEMPT_RT",), ("PAGE_OWNER",), ("NUMA",)])
@pytest.mark.parametrize("workload", sorted(SMALL))
def test_kernel_configs_run_every_workload_cleanly(config, workload):
    for design in DESIGNS:
        r = run(design, workload, config=config)
        assert r.metrics["invariant_violations"] == 0, (design, r.violations)
        assert r.config == list(config)


def test_nmi_counters_survive_a_deadlock():
    # seed 1: the first NMI lands while the task refills the pcp under zone->lock
    r = run("list", "nmi", bursts=60, seed=1)
    assert any("deadlock" in v for v in r.violations)
    assert r.metrics["nmi_alloc_attempts"] >= 1
    assert r.metrics["bursts_completed"] < 60


def test_nmi_holding_its_page_corrupts_an_irq_disabling_pcp_but_not_llist():
    # hold=true: the NMI's free no longer undoes its alloc, so an NMI inside the task's pcp section shows up
    found = [run("locallock", "nmi", bursts=200, seed=2, hold=True).violations]
    assert any("corruption" in v or "handed out twice" in v for v in found[0])
    llist = run("llist", "nmi", bursts=100, seed=2, hold=True)
    assert llist.metrics["invariant_violations"] == 0 and llist.metrics["nmi_refused"] > 0


def test_preempt_rt_flags_sleeping_zone_lock_taken_with_irqs_off():
    """kf §3.1: on RT, local_irq_save() + spin_lock(&zone->lock) is unsafe; 5.13 designs do it on every refill
    and drain, local_lock (RT sleeping lock, IRQs on) never does."""
    rt = ("PREEMPT_RT",)
    assert run("list", "page_bench04", config=rt, bulk=512).metrics["rt_sleeping_lock_irqs_off"] > 0
    assert run("locallock", "page_bench04", config=rt, bulk=512).metrics["rt_sleeping_lock_irqs_off"] == 0
    assert run("list", "page_bench04", bulk=512).metrics["rt_sleeping_lock_irqs_off"] == 0  # !RT: spinning lock
