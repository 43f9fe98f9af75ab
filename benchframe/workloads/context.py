"""What a workload programs against, and the one harness every driver of a design shares.

* ``Harness`` boots a simulated machine and kernel that run one design and checks the DESIGN §7 invariants,
  including the design's own (its plugins' ``benchframe_check_invariants`` hooks). Runs, ``benchframe
  explore`` and the conformance kit all drive a design through it.
* ``Caller`` is one kernel caller of the bulk API on one CPU (the page_pool, ``svc_alloc_arg()``, a
  benchmark loop): it pays for the conversion a real caller would make between the design's shape and its
  own (walking a returned list into an array, linking array entries into a list), keeps the pages in the
  caller's hands, adds what it spent to the ``Measurement``, and records a violation when a call returns a
  wrong count, hands a page out twice or leaves the IRQ/preempt state unbalanced.
* ``RunContext`` is what a workload's ``run(ctx)`` gets: a ``Harness`` with the workload's parameters, a
  seeded RNG and ``record()`` for the workload's own metrics.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.hw.irq import Interrupts
from benchframe.hw.machine import Machine
from benchframe.metrics import METRICS, Measurement
from benchframe.mm.bulk import ARRAY, LIST
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import PAGE_ALLOCATED
from benchframe.mm.page_alloc import Kernel

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.hw.costs import CostModel
    from benchframe.hw.cpu import CPU
    from benchframe.hw.topology import Topology
    from benchframe.kconfig import KernelConfig
    from benchframe.records import Design, Workload
    from benchframe.registry import Registry


class Harness:
    """A simulated machine and kernel running one design, the pages its callers hold, and the checks.

    ``registry`` (optional) supplies the design's own invariant checks; ``irq_class`` the interrupt delivery
    policy (``benchframe explore`` passes its own)."""

    def __init__(self, design: Design, options: Mapping[str, Any], costs: CostModel, config: KernelConfig,
                 topology: Topology, registry: Registry | None = None,
                 irq_class: type[Interrupts] = Interrupts):
        self.design = design
        self.costs = costs
        self.config = config
        self.registry = registry
        self.machine = Machine(costs, topology, config.preempt_rt, irq_class)
        self.kernel = Kernel(self.machine, config, design.factory.pcp_ops)
        self.impl = design.factory(self.kernel, **options)
        self.measurement = Measurement()

    @property
    def cpus(self) -> list[CPU]:
        return self.machine.cpus

    @property
    def held(self) -> set[int]:
        """The pages in callers' hands."""
        return self.measurement.held

    def caller(self, cpu: CPU | int = 0) -> Caller:
        """A caller of the design on ``cpu`` (a CPU or its id)."""
        return Caller(self, self.machine.cpus[cpu] if isinstance(cpu, int) else cpu)

    def invariant_problems(self, hook_errors: list[str] | None = None) -> list[str]:
        """The DESIGN §7 invariants of the kernel and the pages held, then the design's own checks. A raising
        check is named: ``PluginHookError``, or a line appended to ``hook_errors`` when that is a list."""
        problems = check_kernel(self.kernel, self.held)
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
        for zone in self.kernel.zones:
            zone.lock.reset_stats()
        self.kernel.stat.reset()


class Caller:
    """One kernel caller of the bulk API on one CPU (see the module docstring)."""

    def __init__(self, harness: Harness, cpu: CPU):
        self.harness = harness
        self.cpu = cpu
        self.impl = harness.impl
        self.kernel = harness.kernel
        self.design = harness.design
        self.shape = harness.design.shape
        self.measurement = harness.measurement
        costs = harness.costs
        self._c_walk = costs.list_walk_page
        self._c_store = costs.array_store
        self._c_link = costs.list_add
        self._c_scan = costs.array_scan_slot

    # -- allocation ----------------------------------------------------------------------------------
    def alloc(self, gfp: int, nr_pages: int) -> list[int]:
        """One bulk call in the design's own shape (no conversion): the pages it returned."""
        if self.shape == LIST:
            lst: list[int] = []
            self.alloc_list(gfp, nr_pages, lst)
            return lst
        arr: list[int | None] = [None] * max(nr_pages, 0)
        self.alloc_array(gfp, arr, nr_pages)
        return [p for p in arr if p is not None]

    def alloc_array(self, gfp: int, array: list[int | None], nr_pages: int | None = None) -> int:
        """Fill the NULL slots among ``array[:nr_pages]``; returns the number of populated slots."""
        cpu = self.cpu
        size = len(array) if nr_pages is None else nr_pages
        if size > len(array):
            raise BenchframeError(f"request for {size} pages exceeds the array size {len(array)}")
        before = self._enter()
        holes = [i for i in range(size) if array[i] is None]
        new: list[int]
        if self.shape == ARRAY:
            n = self.impl.alloc_bulk(cpu, gfp, size, page_array=array)
            self._check_count(n, max(size, 0), "alloc_bulk(array)")
            new = [p for p in (array[i] for i in holes) if p is not None]
        else:
            cpu.charge(self._c_scan * size)  # the caller looks for the NULL slots itself
            lst: list[int] = []
            got = self.impl.alloc_bulk(cpu, gfp, len(holes), page_list=lst) if holes else 0
            self._check_count(got, len(holes), "alloc_bulk(list)")
            if got != len(lst):
                self.kernel.violation(f"{self.design.name}: returned {got} but put {len(lst)} pages on the list")
            per_page = self._c_walk + self._c_store
            for i, page in zip(holes, lst):
                array[i] = page
                cpu.charge(per_page)
            new = lst
            n = size - len(holes) + len(lst)
        self._leave(before, new)
        return n

    def alloc_list(self, gfp: int, nr_pages: int, page_list: list[int]) -> int:
        """Allocate ``nr_pages`` onto ``page_list``; returns the number allocated."""
        cpu = self.cpu
        before = self._enter()
        start = len(page_list)
        if self.shape == LIST:
            n = self.impl.alloc_bulk(cpu, gfp, nr_pages, page_list=page_list)
            new = page_list[start:]
        else:
            array: list[int | None] = [None] * max(nr_pages, 0)
            n = self.impl.alloc_bulk(cpu, gfp, nr_pages, page_array=array)
            new = [p for p in array if p is not None]
            link = self._c_walk + self._c_link  # read the slot, list_add(&page->lru)
            for page in new:
                page_list.append(page)
                cpu.charge(link)
        self._check_count(n, max(nr_pages, 0), "alloc_bulk")
        if n != len(new):
            self.kernel.violation(f"{self.design.name}: returned {n} but allocated {len(new)} pages")
        self._leave(before, new)
        return n

    # -- freeing -------------------------------------------------------------------------------------
    def free(self, page: int) -> None:
        """``__free_page()`` of a page this caller holds."""
        m = self.measurement
        cpu = self.cpu
        if page not in m.held:
            self.kernel.violation(f"caller frees pfn {page} it does not hold")
            return
        m.held.discard(page)
        t0 = cpu.clock
        self.impl.free_page(cpu, page)
        m.free_cycles += cpu.clock - t0
        m.pages_freed += 1

    def free_pages(self, pages: list[int]) -> None:
        """Free pages this caller holds in one go (the design's ``free_bulk``)."""
        m = self.measurement
        cpu = self.cpu
        held = m.held
        for page in pages:
            if page not in held:
                self.kernel.violation(f"caller frees pfn {page} it does not hold")
                return
            held.discard(page)
        t0 = cpu.clock
        self.impl.free_bulk(cpu, pages)
        m.free_cycles += cpu.clock - t0
        m.pages_freed += len(pages)

    # -- checks --------------------------------------------------------------------------------------
    def _enter(self) -> tuple[int, bool, int, int, str]:
        cpu = self.cpu
        return (cpu.clock, cpu.irqs_on, cpu.preempt_count, cpu.migrate_disable_count, cpu.context)

    def _leave(self, before: tuple[int, bool, int, int, str], new: list[int]) -> None:
        m = self.measurement
        cpu = self.cpu
        k = self.kernel
        m.alloc_cycles += cpu.clock - before[0]
        m.alloc_calls += 1
        if (cpu.irqs_on, cpu.preempt_count, cpu.migrate_disable_count, cpu.context) != before[1:]:
            k.violation(f"{self.design.name}: IRQ/preempt state not balanced by the call "
                        f"(irqs_on {before[1]}->{cpu.irqs_on}, preempt {before[2]}->{cpu.preempt_count}, "
                        f"migrate_disable {before[3]}->{cpu.migrate_disable_count})")
        held = m.held
        state = k.mem.state
        for page in new:
            if page in held:
                k.violation(f"page handed out twice: pfn {page} is already in the caller's hands")
            elif state[page] != PAGE_ALLOCATED:
                k.violation(f"pfn {page} handed to the caller while still on the free lists")
            held.add(page)
        m.pages_allocated += len(new)

    def _check_count(self, n: object, requested: int, what: str) -> None:
        if not isinstance(n, int) or n < 0 or n > requested:
            self.kernel.violation(f"{self.design.name}: {what} returned {n!r} for {requested} pages")


class RunContext(Harness):
    """What a workload's ``run(ctx)`` works with: the booted machine and kernel (``ctx.machine``,
    ``ctx.kernel``, ``ctx.cpus``), the design (``ctx.impl``), its parameters (``ctx.params``), a seeded RNG
    (``ctx.rng``), callers (``ctx.caller(cpu)``), what they measured (``ctx.measurement``) and ``record()``
    for the workload's own metrics."""

    def __init__(self, design: Design, options: Mapping[str, Any], workload: Workload, params: dict[str, Any],
                 seed: int, costs: CostModel, config: KernelConfig, topology: Topology,
                 registry: Registry | None = None):
        super().__init__(design, options, costs, config, topology, registry)
        self.workload = workload
        self.params = params
        self.seed = seed
        self.rng = random.Random(seed)
        self.extra: dict[str, Any] = {}

    def record(self, name: str, value: Any) -> None:
        """Record one of the workload's own metrics (declared in ``Workload.metrics``)."""
        if name not in self.workload.metrics and name not in METRICS:
            raise BenchframeError(f"workload {self.workload.name} records undeclared metric {name!r}")
        self.extra[name] = value
