"""The simulated machine: its CPUs (numbered node by node), their interrupt controller, the cost model, the
cache state of the memory the kernel lays out, and the scheduler that runs tasks on several CPUs in simulated
time."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from benchframe.engine import Engine
from benchframe.hw.cache import CacheModel
from benchframe.hw.cpu import CPU
from benchframe.hw.irq import Interrupts, InterruptSource
from benchframe.hw.perf import ProfilingCache, ProfilingCPU, instrumented

C = TypeVar("C", bound=type)

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.hw.costs import CostModel
    from benchframe.hw.perf import Profile
    from benchframe.hw.topology import Topology


class Machine:
    """CPUs of a ``Topology`` with one cost model, an interrupt controller and a scheduler.

    ``irq_class`` is the interrupt delivery policy (``benchframe explore`` passes its own). ``preempt_rt``
    makes interrupt handlers threads (``CONFIG_PREEMPT_RT``). ``perf``: attribute every cycle to the
    functions the model mirrors (``benchframe.hw.perf``) into that profile."""

    def __init__(self, costs: CostModel, topology: Topology, preempt_rt: bool = False,
                 irq_class: type[Interrupts] = Interrupts, perf: Profile | None = None,
                 debug: frozenset[str] = frozenset()):
        self.costs = costs
        self.topology = topology
        self.preempt_rt = preempt_rt
        #: debugging that makes the hardware-level primitives dearer (``benchframe.kconfig.DEBUG_OPTIONS``):
        #: lockdep hooks in every spin lock, IRQ-flags tracing in every IRQ state change
        self.lockdep = "LOCKDEP" in debug
        trace_irqflags = "TRACE_IRQFLAGS" in debug
        self.perf = perf
        self.engine = Engine()
        self.irq = irq_class(costs, preempt_rt)
        self.cpus: list[CPU] = []
        cpu_class = CPU if perf is None else ProfilingCPU
        for nid, node in enumerate(topology.nodes):
            for _ in range(node.cpus):
                cpu = cpu_class(len(self.cpus), nid, self.irq, costs, preempt_rt, trace_irqflags)
                if isinstance(cpu, ProfilingCPU) and perf is not None:
                    cpu.prof = perf
                self.cpus.append(cpu)
        self.cache: CacheModel | None = None

    def attach_memory(self, nr_pages: int, node_of_page: bytearray) -> CacheModel:
        """The memory map is laid out (``nr_pages`` struct pages, each page's node): its cache model."""
        cache_class = CacheModel if self.perf is None else ProfilingCache
        cache = cache_class(self.costs, nr_pages, node_of_page, [cpu.node for cpu in self.cpus])
        if self.perf is not None and isinstance(cache, ProfilingCache):
            self.perf.cache = cache
        self.cache = cache
        return cache

    def instrument(self, cls: C) -> C:
        """``cls`` as this machine runs it: with attribution on, the subclass whose ``@symbol`` methods push
        their frames (``benchframe.hw.perf.instrumented``); ``cls`` itself otherwise."""
        return cls if self.perf is None else instrumented(cls)

    def add_interrupt(self, cpu: CPU, source: InterruptSource) -> None:
        """Connect an interrupt source to ``cpu``."""
        self.irq.add(cpu, source)

    def run(self, tasks: dict[CPU, Callable[[CPU], None]]) -> None:
        """Run one task per CPU concurrently in simulated time (``Engine.run``)."""
        self.engine.run(tasks)

    def sync(self, cpu: CPU) -> None:
        """Before ``cpu`` touches state another CPU shares (``Engine.sync``)."""
        self.engine.sync(cpu)
