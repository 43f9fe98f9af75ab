"""Preemption and migration (``explore/preemption.py``): the task preempted at a charge point, another task on
its CPU, the task resuming there or on the other CPU; ``llist`` unsafe without pinning, safe with it."""

from __future__ import annotations

import pytest
from benchframe_plugins.llist import Llist, LlistDelAllPcp

from benchframe.api import Design
from benchframe.explore import explore
from benchframe.hw.topology import Topology
from benchframe.mm.page import GFP_ATOMIC
from benchframe.plugins import get_registry
from benchframe.testing import make_kernel


class UnpinnedPcp(LlistDelAllPcp):
    """``llist`` as it was: neither preemption nor migration disabled around the detached list."""

    def pin(self, cpu):
        return None

    def unpin(self, cpu):
        return None


class Unpinned(Llist):
    pcp_ops = UnpinnedPcp


@pytest.fixture
def unpinned(monkeypatch):
    reg = get_registry()
    designs = dict(reg.designs)
    designs["llist_unpinned"] = Design("llist_unpinned", Unpinned, "llist without pcpu_task_pin()")
    monkeypatch.setattr(reg, "designs", designs)
    return "llist_unpinned"


def test_llist_without_pinning_is_unsafe_once_the_task_migrates(unpinned):
    """Preempted with the pcp list detached, the task resumes on CPU1: it puts the rest back on CPU0's list but
    this_cpu_sub()s what it took from CPU1's count."""
    result = explore(unpinned, "preempt")
    assert result.verdict == "UNSAFE" and not result.accepted, result.render()
    assert "pcp of CPU" in result.reason and "count is" in result.reason
    text = "\n".join(result.steps)
    assert "the task is preempted; another task runs on CPU0" in text
    assert "the task migrates: it resumes on CPU1" in text
    assert "rmqueue_pcplist" in text  # preempted inside the detached window
    assert all("migrates" in f["handler"] for f in result.findings)  # staying on CPU0 is what llist.h allows
    assert explore(unpinned, "irq").verdict == "SAFE"  # an interrupt cannot move the task


def test_llist_pinned_for_the_detached_window_is_safe_against_preemption():
    result = explore("llist", "preempt")
    assert result.verdict == "SAFE", result.render()
    assert result.runs > 100
    assert explore("llist", "preempt", config=("PREEMPT_RT",)).verdict == "SAFE"  # migrate_disable() there


@pytest.mark.parametrize("design", ["single", "array", "list", "twopass", "locallock", "preempt"])
def test_designs_with_irqs_or_preemption_off_around_the_pcp_are_safe_against_preemption(design):
    result = explore(design, "preempt")
    assert result.verdict == "SAFE", result.render()
    covered = "\n".join(result.covered)
    assert "where the task may be preempted" in covered and "migrate" in covered


def test_the_pin_is_priced_at_the_profiles_preempt_cost():
    """One allocation from a warm list: the pinned llist pays preempt_disable()+enable() more than unpinned."""
    costs = {}
    for factory in (Llist, Unpinned):
        h = make_kernel("llist", Topology.uma(cpus=1, normal_pages=16384))
        h.impl = factory(h.kernel)
        if factory is Unpinned:
            h.kernel.pcp_ops = UnpinnedPcp(h.kernel)
            h.impl.llist_ops = h.kernel.pcp_ops
        caller = h.caller(0)
        caller.impl = h.impl
        caller.free_pages(caller.alloc(GFP_ATOMIC, 12))
        cpu = h.cpus[0]
        t0 = cpu.clock
        assert len(caller.alloc(GFP_ATOMIC, 4)) == 4
        costs[factory] = cpu.clock - t0
        assert cpu.preempt_count == 0 and h.invariant_problems() == []
    assert costs[Llist] - costs[Unpinned] == h.costs.preempt_disable_enable
