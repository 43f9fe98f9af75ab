"""``Harness``: the one harness every driver of a design shares.

It boots a simulated machine and kernel that run one design and checks the DESIGN §7 invariants, including the
design's own (its plugins' ``benchframe_check_invariants`` hooks). Runs, ``benchframe explore`` and the
conformance kit all drive a design through it; its ``caller()`` is a ``benchframe.workloads.caller.Caller``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.hw.irq import Interrupts
from benchframe.hw.machine import Machine
from benchframe.hw.perf import Profile
from benchframe.metrics import Measurement
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page_alloc import Kernel
from benchframe.workloads.caller import Caller

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.hw.costs import CostModel
    from benchframe.hw.cpu import CPU
    from benchframe.hw.topology import Topology
    from benchframe.kconfig import KernelConfig
    from benchframe.records import Design
    from benchframe.registry import Registry


class Harness:
    """A simulated machine and kernel running one design, the pages its callers hold, and the checks.

    ``registry`` (optional) supplies the design's own invariant checks; ``irq_class`` the interrupt delivery
    policy (``benchframe explore`` passes its own); ``perf``: attribute every cycle to the functions the model
    mirrors (``benchframe.hw.perf``; ``self.perf`` holds the profile)."""

    def __init__(self, design: Design, options: Mapping[str, Any], costs: CostModel, config: KernelConfig,
                 topology: Topology, registry: Registry | None = None,
                 irq_class: type[Interrupts] = Interrupts, perf: bool = False):
        problem = design.factory.kernel_problem(config.version)
        if problem:
            raise BenchframeError(f"design {design.name}: {problem}")
        self.design = design
        self.costs = costs
        self.config = config
        self.registry = registry
        self.perf = Profile() if perf else None
        self.machine = machine = Machine(costs, topology, config.preempt_rt, irq_class, self.perf,
                                         config.debug_options)
        self.kernel = machine.instrument(Kernel)(machine, config, design.factory.pcp_ops)
        self.impl = machine.instrument(design.factory)(self.kernel, **options)
        self.measurement = Measurement()
        self._clocks = [0] * len(machine.cpus)  # each CPU's clock when measuring began

    @property
    def cpus(self) -> list[CPU]:
        return self.machine.cpus

    @property
    def held(self) -> set[int]:
        """The pages in callers' hands."""
        return self.measurement.held

    def caller(self, cpu: CPU | int = 0, preferred_nid: int | None = None,
               frames: tuple[str, str] | None = None) -> Caller:
        """A caller of the design on ``cpu`` (a CPU or its id); ``preferred_nid``: it uses the ``_node`` API
        variants (``alloc_pages_node()``, ``alloc_pages_bulk_array_node()``) for that node; ``frames``: the
        caller's functions that allocate and that free, as attribution shows them (default: ``[caller]``)."""
        return self.machine.instrument(Caller)(self, self.machine.cpus[cpu] if isinstance(cpu, int) else cpu,
                                               preferred_nid, frames)

    @property
    def cycles(self) -> int:
        """Cycles every CPU's clock advanced since measuring began (what a profile's frames add up to)."""
        return sum(cpu.clock for cpu in self.machine.cpus) - sum(self._clocks)

    def invariant_problems(self, hook_errors: list[str] | None = None) -> list[str]:
        """The DESIGN §7 invariants of the kernel and the pages held, then the design's own checks. A raising
        check is named: ``PluginHookError``, or a line appended to ``hook_errors`` when that is a list."""
        problems = check_kernel(self.kernel, self.held, self.measurement.held_order)
        if self.registry is not None:
            for extra in self.registry.call("benchframe_check_invariants", errors=hook_errors,
                                            kernel=self.kernel, design=self.design):
                problems += [str(p) for p in extra]
        return problems

    def reset_measurement(self) -> None:
        """Forget everything measured so far (call after a warm-up): per-page counters, IRQs-off windows,
        interrupt latencies, lock statistics and event counters. Pages and lists stay as they are."""
        self.measurement.reset()
        for cpu in self.machine.cpus:
            cpu.reset_counters()
        self._clocks = [cpu.clock for cpu in self.machine.cpus]
        if self.perf is not None:
            self.perf.reset()
        for zone in self.kernel.zones:
            zone.lock.reset_stats()
        self.kernel.stat.reset()
