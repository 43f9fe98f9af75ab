"""Interrupts: sources (devices raising hardirqs, and NMIs, on one CPU) and their delivery.

A source produces arrival times (periodic, Poisson with a seeded RNG, or an explicit list). The machine's
interrupt controller, ``Interrupts``, notes an arrival as *pending* and runs the source's handler nested on
the CPU at the first charge point where it may be delivered: a hardirq only while IRQs are enabled and the CPU
is in task or softirq context (on PREEMPT_RT, where the threaded handler may preempt), an NMI always but not
nested in another NMI. While pending, further arrivals of the same source coalesce (one pending bit, as an
APIC line). The time from arrival to delivery is the interrupt's latency.

``Interrupts.deliverable`` is the delivery policy (override it to model another one) and
``Interrupts.charge_point`` a public hook: while set, it is called at every charge point of task-context code,
which is how ``benchframe explore`` raises an interrupt at each point in turn.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Final

from benchframe import BenchframeError
from benchframe.hw.cpu import CPU, HARDIRQ, INF, NMI, SOFTIRQ, TASK
from benchframe.hw.frames import Frame

if TYPE_CHECKING:
    from benchframe.hw.costs import CostModel

IRQ = "irq"
NMI_KIND: Final = "nmi"

STORM_LIMIT = 100_000  # back-to-back handler rounds before a run is declared livelocked

Handler = Callable[[CPU], None]


class InterruptSource:
    """One interrupt line to one CPU. ``handler(cpu)`` runs in hardirq (or NMI) context when delivered."""

    __slots__ = ("name", "kind", "handler", "next_arrival", "pending_since", "delivered", "_it", "frames")

    def __init__(self, name: str, kind: str, handler: Handler, arrivals: Iterable[float]):
        if kind not in (IRQ, NMI_KIND):
            raise ValueError(f"interrupt kind must be {IRQ!r} or {NMI_KIND!r}")
        self.name = name
        self.kind = kind
        self.handler = handler
        #: what perf shows on top of the interrupted code: the x86-64 entry (its cycles), then the handler
        self.frames = (Frame("asm_exc_nmi"), Frame(f"{name}_nmi_handler")) if kind == NMI_KIND else \
            (Frame("asm_common_interrupt"), Frame(f"{name}_irq_handler"))
        self._it: Iterator[float] = iter(arrivals)
        self.next_arrival: float = math.inf
        self.pending_since: float | None = None
        self.delivered = 0
        self.advance()

    def advance(self) -> None:
        self.next_arrival = next(self._it, math.inf)

    @classmethod
    def periodic(cls, name: str, period: int, handler: Handler, kind: str = IRQ, phase: int = 0) -> InterruptSource:
        if period <= 0:
            raise ValueError("interrupt period must be positive")

        def times() -> Iterator[int]:
            t = phase or period
            while True:
                yield t
                t += period
        return cls(name, kind, handler, times())

    @classmethod
    def poisson(cls, name: str, mean_interval: float, handler: Handler, seed: int, kind: str = IRQ) -> InterruptSource:
        """Arrivals of a Poisson process with the given mean interval in cycles, from ``random.Random(seed)``."""
        if mean_interval <= 0:
            raise ValueError("interrupt mean interval must be positive")
        rng = random.Random(seed)

        def times() -> Iterator[int]:
            t = 0.0
            while True:
                t += rng.expovariate(1.0 / mean_interval)
                yield int(t) + 1
        return cls(name, kind, handler, times())

    @classmethod
    def at(cls, name: str, times: Iterable[int], handler: Handler, kind: str = IRQ) -> InterruptSource:
        return cls(name, kind, handler, sorted(times))


class Interrupts:
    """The interrupt controller of one machine: when each CPU must look at its sources, and delivery."""

    def __init__(self, costs: CostModel, preempt_rt: bool = False):
        self.preempt_rt = preempt_rt
        self._entry_exit = costs.half("irq_entry_exit")
        #: public hook: while set, called with the CPU at every charge point of task-context code (``explore``)
        self.charge_point: Callable[[CPU], None] | None = None
        # this policy, not a subclass's: ``irqs_off`` may take its shortcut
        self._plain = type(self).rearm is Interrupts.rearm and type(self).deliverable is Interrupts.deliverable

    def add(self, cpu: CPU, source: InterruptSource) -> None:
        """Connect ``source`` to ``cpu``."""
        cpu.sources.append(source)
        cpu.sources.sort(key=lambda s: s.kind != NMI_KIND)  # NMIs first: they win over hardirqs
        self.rearm(cpu)

    # -- the delivery policy -------------------------------------------------------------------------
    def deliverable(self, cpu: CPU, src: InterruptSource) -> bool:
        """May ``src``'s handler run on ``cpu`` now? NMIs always (not nested); hardirqs with IRQs enabled in
        task or softirq context; on PREEMPT_RT the handler is a thread that runs once the code is preemptible."""
        if src.kind == NMI_KIND:
            return cpu.context != NMI
        if not cpu.irqs_on or cpu.context not in (TASK, SOFTIRQ):
            return False
        return not (self.preempt_rt and cpu.preempt_count)

    # -- when to look --------------------------------------------------------------------------------
    def rearm(self, cpu: CPU) -> None:
        """Recompute when ``cpu`` next has to look at its interrupt sources; deliver now if overdue."""
        if cpu.sources and self._next_event(cpu) <= cpu.clock:
            self.deliver(cpu)
        if self.charge_point is not None and cpu.context == TASK:
            cpu.next_event = -math.inf  # every charge comes through deliver()

    def irqs_off(self, cpu: CPU) -> None:
        """``rearm`` after IRQs were disabled on ``cpu``. Under this policy (a subclass's ``rearm`` is called
        instead) nothing but an NMI can be delivered until they are enabled again: with no NMI source and no
        charge-point hook that is the answer ``rearm`` would compute, without asking every source (this runs
        once or twice per page)."""
        sources = cpu.sources
        if self._plain and self.charge_point is None and sources and sources[0].kind != NMI_KIND:
            cpu.next_event = INF  # (NMI sources sort first)
        else:
            self.rearm(cpu)

    def _next_event(self, cpu: CPU) -> float:
        t = INF
        for src in cpu.sources:
            if self.deliverable(cpu, src):
                due = src.pending_since if src.pending_since is not None else src.next_arrival
                if due < t:
                    t = due
        cpu.next_event = t
        return t

    def charge_interrupted(self, cpu: CPU, cycles: int) -> None:
        """``cpu.charge(cycles)`` when an interrupt event falls within those cycles: run up to the event,
        deliver, then spend the rest (the handler's time comes on top, as for an interrupted instruction)."""
        if not math.isfinite(cpu.clock + cycles):  # NaN never reaches the event: it would loop here for good
            raise ValueError(f"CPU{cpu.id}: {cycles!r} cycles charged at clock {cpu.clock!r}: not a finite time")
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

    # -- delivery ------------------------------------------------------------------------------------
    def deliver(self, cpu: CPU) -> None:
        """Note arrivals up to ``cpu.clock`` and run every deliverable pending handler, nested; repeat while
        handlers keep finding new arrivals (back-to-back interrupts), then return to the interrupted code."""
        hook = self.charge_point
        if hook is not None and cpu.context == TASK:
            hook(cpu)
            if self.charge_point is hook:
                self._deliver(cpu)
            else:  # the hook is done (it raised its interrupt): deliver from a clean state
                self.rearm(cpu)
            return
        self._deliver(cpu)

    def _deliver(self, cpu: CPU) -> None:
        handled = 0
        while True:
            now = cpu.clock
            for src in cpu.sources:
                while src.next_arrival <= now:
                    if src.pending_since is None:  # a later arrival coalesces with the pending one
                        src.pending_since = src.next_arrival
                    src.advance()
            cpu.next_event = INF  # nothing re-enters while we decide
            ran = None
            for src in cpu.sources:
                if src.pending_since is not None and self.deliverable(cpu, src):
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
        assert arrival is not None
        src.pending_since = None
        src.delivered += 1
        latency = int(cpu.clock - arrival)
        nmi = src.kind == NMI_KIND
        if not nmi:
            cpu.irq_latencies.append(latency)
        saved = (cpu.context, cpu.irqs_on)
        cpu.context = NMI if nmi else HARDIRQ
        cpu.irqs_on = False  # hardware masks IRQs on entry; not a window opened by kernel code
        self.rearm(cpu)
        entry, handler = src.frames
        cpu.frame_push((entry,))
        cpu.charge(self._entry_exit[0])
        cpu.frame_push((handler,))
        src.handler(cpu)
        cpu.frame_pop()
        cpu.charge(self._entry_exit[1])
        cpu.frame_pop()
        cpu.context, cpu.irqs_on = saved
        self._next_event(cpu)  # deliver() runs whatever became due meanwhile: no recursion per interrupt
