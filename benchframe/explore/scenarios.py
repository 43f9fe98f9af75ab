"""What ``benchframe explore`` runs: a task's operations on a small kernel, and the adversaries that hit them
(an interrupt handler, a task that preempts, a second CPU), all driven through the shared harness
(``benchframe.workloads.context``). The adversaries' sizes come from the state they find
(``benchframe.workloads.adversary``)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING

from benchframe.hw.topology import MAX_ORDER, Topology
from benchframe.mm.page import GFP_ATOMIC, PAGE_ALLOCATED
from benchframe.workloads.adversary import ALLOC, FREE, MOVES, Move, PcpState, spare_pages
from benchframe.workloads.context import Harness

if TYPE_CHECKING:
    from benchframe.hw.irq import Interrupts
    from benchframe.kconfig import KernelConfig
    from benchframe.mm.pcp import PerCpuPages
    from benchframe.registry import Registry

#: one CPU and its interrupts (and preemption): pcp batch 3, high 18 (as the conformance kit's), so refills and
#: drains come often and cheaply: the search runs each operation once per charge point and handler
ZONE_PAGES = 16384
#: two CPUs: batch 15, high 90 -- the search interleaves every zone->lock section of each CPU, and a small batch
#: would multiply them (a 64-page allocation refills 21 times with batch 3, 4 times with 15)
SMP_ZONE_PAGES = 65536
WARM_PAGES = 20  # pages a warm pcp list is left with (freed back after a bulk allocation)
WARM, EMPTY, NEAR_HIGH = "warm", "empty", "near high"  # the pcp list an operation starts from


class Scenario:
    """One kernel with one design on ``cpus`` CPUs (the task on CPU0): the task's pages, the pages an adversary
    may free, and the shared-harness caller both allocate through (in the design's own shape)."""

    def __init__(self, registry: Registry, spec: str, config: KernelConfig, irq_class: type[Interrupts],
                 cpus: int = 1, pages: int = ZONE_PAGES):
        design, options = registry.design_spec(spec)
        self.design = design
        self.costs = registry.cost_model(None)
        self.harness = Harness(design, options, self.costs, config,
                               Topology.uma(cpus=cpus, normal_pages=pages), registry, irq_class)
        self.machine = self.harness.machine
        self.kernel = self.harness.kernel
        self.cpu = self.machine.cpus[0]
        self.caller = self.harness.caller(self.cpu)
        self.spare: list[int] = []  # pages the adversary's free moves free
        self.task_pages: list[int] = []  # pages the task's free operations free

    def alloc(self, n: int) -> list[int]:
        return self.caller.alloc(GFP_ATOMIC, n)

    def free(self, pages: list[int], bulk: bool = False) -> None:
        if bulk:
            self.caller.free_pages(list(pages))
        else:
            for p in pages:
                self.caller.free(p)

    @property
    def pcp(self) -> PerCpuPages:
        """This CPU's pcp of the zone the allocations come from."""
        return self.kernel.zones[0].pcp[self.cpu.id]

    def pcp_pages(self) -> int:
        return self.pcp.count

    def on(self, cpu: int) -> Scenario:
        """The same scenario seen from another CPU: its own caller, pages and spare pages."""
        other = copy.copy(self)
        other.cpu = self.machine.cpus[cpu]
        other.caller = self.harness.caller(other.cpu)
        other.spare = []
        other.task_pages = []
        return other

    def inputs(self) -> tuple[object, ...]:
        """What the scenario reads and never changes (a copy of it shares them: ``template.Prepared``): the
        registry, the design, the cost model, the kernel config, the topology and the prices."""
        k = self.kernel
        return self.harness.registry, self.design, self.costs, k.config, self.machine.topology, k.prices

    def problems(self) -> list[str]:
        """Every violation recorded so far, then the invariants (a raising check is itself a finding)."""
        out = list(self.kernel.violations)
        errors: list[str] = []
        out += self.harness.invariant_problems(errors)
        return out + errors

    def warm(self, pcp: str = WARM) -> None:
        """Hold the spare pages an adversary may free (up to ``pcp->high`` of them, taken as one block from the
        buddy lists so the pcp list is left alone), then leave the pcp list ``WARM`` (some pages on it), ``EMPTY``
        (the operation has to refill it) or ``NEAR_HIGH`` (two below ``pcp->high``: freeing more drains it)."""
        self.spare = self.split_block(spare_pages(self.pcp.high))
        if pcp == WARM:
            self.free(self.alloc(WARM_PAGES))
        elif pcp == EMPTY and self.pcp_pages():
            self.alloc(self.pcp_pages())
        elif pcp == NEAR_HIGH:
            self.free(self.alloc(WARM_PAGES))
            short = self.pcp.high - 2 - self.pcp_pages()
            if short > 0:  # pages of the block's far end: the adversary's spares are taken from the front
                self.spare, fill = self.spare[:-short], self.spare[-short:]
                self.free(fill, bulk=True)
            elif short < 0:
                self.alloc(-short)

    def split_block(self, n: int) -> list[int]:
        """``alloc_pages(order)`` + ``split_page()``: at least ``n`` order-0 pages held by this caller, from one
        block of the buddy lists (no pcp list is touched)."""
        order = min(max(n - 1, 0).bit_length(), MAX_ORDER - 1)
        head = self.caller.alloc_pages(GFP_ATOMIC, order)
        if head is None:
            return []
        m = self.harness.measurement
        del m.held_order[head]
        mem = self.kernel.mem
        pages = list(range(head, head + (1 << order)))
        for p in pages:  # split_page(): every subpage an order-0 page with its own refcount
            mem.state[p] = PAGE_ALLOCATED
            mem.order[p] = 0
            mem.cpu[p] = self.cpu.id
        m.held.update(pages)
        return pages

    def state(self) -> PcpState:
        return PcpState.of(self.pcp)

    def tail(self) -> str:
        """After the interleaving: allocate what is left on the pcp list -- a list the other context left
        corrupted breaks here, where the invariants alone would only see its consequences. (Freeing everything
        again would add nothing the page census does not check.)"""
        rest = self.alloc(max(self.pcp_pages(), 1))
        return f"task allocates the {len(rest)} pages left on its pcp list"


def run_move(s: Scenario, move: Move) -> str:
    """An adversary's ``move`` on ``s``'s CPU, sized from the state it finds there; what it did, in words."""
    n = move.size(s.state())
    rule = f" ({move.rule} = {n})" if move.stateful else ""
    if move.kind == FREE:
        pages, s.spare = s.spare[:n], s.spare[n:]
        s.free(pages, bulk=n > 1)
        return f"frees {_pfns(pages)}{rule}"
    got = s.alloc(n)
    if move.kind == ALLOC:
        return f"alloc_bulk({n}){rule} -> {_pfns(got)}"
    if got:
        s.free(got[:1])
    return f"allocates {n} pages{rule} -> {_pfns(got)}, frees {_pfns(got[:1])}"


def _pfns(pages: list[int]) -> str:
    shown = ", ".join(f"pfn {p}" for p in pages[:3])
    return f"{len(pages)} pages [{shown}, ...]" if len(pages) > 3 else f"[{shown}]"


Operation = tuple[str, str, Callable[[Scenario], str]]


def _alloc8(s: Scenario) -> str:
    return f"returned {len(s.alloc(8))} pages"


def _free1(s: Scenario) -> str:
    s.free([s.task_pages[0]])
    return "freed"


def _free_bulk4(s: Scenario) -> str:
    s.free(s.task_pages[:4], bulk=True)
    return "freed"


# (name, the pcp list it starts from, what the task does); simplest first. Between them the task's own paths
# take pages off a list, refill it from the buddy lists (zone->lock), put one back, and drain it (zone->lock)
OPERATIONS: list[Operation] = [
    ("alloc_bulk(8) from a warm pcp list", WARM, _alloc8),
    ("alloc_bulk(8) that refills the pcp list", EMPTY, _alloc8),
    ("free one page", WARM, _free1),
    ("free_bulk(4) that drains the pcp list", NEAR_HIGH, _free_bulk4),
]


def prepare(s: Scenario, op: Operation) -> None:
    """The state ``op`` starts from on ``s``'s CPU: its pcp list, and the pages a free frees (held before the list
    is set, so that taking them does not change it)."""
    s.task_pages = s.split_block(4)[:4] if op[0].startswith("free") else []
    s.warm(op[1])


def task_start(registry: Registry, spec: str, config: KernelConfig, op: Operation, irq_class: type[Interrupts],
               cpus: int = 1) -> Scenario:
    """A scenario in the state ``op`` starts from on CPU0 (``prepare``); with two CPUs, CPU1's pcp list warm too
    (where a preempting task or a migrated one finds pages)."""
    s = Scenario(registry, spec, config, irq_class, cpus=cpus)
    prepare(s, op)
    if cpus > 1:
        s1 = s.on(1)
        s1.free(s1.alloc(WARM_PAGES))
    return s


__all__ = ["MOVES", "OPERATIONS", "SMP_ZONE_PAGES", "Operation", "Scenario", "WARM_PAGES", "ZONE_PAGES", "prepare",
           "run_move", "task_start"]
