"""Simulated spinlocks (``hw/locks.py``): two CPUs reaching ``zone->lock`` at overlapping simulated times wait
for each other exactly the overlap, deterministically; no overlap, no wait; re-taking a held lock deadlocks."""

from __future__ import annotations

import pytest

from benchframe.engine import Deadlock
from benchframe.hw.locks import SpinLock
from benchframe.hw.machine import Machine
from benchframe.hw.topology import Topology


def _two_cpu_lock_run(costs):
    """CPU0 takes the lock at 100 and holds it for 500 cycles; CPU1 arrives at 200, inside that hold."""
    machine = Machine(costs, Topology.uma(cpus=2))
    cpu0, cpu1 = machine.cpus
    lock = SpinLock("zone->lock[test]", machine)
    marks: dict[str, int] = {}

    def f0(cpu):
        cpu.charge(100)
        lock.lock(cpu)
        marks["locked"] = cpu.clock
        cpu.charge(500)
        lock.unlock(cpu)
        marks["released"] = cpu.clock

    def f1(cpu):
        cpu.charge(200)
        marks["arrived"] = cpu.clock
        lock.lock(cpu)
        marks["acquired"] = cpu.clock
        cpu.charge(50)
        lock.unlock(cpu)

    machine.run({cpu0: f0, cpu1: f1})
    return lock, marks, (cpu0.clock, cpu1.clock)


def test_spinlock_waiter_waits_exactly_the_overlap_and_runs_are_deterministic(costs):
    lock, marks, clocks = _two_cpu_lock_run(costs)
    lock_half, unlock_half = costs.half("spin_lock_unlock")
    assert marks["locked"] == 100 + lock_half
    assert marks["released"] == marks["locked"] + 500 + unlock_half
    assert marks["arrived"] < marks["released"], "the two critical sections overlap"
    assert lock.contended == 1 and lock.acquisitions == 2
    assert lock.wait_cycles == marks["released"] - marks["arrived"]
    assert marks["acquired"] == marks["released"] + lock_half
    lock2, marks2, clocks2 = _two_cpu_lock_run(costs)
    assert (lock2.wait_cycles, lock2.hold_cycles, marks2, clocks2) == (lock.wait_cycles, lock.hold_cycles,
                                                                       marks, clocks)


def test_spinlock_without_overlap_has_no_wait(costs):
    machine = Machine(costs, Topology.uma(cpus=2))
    cpu0, cpu1 = machine.cpus
    lock = SpinLock("l", machine)

    def quick(cpu):
        lock.lock(cpu)
        cpu.charge(10)
        lock.unlock(cpu)

    def late(cpu):
        cpu.charge(10_000)
        quick(cpu)

    machine.run({cpu0: quick, cpu1: late})
    assert lock.contended == 0 and lock.wait_cycles == 0


def test_a_cpu_spinning_on_a_lock_it_holds_deadlocks(costs):
    machine = Machine(costs, Topology.uma(cpus=1))
    cpu = machine.cpus[0]
    lock = SpinLock("zone->lock", machine)
    lock.lock(cpu)
    with pytest.raises(Deadlock, match="already holds"):
        lock.lock(cpu)
