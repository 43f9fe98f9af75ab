"""Simulated spinlocks (``zone->lock``, the 6.0 per-CPU pcp spinlock, PREEMPT_RT sleeping locks).

Acquisition and release are ordered by simulated time through the scheduler (``Engine.sync``), so two CPUs that reach a
lock at overlapping times really wait for each other: the waiter's clock moves to the release time and the
difference is recorded as wait time. Waiters are served in arrival order (x86 queued/ticket spinlocks are
FIFO). A CPU that tries to take a lock it already holds (an interrupt handler re-entering) deadlocks in the
kernel; here it raises ``Deadlock`` naming the lock.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from benchframe.engine import Deadlock

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.hw.machine import Machine


class SpinLock:
    """A ``spinlock_t`` of ``machine``, its waiters served in arrival order, with wait and hold statistics."""

    __slots__ = ("name", "engine", "owner", "acquired_at", "waiters", "acquisitions", "contended",
                 "wait_cycles", "hold_cycles", "max_hold", "_half")

    def __init__(self, name: str, machine: Machine):
        self.name = name
        self.engine = machine.engine
        self.owner: CPU | None = None
        self.acquired_at = 0
        self.waiters: deque[CPU] = deque()
        self.acquisitions = 0
        self.contended = 0
        self.wait_cycles = 0
        self.hold_cycles = 0
        self.max_hold = 0
        self._half = machine.costs.half("spin_lock_unlock")

    def __repr__(self) -> str:
        return self.name

    def reset_stats(self) -> None:
        """Forget the acquisition, contention, wait and hold statistics (after a warm-up)."""
        self.acquisitions = self.contended = self.wait_cycles = self.hold_cycles = self.max_hold = 0

    def lock(self, cpu: CPU) -> None:
        """``spin_lock()``: take the lock, waiting (in simulated time) while another CPU holds it."""
        self.engine.sync(cpu)
        owner = self.owner
        if owner is None:
            self.owner = cpu
        elif owner is cpu:
            raise Deadlock(f"deadlock: {cpu.name} in {cpu.context} context spins on {self.name}, "
                           f"which it already holds")
        else:
            self.contended += 1
            t0 = cpu.clock
            self.waiters.append(cpu)
            cpu.waiting_for = self
            self.engine.block(cpu)
            cpu.waiting_for = None
            self.wait_cycles += cpu.clock - t0
        cpu.charge(self._half[0])
        self.acquired_at = cpu.clock
        self.acquisitions += 1

    def trylock(self, cpu: CPU) -> bool:
        """``spin_trylock()``: take the lock if free; never waits."""
        self.engine.sync(cpu)
        if self.owner is not None:
            cpu.charge(self._half[0])
            return False
        self.owner = cpu
        cpu.charge(self._half[0])
        self.acquired_at = cpu.clock
        self.acquisitions += 1
        return True

    def unlock(self, cpu: CPU) -> None:
        cpu.charge(self._half[1])
        self.engine.sync(cpu)
        hold = cpu.clock - self.acquired_at
        self.hold_cycles += hold
        if hold > self.max_hold:
            self.max_hold = hold
        if self.waiters:
            nxt = self.waiters.popleft()
            if nxt.clock < cpu.clock:
                nxt.clock = cpu.clock
            self.owner = nxt
            self.engine.wake(nxt)
        else:
            self.owner = None
