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
from benchframe.hw.frames import Frame, Site

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.hw.machine import Machine

# the frames of an x86-64 build without CONFIG_PREEMPTION (kernel/locking/spinlock.c): spin_lock() and
# spin_trylock() are functions of their own, spin_unlock() an inlined store; a wait is the queued slow path
SPIN_LOCK = Site.at(Frame("_raw_spin_lock"))
SPIN_TRYLOCK = Site.at(Frame("_raw_spin_trylock"))
SPIN_UNLOCK = Site.at(Frame("_raw_spin_unlock", True))
SPIN_WAIT = Site.at(Frame("native_queued_spin_lock_slowpath"))
#: the lock's cycles belong to the function the caller is in (spin_lock_irqsave() pushed its own frame)
IN_CALLER = Site.at()


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
        lock, unlock = machine.costs.half("spin_lock_unlock")
        lockdep = machine.costs.lockdep_hook if machine.lockdep else 0  # CONFIG_LOCKDEP: lock_acquire/release
        self._half = (lock + lockdep, unlock + lockdep)

    def __repr__(self) -> str:
        return self.name

    def reset_stats(self) -> None:
        """Forget the acquisition, contention, wait and hold statistics (after a warm-up)."""
        self.acquisitions = self.contended = self.wait_cycles = self.hold_cycles = self.max_hold = 0

    def lock(self, cpu: CPU, site: Site = SPIN_LOCK) -> None:
        """``spin_lock()``: take the lock, waiting (in simulated time) while another CPU holds it. ``site``:
        where attribution puts its cycles (the wait goes below it, to the queued slow path)."""
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
            cpu.account(cpu.clock - t0, Site.at(*site.parts[0][0], *SPIN_WAIT.parts[0][0]))
        cpu.charge(self._half[0], site)
        self.acquired_at = cpu.clock
        self.acquisitions += 1

    def trylock(self, cpu: CPU) -> bool:
        """``spin_trylock()``: take the lock if free; never waits."""
        self.engine.sync(cpu)
        if self.owner is not None:
            cpu.charge(self._half[0], SPIN_TRYLOCK)
            return False
        self.owner = cpu
        cpu.charge(self._half[0], SPIN_TRYLOCK)
        self.acquired_at = cpu.clock
        self.acquisitions += 1
        return True

    def unlock(self, cpu: CPU, site: Site = SPIN_UNLOCK) -> None:
        cpu.charge(self._half[1], site)
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
