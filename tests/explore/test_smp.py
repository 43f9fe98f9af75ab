"""Two CPUs (``explore/smp.py``): the other CPU's operation placed at every shared access of the first and the
first's rest at every shared access of the second; lost updates and lock-protocol violations traced to the
accesses that make them."""

from __future__ import annotations

import pytest

from benchframe.explore import explore
from benchframe.explore.schedule import INFINITE
from benchframe.explore.smp import run_smp


def test_zone_lock_released_early_is_safe_on_one_cpu_and_caught_on_two(early_unlock):
    """IRQs are off around the early-released zone->lock, so no interrupt can come in between; another CPU can,
    and its update of NR_FREE_PAGES is lost: the trace names the read, the other CPU's write and the stale
    write, each with its function and line."""
    assert explore(early_unlock, "irq").verdict == "SAFE"
    result = explore(early_unlock, "smp")
    assert result.verdict == "UNSAFE", result.render()
    assert result.reason.startswith("lost update of Normal NR_FREE_PAGES: ")
    assert "read" in result.reason and "rmqueue_pcplist() conftest.py:" in result.reason
    assert "'s update is lost" in result.reason
    text = "\n".join(result.steps)
    assert "schedule: " in text and "the other CPU runs" in text
    # the stale value is a count, not a pfn: the local the refill read under the lock, named with what it was
    stale = next(s for s in result.steps if "stale on CPU" in s)
    assert "rmqueue_pcplist(): free = " in stale and "was in Normal NR_FREE_PAGES, now " in stale


@pytest.mark.parametrize("design", ["single", "array", "twopass", "llist", "llist_del_first", "llist:free=splice",
                                    "locallock", "preempt"])
def test_per_cpu_designs_are_safe_against_another_cpu(design):
    result = explore(design, "smp")
    assert result.verdict == "SAFE", result.render()
    assert result.explored_points > 40  # every pair of operations, every schedule of the bound


def test_the_search_interleaves_both_ways_with_two_preemptions():
    """A refill against a refill: CPU1 placed after each of CPU0's shared accesses, and CPU0's rest after each
    of CPU1's -- more schedules than either CPU has shared accesses."""
    from benchframe.explore.scenarios import MOVES, OPERATIONS
    from benchframe.kconfig import KernelConfig
    from benchframe.plugins import get_registry
    from benchframe.workloads.adversary import COUNT_MORE

    reg = get_registry()
    refill = OPERATIONS[1]
    move = next(m for m in MOVES if m.rule == COUNT_MORE)
    learnt: tuple[set[str], set[str]] = (set(), {"zone->lock[Normal]"})
    serial = run_smp(reg, "array", KernelConfig.parse([]), refill, move, [(0, INFINITE)], learnt, trace=True)
    assert serial.visible[0] >= 3 and serial.visible[1] >= 3  # lock, NR_FREE_PAGES, unlock on each CPU
    both = run_smp(reg, "array", KernelConfig.parse([]), refill, move, [(0, 1), (1, 1)], learnt, trace=True)
    gave_way = [s for s in both.steps if "the other CPU runs" in s]
    assert [s.split()[0] for s in gave_way] == ["CPU0", "CPU1"]  # two preemptions
    assert not both.problems


def test_a_cpu_waiting_for_a_lock_the_other_holds_gives_way():
    """CPU1 started while CPU0 holds zone->lock waits for it (in simulated order) rather than deadlocking."""
    from benchframe.explore.scenarios import MOVES, OPERATIONS
    from benchframe.kconfig import KernelConfig
    from benchframe.plugins import get_registry
    from benchframe.workloads.adversary import COUNT_MORE

    move = next(m for m in MOVES if m.rule == COUNT_MORE)
    run = run_smp(get_registry(), "array", KernelConfig.parse([]), OPERATIONS[1], move, [(0, 2), (1, INFINITE)],
                  (set(), {"zone->lock[Normal]"}), trace=True)
    assert not run.problems
    assert any("waits for zone->lock[Normal]" in s for s in run.steps)
