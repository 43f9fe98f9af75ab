"""The discrete-event engine: simulated CPUs in cycles, interrupt delivery, and ordering of shared state.

The engine knows nothing about pages. Model code charges costs to the CPU it runs on (``CPU.charge``); the
engine does two things with that:

* **Interrupt delivery.** At every charge point a pending interrupt is delivered if it may be (hardirq only
  with IRQs enabled, and on PREEMPT_RT only where its handler thread may preempt; NMI always, but not nested
  in another NMI). The handler runs nested on that CPU; the time from arrival to delivery is its latency.
* **Several CPUs in simulated time.** Each CPU's task runs as a greenlet. Before touching shared state (a
  spinlock, another CPU's list, an atomic on a shared word) model code calls ``Engine.sync(cpu)``, which
  suspends the CPU until every other runnable CPU has caught up with its clock. Shared state is therefore
  accessed in simulated-time order (ties broken by CPU id), so lock contention and cross-CPU frees happen in
  the model instead of being estimated. With one CPU there is nothing to order and ``sync`` costs nothing.

Determinism: no wall-clock time, no hashing of objects, ties broken by CPU id, RNGs seeded by the caller.
"""

from __future__ import annotations

from collections.abc import Callable

from greenlet import greenlet

from benchframe import BenchframeError
from benchframe.hw.costs import CostModel
from benchframe.hw.cpu import CPU, HARDIRQ, INF, NMI, SOFTIRQ, TASK
from benchframe.hw.interrupts import NMI_KIND, InterruptSource

STORM_LIMIT = 100_000  # back-to-back handler rounds before a run is declared livelocked


class Deadlock(BenchframeError):
    """The simulated kernel deadlocked (e.g. an interrupt handler spinning on a lock its CPU holds)."""


class Engine:
    def __init__(self, costs: CostModel, preempt_rt: bool = False):
        self.costs = costs
        self.preempt_rt = preempt_rt
        self.cpus: list[CPU] = []
        self.multi = False  # more than one CPU task is running: shared accesses must be ordered
        self._runnable: list[CPU] = []
        self._greenlets: dict[int, greenlet] = {}
        self._hub: greenlet | None = None
        self._irq_half = costs.half("irq_entry_exit")

    def add_cpu(self, node: int = 0) -> CPU:
        cpu = CPU(len(self.cpus), node, self, self.costs, self.preempt_rt)
        self.cpus.append(cpu)
        return cpu

    # -- interrupts ----------------------------------------------------------------------------------
    def add_interrupt(self, cpu: CPU, source: InterruptSource) -> None:
        cpu.sources.append(source)
        cpu.sources.sort(key=lambda s: s.kind != NMI_KIND)  # NMIs first: they win over hardirqs
        self.rearm(cpu)

    def _deliverable(self, cpu: CPU, src: InterruptSource) -> bool:
        if src.kind == NMI_KIND:
            return cpu.context != NMI
        if not cpu.irqs_on or cpu.context not in (TASK, SOFTIRQ):
            return False
        # PREEMPT_RT: the handler is a thread; it runs once the interrupted code is preemptible.
        return not (self.preempt_rt and cpu.preempt_count)

    def rearm(self, cpu: CPU) -> None:
        """Recompute when ``cpu`` next has to look at its interrupt sources; deliver now if overdue."""
        if cpu.sources and self._next_event(cpu) <= cpu.clock:
            self.deliver(cpu)

    def _next_event(self, cpu: CPU) -> float:
        t = INF
        for src in cpu.sources:
            if self._deliverable(cpu, src):
                due = src.pending_since if src.pending_since is not None else src.next_arrival
                if due < t:
                    t = due
        cpu.next_event = t
        return t

    def charge_interrupted(self, cpu: CPU, cycles: int) -> None:
        """``cpu.charge(cycles)`` when an interrupt event falls within those cycles: run up to the event,
        deliver, then spend the rest (the handler's time comes on top, as for an interrupted instruction)."""
        remaining = cycles
        while True:
            due = cpu.next_event
            if cpu.clock + remaining < due:
                cpu.clock += remaining
                return
            step = due - cpu.clock
            if step > 0:
                step = int(step)
                cpu.clock += step
                remaining -= step
            self.deliver(cpu)
            if cpu.next_event <= cpu.clock and cpu.next_event == due:
                # nothing deliverable changed (e.g. an arrival that is masked): finish the charge
                cpu.clock += remaining
                return

    def deliver(self, cpu: CPU) -> None:
        """Note arrivals up to ``cpu.clock`` and run every deliverable pending handler, nested; repeat while
        handlers keep finding new arrivals (back-to-back interrupts), then return to the interrupted code."""
        handled = 0
        while True:
            now = cpu.clock
            for src in cpu.sources:
                while src.next_arrival <= now:
                    if src.pending_since is None:
                        src.pending_since = src.next_arrival
                    else:
                        src.coalesced += 1
                    src.advance()
            cpu.next_event = INF  # nothing re-enters while we decide
            ran = None
            for src in cpu.sources:
                if src.pending_since is not None and self._deliverable(cpu, src):
                    self._run_handler(cpu, src)
                    ran = src
            if ran is None:
                break
            handled += 1
            if handled > STORM_LIMIT:
                raise BenchframeError(
                    f"interrupt storm on CPU{cpu.id}: {handled} rounds of handlers without returning to the "
                    f"interrupted code ({ran.name} arrives faster than its handler runs)")
        self.rearm(cpu)

    def _run_handler(self, cpu: CPU, src: InterruptSource) -> None:
        arrival = src.pending_since
        src.pending_since = None
        src.delivered += 1
        latency = int(cpu.clock - arrival)
        nmi = src.kind == NMI_KIND
        if not nmi:
            cpu.irq_latencies.append(latency)
            cpu.irqs_delivered += 1
        saved = (cpu.context, cpu.irqs_on)
        cpu.context = NMI if nmi else HARDIRQ
        cpu.irqs_on = False  # hardware masks IRQs on entry; not a window opened by kernel code
        self.rearm(cpu)
        cpu.charge(self._irq_half[0])
        src.handler(cpu)
        cpu.charge(self._irq_half[1])
        cpu.context, cpu.irqs_on = saved
        self._next_event(cpu)  # deliver() runs whatever became due meanwhile: no recursion per interrupt

    # -- several CPUs --------------------------------------------------------------------------------
    def run(self, tasks: dict[CPU, Callable[[CPU], None]]) -> None:
        """Run one task per CPU until all return. Tasks are plain functions of their CPU."""
        if len(tasks) == 1:
            ((cpu, fn),) = tasks.items()
            self.multi = False
            fn(cpu)
            return
        self.multi = True
        self._hub = greenlet.getcurrent()
        self._runnable = sorted(tasks, key=lambda c: c.id)
        self._greenlets = {cpu.id: greenlet(lambda fn=fn, cpu=cpu: fn(cpu), parent=self._hub)
                           for cpu, fn in tasks.items()}
        live = set(self._greenlets)
        try:
            while live:
                if not self._runnable:
                    waiting = ", ".join(f"CPU{c.id} on {c.waiting_for}" for c in self.cpus if c.id in live)
                    raise Deadlock(f"deadlock: every CPU is waiting ({waiting})")
                cpu = min(self._runnable, key=_order)
                g = self._greenlets[cpu.id]
                g.switch()
                if g.dead:
                    live.discard(cpu.id)
                    if cpu in self._runnable:
                        self._runnable.remove(cpu)
        finally:
            for g in self._greenlets.values():
                if not g.dead:
                    g.throw(greenlet.GreenletExit)
            self.multi = False
            self._greenlets = {}
            self._hub = None

    def sync(self, cpu: CPU) -> None:
        """Before touching shared state: let every CPU that is behind ``cpu`` in simulated time go first."""
        if not self.multi:
            return
        while min(self._runnable, key=_order) is not cpu:
            self._hub.switch()

    def block(self, cpu: CPU) -> None:
        """Suspend ``cpu`` until ``wake(cpu)`` (it is waiting for a lock)."""
        if not self.multi:
            raise Deadlock(f"deadlock: CPU{cpu.id} waits for {cpu.waiting_for} and no other CPU can release it")
        self._runnable.remove(cpu)
        self._hub.switch()

    def wake(self, cpu: CPU) -> None:
        self._runnable.append(cpu)


def _order(cpu: CPU) -> tuple[float, int]:
    return (cpu.clock, cpu.id)
