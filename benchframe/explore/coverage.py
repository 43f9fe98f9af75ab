"""What each exploration covered and what it did not, in the words a verdict prints them with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.explore.scenarios import OPERATIONS, SMP_ZONE_PAGES, ZONE_PAGES
from benchframe.workloads.adversary import MOVES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchframe.workloads.adversary import Move


def _ops() -> str:
    return f"{len(OPERATIONS)} task operations ({'; '.join(op[0] for op in OPERATIONS)})"


def _moves(moves: Sequence[Move]) -> str:
    return f"{len(moves)} moves ({', '.join(m.name for m in moves)})"


def _scope(pages: int) -> str:
    return (f"one Normal zone of {pages} pages (the design's pcp batch and high for it), order-0 pages, "
            "GFP_ATOMIC")


def interrupts(context: str, points: int, runs: int, windowed: bool, rt: bool) -> tuple[list[str], list[str]]:
    kind = "NMI" if context == "nmi" else "hardirq"
    delivery = ("each charge point of an IRQs-off window stands for the window (the IRQ is delivered where IRQs "
                "come back on)" if windowed else "every charge point run")
    if rt and context == "irq":
        delivery += "; on PREEMPT_RT the handler thread waits while the task holds a sleeping lock"
    covered = [f"{_ops()}, {points} charge points in all; {runs} runs ({delivery})",
               f"handler: {_moves(MOVES)}, sized from the pcp list where the handler runs; duplicates run once",
               f"one {kind} per interleaving; {_scope(ZONE_PAGES)}"]
    not_covered = ["an interrupt inside the handler, or two interrupts in one operation",
                   "softirq handlers as such (they run at the points a hardirq does, with IRQs on: a hardirq "
                   "nested in one is not tried)",
                   "orders above 0, other zones and migrate types, allocations that reclaim"]
    if context == "irq":
        not_covered.append("NMIs (context nmi), other CPUs (smp), preemption (preempt)")
    return covered, not_covered


def preempt(points: int, migratable: int, runs: int, moves: Sequence[Move]) -> tuple[list[str], list[str]]:
    covered = [f"{_ops()}; {points} charge points where the task may be preempted ({migratable} where it may also "
               f"migrate); {runs} runs",
               f"the preempting task on the same CPU: {_moves(moves)}, sized from the pcp list it finds; then the "
               "task resumes on its CPU, or on the other CPU where migration is allowed",
               f"one preemption per interleaving; two CPUs; {_scope(ZONE_PAGES)}"]
    not_covered = ["preemption of the preempting task, or a second preemption of the task",
                   "other tasks running on the CPU the task migrated from while it finishes elsewhere",
                   "PREEMPT_RT: a migrate-disabled section is treated as holding a sleeping lock (the preempting "
                   "task runs after it)",
                   "orders above 0, other zones and migrate types"]
    return covered, not_covered


def smp(runs: int, max_visible: int) -> tuple[list[str], list[str]]:
    covered = [f"{_ops()} on CPU0 x {_moves(MOVES)} on CPU1 (sized from CPU1's pcp list)",
               f"{runs} schedules: CPU1 started after each visible (shared) access of CPU0, CPU0 resumed after each "
               f"of CPU1's; preemption bound 2; up to {max_visible} visible accesses per CPU",
               "every access checked: lost updates (NR_FREE_PAGES, pcp counts), free lists without zone->lock, "
               "NR_FREE_PAGES with IRQs on and without zone->lock, pcp lists outside their CPU's section",
               f"shared state: zone->lock, free lists, NR_FREE_PAGES, pcp lists and counts, every Engine.sync "
               f"point a design declares; {_scope(SMP_ZONE_PAGES)}"]
    not_covered = ["three or more CPUs, or more than two preemptions",
                   "interrupts while the two CPUs run (contexts irq, nmi)",
                   "weak memory ordering: the model is sequentially consistent",
                   "a change of a pcp list by its own CPU is invisible unless another CPU touches it"]
    return covered, not_covered


__all__ = ["interrupts", "preempt", "smp"]
