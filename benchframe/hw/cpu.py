"""A simulated CPU: its clock in cycles and the interrupt/preemption state the kernel code manipulates.

Model code *charges* costs to the CPU it runs on. State changes happen between charges, so a charge is where
a pending interrupt may be delivered: the CPU only keeps ``next_event``, the earliest clock at which its
interrupt controller (``benchframe.hw.irq.Interrupts``) must look at it; a charge that reaches it hands over
to the controller, and every change of the IRQ or preemption state asks the controller to look again
(``rearm``). Which interrupt may be delivered where is the controller's policy, not the CPU's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final, Protocol

from mypy_extensions import mypyc_attr

from benchframe.hw.frames import (
    ATOMIC,
    LOCAL_IRQ_DISABLE,
    LOCAL_IRQ_ENABLE,
    MIGRATE_DISABLE,
    MIGRATE_ENABLE,
    PREEMPT_DISABLE,
    PREEMPT_ENABLE,
)
from benchframe.hw.samples import Samples

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from benchframe.hw.costs import CostModel
    from benchframe.hw.frames import Frame, Site
    from benchframe.hw.irq import InterruptSource

# Execution contexts, innermost last (in_task(), in_serving_softirq(), in_hardirq(), in_nmi()).
TASK: Final = "task"
SOFTIRQ: Final = "softirq"
HARDIRQ: Final = "hardirq"
NMI: Final = "nmi"
CONTEXTS = (TASK, SOFTIRQ, HARDIRQ, NMI)

INF: Final = math.inf


class InterruptController(Protocol):
    """What a CPU asks of its interrupt controller (``benchframe.hw.irq.Interrupts``)."""

    charge_point: Callable[[CPU], None] | None

    def charge_interrupted(self, cpu: CPU, cycles: int) -> None: ...

    def rearm(self, cpu: CPU) -> None: ...

    def irqs_off(self, cpu: CPU) -> None: ...


@mypyc_attr(allow_interpreted_subclasses=True)  # benchframe.hw.perf subclasses it
class CPU:
    """One CPU. Counters here are raw; ``benchframe.metrics`` turns them into per-page figures."""

    __slots__ = (
        "id", "name", "node", "irq", "costs", "clock", "next_event", "irqs_on", "preempt_count",
        "migrate_disable_count", "context", "irqs_off_since", "irqs_off_windows", "irq_toggles",
        "atomics", "sources", "irq_latencies", "_irq_half", "_preempt_half",
        "_irq_disable_half", "preempt_rt", "waiting_for", "trace_irqflags",
    )

    def __init__(self, cpu_id: int, node: int, irq: InterruptController, costs: CostModel,
                 preempt_rt: bool = False, trace_irqflags: bool = False):
        self.id = cpu_id
        self.name = f"CPU{cpu_id}"
        self.node = node
        self.irq = irq
        self.costs = costs
        self.preempt_rt = preempt_rt
        self.clock = 0
        self.next_event: float = INF  # earliest clock at which the interrupt controller must look at this CPU
        self.irqs_on = True
        self.preempt_count = 0
        self.migrate_disable_count = 0
        self.context = TASK
        self.irqs_off_since = 0
        self.irqs_off_windows = Samples()  # cycles of each local_irq_save/disable .. restore/enable
        self.irq_toggles = 0  # IRQ disable transitions (each one pairs with an enable)
        self.atomics = 0
        self.sources: list[InterruptSource] = []  # the interrupt lines that target this CPU
        self.irq_latencies = Samples()  # arrival -> handler start, cycles, per delivered hardirq
        # CONFIG_TRACE_IRQFLAGS: trace_hardirqs_off()/on() around every IRQ state change
        trace = costs.trace_irqflags if trace_irqflags else 0
        self.trace_irqflags = trace
        save, restore = costs.half("irq_save_restore")
        self._irq_half = (save + trace, restore + trace)
        disable, enable = costs.half("irq_disable_enable")
        self._irq_disable_half = (disable + trace, enable + trace)
        self._preempt_half = costs.half("preempt_disable_enable")
        self.waiting_for: object = None  # the lock this CPU is blocked on, if any

    @property
    def irq_half(self) -> tuple[int, int]:
        """The cycles of ``local_irq_save()`` and of ``local_irq_restore()`` (with IRQ-flags tracing)."""
        return self._irq_half

    @property
    def preempt_half(self) -> tuple[int, int]:
        """The cycles of ``preempt_disable()`` (and ``migrate_disable()``) and of ``preempt_enable()``."""
        return self._preempt_half

    def reset_counters(self) -> None:
        """Forget what was counted so far (after a warm-up): IRQs-off windows, latencies, toggles, atomics."""
        self.irqs_off_windows.clear()
        self.irq_latencies.clear()
        self.irq_toggles = self.atomics = 0

    def __repr__(self) -> str:
        return f"<CPU{self.id} clock={self.clock} {self.context} irqs={'on' if self.irqs_on else 'off'}>"

    # -- time ----------------------------------------------------------------------------------------
    def charge(self, cycles: int, site: Site | None = None) -> None:
        """Spend ``cycles`` on this CPU. An interrupt that becomes deliverable during them is delivered at its
        arrival time (the interrupted code resumes afterwards), so latency is exact while IRQs are enabled.
        ``site`` says where the cycles go when attribution is on (``benchframe.hw.perf``); here it is unused."""
        clock = self.clock + cycles
        if clock < self.next_event:
            self.clock = clock
        else:
            self.irq.charge_interrupted(self, cycles)

    def atomic(self, cycles: int | None = None, site: Site = ATOMIC) -> None:
        """Charge one LOCK-prefixed atomic (counted in ``atomics``)."""
        self.atomics += 1
        self.charge(self.costs.atomic_rmw if cycles is None else cycles, site)

    # -- attribution (benchframe.hw.perf): nothing to do unless it is on -------------------------------------
    def account(self, cycles: int, site: Site | None = None) -> None:
        """Cycles this CPU's clock advanced without a charge (it waited for a lock another CPU held)."""

    def frame_push(self, frames: Iterable[Frame]) -> None:
        """Frames that run on top of the current stack (an interrupt handler's) until ``frame_pop``."""

    def frame_pop(self, n: int = 1) -> None:
        """Drop the ``n`` frames ``frame_push`` pushed last."""

    # -- interrupt state -----------------------------------------------------------------------------
    def local_irq_save(self) -> bool:
        """``local_irq_save(flags)``: returns the previous IRQ-enabled state as ``flags``."""
        cycles = self._irq_half[0]
        clock = self.clock + cycles  # self.charge(cycles), inlined: this runs twice per page
        if clock < self.next_event:
            self.clock = clock
        else:
            self.irq.charge_interrupted(self, cycles)
        flags = self.irqs_on
        if flags:
            self.irqs_on = False
            self.irqs_off_since = self.clock
            self.irq_toggles += 1
            if self.sources or self.irq.charge_point is not None:  # nothing else to look at (the hot case)
                self.irq.irqs_off(self)
        return flags

    def local_irq_restore(self, flags: bool) -> None:
        cycles = self._irq_half[1]
        clock = self.clock + cycles  # self.charge(cycles), inlined
        if clock < self.next_event:
            self.clock = clock
        else:
            self.irq.charge_interrupted(self, cycles)
        if flags and not self.irqs_on:
            self.irqs_on = True
            self.irqs_off_windows.append(self.clock - self.irqs_off_since)
            if self.sources or self.irq.charge_point is not None:
                self.irq.rearm(self)

    def local_irq_disable(self) -> None:
        self.charge(self._irq_disable_half[0], LOCAL_IRQ_DISABLE)
        if self.irqs_on:
            self.irqs_on = False
            self.irqs_off_since = self.clock
            self.irq_toggles += 1
            self.irq.irqs_off(self)

    def local_irq_enable(self) -> None:
        self.charge(self._irq_disable_half[1], LOCAL_IRQ_ENABLE)
        if not self.irqs_on:
            self.irqs_on = True
            self.irqs_off_windows.append(self.clock - self.irqs_off_since)
            self.irq.rearm(self)

    def preempt_disable(self) -> None:
        self.charge(self._preempt_half[0], PREEMPT_DISABLE)
        self.preempt_count += 1

    def preempt_enable(self) -> None:
        self.preempt_count -= 1
        self.charge(self._preempt_half[1], PREEMPT_ENABLE)
        if self.preempt_count == 0 and self.preempt_rt:
            self.irq.rearm(self)  # a threaded handler may now preempt

    def migrate_disable(self) -> None:
        # migrate_disable() is a per-task counter increment: cheaper than preempt_disable (kf §3.3).
        self.charge(self._preempt_half[0], MIGRATE_DISABLE)
        self.migrate_disable_count += 1

    def migrate_enable(self) -> None:
        self.migrate_disable_count -= 1
        self.charge(self._preempt_half[1], MIGRATE_ENABLE)

    # -- context queries, as in include/linux/preempt.h ----------------------------------------------
    def in_nmi(self) -> bool:
        return self.context == NMI

    def in_interrupt(self) -> bool:
        return self.context != TASK

    def in_task(self) -> bool:
        return self.context == TASK
