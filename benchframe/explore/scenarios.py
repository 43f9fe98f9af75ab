"""What ``benchframe explore`` runs: a task's operations on a small one-CPU kernel, and the handler scripts of
the interrupt raised in the middle of them, all driven through the shared harness
(``benchframe.workloads.context``)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING

from benchframe.hw.topology import Topology
from benchframe.mm.page import GFP_ATOMIC
from benchframe.workloads.context import Harness

if TYPE_CHECKING:
    from benchframe.hw.irq import Interrupts
    from benchframe.kconfig import KernelConfig
    from benchframe.registry import Registry

ZONE_PAGES = 65536  # small enough to check invariants after every interleaving, big enough for batch 15


class Scenario:
    """One kernel with one design on ``cpus`` CPUs (the task on CPU0): the task's pages, the pages the handler
    may free, and the shared-harness caller both allocate through (in the design's own shape)."""

    def __init__(self, registry: Registry, spec: str, config: KernelConfig, irq_class: type[Interrupts],
                 cpus: int = 1):
        design, options = registry.design_spec(spec)
        self.design = design
        self.costs = registry.cost_model(None)
        self.harness = Harness(design, options, self.costs, config,
                               Topology.uma(cpus=cpus, normal_pages=ZONE_PAGES), registry, irq_class)
        self.machine = self.harness.machine
        self.kernel = self.harness.kernel
        self.cpu = self.machine.cpus[0]
        self.caller = self.harness.caller(self.cpu)
        self.spare: list[int] = []  # pages the "free" handler scripts free
        self.task_pages: list[int] = []  # pages the task's free operations free

    def alloc(self, n: int) -> list[int]:
        return self.caller.alloc(GFP_ATOMIC, n)

    def free(self, pages: list[int], bulk: bool = False) -> None:
        if bulk:
            self.caller.free_pages(list(pages))
        else:
            for p in pages:
                self.caller.free(p)

    def pcp_pages(self) -> int:
        return self.kernel.zones[0].pcp[self.cpu.id].count

    def on(self, cpu: int) -> Scenario:
        """The same scenario seen from another CPU: its own caller, pages and spare pages."""
        other = copy.copy(self)
        other.cpu = self.machine.cpus[cpu]
        other.caller = self.harness.caller(other.cpu)
        other.spare = []
        other.task_pages = []
        return other

    def problems(self) -> list[str]:
        """Every violation recorded so far, then the invariants (a raising check is itself a finding)."""
        out = list(self.kernel.violations)
        errors: list[str] = []
        out += self.harness.invariant_problems(errors)
        return out + errors

    def warm(self, pcp: bool) -> None:
        """Leave pages on the pcp list (``pcp``) or an empty pcp list the operation has to refill, and two
        pages for the "free" handler scripts."""
        if pcp:
            self.free(self.alloc(20))
        self.spare = self.alloc(2)
        if not pcp and self.pcp_pages():
            self.alloc(self.pcp_pages())


Operation = tuple[str, bool, Callable[[Scenario], str]]


def _alloc8(s: Scenario) -> str:
    return f"returned {len(s.alloc(8))} pages"


def _free1(s: Scenario) -> str:
    s.free([s.task_pages[0]])
    return "freed"


def _free_bulk4(s: Scenario) -> str:
    s.free(s.task_pages[:4], bulk=True)
    return "freed"


# (name, warm pcp list?, what the task does); simplest first
OPERATIONS: list[Operation] = [
    ("alloc_bulk(8) from a warm pcp list", True, _alloc8),
    ("alloc_bulk(8) that refills the pcp list", False, _alloc8),
    ("free one page", True, _free1),
    ("free_bulk(4)", True, _free_bulk4),
]


def _pfns(pages: list[int]) -> str:
    return "[" + ", ".join(f"pfn {p}" for p in pages) + "]"


def _handler_alloc1(s: Scenario) -> str:
    got = s.alloc(1)
    return f"allocates 1 page -> {_pfns(got)}"


def _handler_alloc2_free1(s: Scenario) -> str:
    got = s.alloc(2)
    if got:
        s.free(got[:1])
    return f"allocates 2 pages -> {_pfns(got)}, frees {_pfns(got[:1])}"


def _handler_free1(s: Scenario) -> str:
    page = s.spare[:1]
    s.spare = s.spare[1:]
    s.free(page)
    return f"frees {_pfns(page)}"


def _handler_bulk4(s: Scenario) -> str:
    got = s.alloc(4)
    return f"alloc_bulk(4) -> {_pfns(got)}"


def _handler_bulk64(s: Scenario) -> str:
    got = s.alloc(REFILL)
    return f"alloc_bulk({REFILL}) -> {len(got)} pages, {_pfns(got[:2])[:-1]}, ...]"


REFILL = 64  # a page_pool refill (PP_ALLOC_CACHE_REFILL): more than the warm pcp list holds

# simplest first: the first failing script is the one reported
HANDLERS: list[tuple[str, Callable[[Scenario], str]]] = [
    ("alloc 1", _handler_alloc1),
    ("free 1", _handler_free1),
    ("alloc 2, free the first", _handler_alloc2_free1),
    ("alloc_bulk(4)", _handler_bulk4),
    (f"alloc_bulk({REFILL}): takes the whole pcp list", _handler_bulk64),
]
