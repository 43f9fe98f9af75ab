"""The pcpspin example plugin (examples/pcpspin, a separate distribution): 6.0/6.2 pcp_spin_trylock.

It is used installed when it is (CI installs it) and by path otherwise, so the test runs in either checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchframe.hw.cpu import HARDIRQ
from benchframe.hw.irq import InterruptSource
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import GFP_ATOMIC
from benchframe.plugins import get_registry, load_registry
from benchframe.run import RunSpec, run_one
from benchframe.workloads.context import Harness

PCPSPIN = Path(__file__).resolve().parents[2] / "examples" / "pcpspin" / "benchframe_pcpspin" / "__init__.py"


@pytest.fixture(scope="module")
def reg():
    installed = get_registry()
    if "pcpspin" in installed.designs:
        return installed
    reg = load_registry((str(PCPSPIN),))
    assert reg.errors == [] and "pcpspin" in reg.designs
    return reg


def test_page_bench04_runs_clean_and_never_disables_irqs_for_the_pcp(reg):
    for bulk in (1, 8, 64):
        spin = run_one(RunSpec(design="pcpspin", workload="page_bench04", params={"bulk": bulk}), reg).metrics
        array = run_one(RunSpec(design="array", workload="page_bench04", params={"bulk": bulk}), reg).metrics
        assert spin["invariant_violations"] == 0 and spin["pages_allocated"] == array["pages_allocated"]
        # the pcp lock does not disable IRQs: whatever window is left is zone->lock during refill/drain only
        assert spin["irqs_off_max_cycles"] < array["irqs_off_max_cycles"], bulk
        if spin["pcp_refills"] == spin["pcp_drains"] == 0:
            assert spin["irqs_off_max_cycles"] == 0 and spin["irq_toggles_per_page"] == 0


def test_refills_disable_irqs_only_under_zone_lock(reg):
    """A small zone forces refills and drains: rmqueue_bulk/free_pcppages_bulk take zone->lock irqsave."""
    m = run_one(RunSpec(design="pcpspin", workload="page_bench04",
                        params={"bulk": 512, "pages": 4096, "zone_pages": 8192}), reg).metrics
    assert m["invariant_violations"] == 0
    assert m["pcp_refills"] + m["pcp_drains"] > 0
    assert 0 < m["irqs_off_max_cycles"] <= m["zone_lock_hold_max_cycles"] + 200


def test_irq_latency_runs_clean_with_short_irqs_off_windows(reg):
    r = run_one(RunSpec(design="pcpspin", workload="irq_latency", params={"bulk": 64, "bursts": 60,
                                                                          "irq_interval": 3000}), reg)
    assert r.metrics["invariant_violations"] == 0
    assert r.metrics["irqs_off_max_cycles"] < 2000  # only zone->lock refills disable IRQs


def _irq_allocating(reg, design: str):
    """A task bulk-allocates and frees 64 pages at a time while a device IRQ on the same CPU allocates
    (one page and a bulk of 8) and frees them from its handler."""
    d = reg.designs[design]
    h = Harness(d, d.defaults(), reg.cost_model(None), KernelConfig.parse([]),
                Topology.uma(cpus=1, normal_pages=65536), reg)
    engine, k, impl = h.machine, h.kernel, h.impl
    cpu = engine.cpus[0]
    seen = {"handler_runs": 0, "calls": 0, "empty": 0, "short": 0}

    def handler(c) -> None:
        assert c.context == HARDIRQ
        seen["handler_runs"] += 1
        for n in (1, 8):
            arr: list = [None] * n
            got = impl.alloc_bulk(c, GFP_ATOMIC, n, page_array=arr)
            seen["calls"] += 1
            seen["empty"] += got == 0
            seen["short"] += got < n
            for page in arr[:got]:
                impl.free_page(c, page)

    engine.add_interrupt(cpu, InterruptSource.periodic("eth0", 5003, handler))
    held: set[int] = set()
    for _ in range(300):
        arr: list = [None] * 64
        got = impl.alloc_bulk(cpu, GFP_ATOMIC, 64, page_array=arr)
        held.update(arr[:got])
        for page in arr[:got]:
            held.discard(page)
            impl.free_page(cpu, page)
    problems = list(k.violations) + check_kernel(k, held)
    return k, seen, problems


def test_an_irq_allocating_during_a_pcp_locked_section_takes_the_buddy_path(reg):
    """6.2 (5749077415994): "If an IRQ is raised when a PCP allocation is in progress, the trylock will fail and
    fallback to using the buddy lists directly" — no corruption, no deadlock, every handler call served (a bulk
    call whose trylock fails gets the single-page fallback: one page)."""
    k, seen, problems = _irq_allocating(reg, "pcpspin")
    assert problems == []
    assert seen["handler_runs"] > 50 and seen["empty"] == 0
    assert k.stat.pcp_bypassed > 0  # pcp_spin_trylock failed in the handler: rmqueue_buddy / free_one_page
    assert seen["short"] > 0  # ... and the handler's bulk call took the single-page fallback
    # with local_irq_save the handler never lands inside a pcp section, so nothing ever fails a trylock
    k_array, seen_array, problems_array = _irq_allocating(reg, "array")
    assert problems_array == [] and k_array.stat.pcp_bypassed == 0
    assert seen_array["empty"] == seen_array["short"] == 0


@pytest.mark.parametrize("config, pin", [((), "preempt_count"), (("PREEMPT_RT",), "migrate_disable_count")])
def test_pcp_spin_trylock_pins_and_a_holder_cpu_gets_trylock_failure(reg, config, pin):
    """pcpu_task_pin(): preempt_disable() on !RT, migrate_disable() on RT; IRQs stay enabled. An interrupt
    handler on the CPU holding the pcp lock gets a trylock failure (SpinLock.trylock), not a deadlock."""
    d = reg.designs["pcpspin"]
    h = Harness(d, {}, reg.cost_model(None), KernelConfig.parse(list(config)), Topology.uma(cpus=1))
    k, cpu = h.kernel, h.cpus[0]
    pcp = k.zones[-1].pcp[0]
    token = k.pcp_ops.lock(cpu, pcp)
    assert token is not None and cpu.irqs_on and getattr(cpu, pin) == 1
    assert k.pcp_ops.lock(cpu, pcp) is None and getattr(cpu, pin) == 1  # the failed attempt unpins again
    k.pcp_ops.unlock(cpu, token, pcp)
    assert getattr(cpu, pin) == 0 and cpu.irqs_on
