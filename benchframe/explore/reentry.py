"""An interrupt (``irq``) or NMI (``nmi``) at each charge point of each operation, its handler an adversary.

For each operation of a design (``scenarios.OPERATIONS``) the operation's charge points are counted once, then
it is re-run on a fresh kernel once per charge point, an interrupt raised at that point whose handler makes one
adversarial move on the same CPU through the same design (``benchframe.workloads.adversary.MOVES``: today's
fixed sizes and the sizes read from the pcp list the handler finds: its count, one more, one fewer, the batch,
enough frees to reach ``pcp->high``). A hardirq is delivered when the model's IRQ state allows it (deferred
while IRQs are disabled, as in the kernel); an NMI at once. After the operation the task keeps going briefly
(``Scenario.tail``) and the DESIGN §7 invariants are checked; a deadlock counts as a failure too.

A hardirq raised anywhere inside one IRQs-off window is delivered at the same place, where IRQs come back on, so
the run at the window's first charge point stands for all of its points (they count as explored;
``every_point=True`` runs them all, and a test checks the two searches agree). Two moves that come to the same
thing where the handler runs (``pcp->count`` is 4 and the fixed size is 4) run once; an allocation the handler
is refused, which changes nothing (an NMI), ends the run: the rest is the run without an interrupt. Runs go
without the trace; a failing one is run again with it (the runs are deterministic).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from benchframe.explore import coverage
from benchframe.explore.evidence import changes, model_files, model_frames, snapshot, stale, where
from benchframe.explore.outcome import failure, most_telling, reason_of
from benchframe.explore.result import SAFE, UNSAFE, ExploreResult
from benchframe.explore.scenarios import MOVES, OPERATIONS, Operation, Scenario, run_move, task_start
from benchframe.explore.template import Prepared
from benchframe.hw.cpu import CPU, NMI, TASK
from benchframe.hw.irq import IRQ, NMI_KIND, Interrupts, InterruptSource
from benchframe.workloads.adversary import ALLOC

if TYPE_CHECKING:
    from collections.abc import Callable, Container

    from benchframe.kconfig import KernelConfig
    from benchframe.registry import Registry
    from benchframe.workloads.adversary import Move


class ExploreInterrupts(Interrupts):
    """The delivery policy under exploration. On PREEMPT_RT the handler is a thread, and every handler script
    uses the allocator, so while the interrupted task holds a sleeping lock of it (``local_lock``/
    ``zone->lock``: migration disabled while held) the thread blocks on that lock and, by priority
    inheritance, runs once the task releases it. The nested model cannot block a handler, so it is delivered
    at that point instead of spinning; until then every charge point looks again."""

    def deliverable(self, cpu: CPU, src: InterruptSource) -> bool:
        if not super().deliverable(cpu, src):
            return False
        return not (self.preempt_rt and src.kind != NMI_KIND and cpu.context == TASK
                    and cpu.migrate_disable_count)

    def rearm(self, cpu: CPU) -> None:
        super().rearm(cpu)
        if cpu.context == TASK and self.preempt_rt and any(
                src.pending_since is not None and src.kind != NMI_KIND for src in cpu.sources):
            cpu.next_event = -math.inf


class Injector:
    """The charge-point hook: counts the task's charge points and, at the ``at``-th, calls ``inject``. It notes
    the IRQs-off window each point lies in (``windows``: the CPU's count of IRQ disables then, ``None`` while
    IRQs are on)."""

    def __init__(self, irq: Interrupts, at: float, inject: Callable[[CPU, int], None]):
        self.irq = irq
        self.at = at
        self.inject = inject
        self.points = 0
        self.windows: list[int | None] = []

    def __call__(self, cpu: CPU) -> None:
        self.points += 1
        self.windows.append(None if cpu.irqs_on else cpu.irq_toggles)
        if self.points >= self.at:
            self.irq.charge_point = None
            self.inject(cpu, self.points)

    def start(self, cpu: CPU) -> None:
        self.irq.charge_point = self
        self.irq.rearm(cpu)

    def stop(self, cpu: CPU) -> None:
        self.irq.charge_point = None
        self.irq.rearm(cpu)


class Duplicate(BaseException):
    """The handler's move comes to what another move already did at this point (or to nothing): the run ends
    here."""

    def __init__(self, size: tuple[str, int]):
        super().__init__(size)
        self.size = size


@dataclass
class Interleaving:
    """One run of an operation with an interrupt raised at one charge point, and what came of it."""

    scenario: Scenario
    charge_points: int
    refused: int
    problems: list[str]
    steps: list[str]
    windows: list[int | None] = field(default_factory=list)  # per charge point: its IRQs-off window
    duplicate: bool = False
    size: tuple[str, int] | None = None  # the handler's move where it ran: (kind, pages)


class _Injection:
    """The interrupt raised into one run: where it lands, what its handler does, the steps it adds (with
    ``trace``). ``tried``: the moves (kind, size) already run where this handler runs."""

    def __init__(self, s: Scenario, context: str, move: Move, steps: list[str], trace: bool,
                 tried: Container[tuple[str, int]]):
        self.s = s
        self.kind = NMI_KIND if context == "nmi" else IRQ
        self.context = context
        self.move = move
        self.steps = steps
        self.trace = trace
        self.tried = tried
        self.files = model_files(s.design) if trace else set()
        self.raised_at = 0
        self.before: dict[str, tuple[object, ...]] = {}
        self.size: tuple[str, int] | None = None

    def inject(self, cpu: CPU, point: int) -> None:
        """At the chosen charge point: note where and what the task may have read, raise the interrupt."""
        self.raised_at = cpu.clock
        if self.trace:
            self.before = snapshot(self.s.kernel)
            state = "IRQs on" if cpu.irqs_on else "IRQs off"
            label = "NMI" if self.kind == NMI_KIND else "IRQ"
            self.steps.append(f"charge point {point} (clock {cpu.clock}, {state}) in {where(self.files)}: "
                              f"an {label} arrives")
        self.s.machine.add_interrupt(cpu, InterruptSource.at(f"explore-{self.context}", [cpu.clock],
                                                             self.handler, self.kind))

    def handler(self, cpu: CPU) -> None:
        s = self.s
        self.size = size = (self.move.kind, self.move.size(s.state()))
        if size in self.tried or not size[1]:
            raise Duplicate(size)
        if not self.trace:
            if self.move.kind != ALLOC:
                run_move(s, self.move)
                return
            held, broken, before = len(s.harness.held), len(s.kernel.violations), snapshot(s.kernel)
            run_move(s, self.move)
            if (len(s.harness.held), len(s.kernel.violations)) == (held, broken) and snapshot(s.kernel) == before:
                raise Duplicate((self.move.kind, 0))  # refused, nothing changed: the run without an interrupt
            return
        start = cpu.clock
        late = start - self.raised_at - s.costs.half("irq_entry_exit")[0]
        who = "NMI" if cpu.context == NMI else "IRQ"
        if late <= 0:
            when = f"at once (clock {start})"
        elif s.machine.preempt_rt and cpu.context != NMI:
            when = (f"{late} cycles later: the handler thread blocked on the sleeping lock the task held and "
                    f"runs when the task releases it (clock {start})")
        else:
            when = f"{late} cycles later, when IRQs are enabled again (clock {start})"
        self.steps.append(f"{who} handler runs {when}: {self.move.name}")  # what it tried, should it not return
        self.steps[-1] = f"{who} handler runs {when}: {run_move(s, self.move)}"
        after = snapshot(s.kernel)
        changed = changes(self.before, after)
        if changed:
            self.steps.append(f"what the handler changed under the interrupted task: {changed}")
            old = stale(model_frames(self.files, inspect.currentframe(), below="_run_handler"), self.before, after,
                        "the task")
            if old:
                self.steps.append(f"stale in the interrupted task: {old}")


def run_interleaving(registry: Registry, spec: str, config: KernelConfig, op: Operation, move: Move,
                     context: str, inject_at: float, trace: bool = False, tried: Container[tuple[str, int]] = (),
                     begin: Prepared[Scenario] | None = None) -> Interleaving:
    """Run ``op`` on a fresh scenario (a copy of ``begin``, its start), raising an interrupt whose handler makes
    ``move`` at charge point ``inject_at`` (``math.inf``: never: count the points). ``trace``: record the steps.
    ``tried``: the moves (kind, pages) already run where this handler runs: the same again ends the run."""
    s = begin.fresh() if begin is not None else task_start(registry, spec, config, op, ExploreInterrupts)
    steps = [f"task on CPU0: {op[0]} ({s.design.shape} interface; {s.pcp_pages()} pages on the pcp list)"]
    refused_before = s.kernel.stat.refused
    injection = _Injection(s, context, move, steps, trace, tried)
    injector = Injector(s.machine.irq, inject_at, injection.inject)
    injector.start(s.cpu)

    def body() -> None:
        result = op[2](s)
        injector.stop(s.cpu)
        steps.append(f"task resumes and completes: {result}")
        steps.append(s.tail())

    try:
        broke = failure(body)
    except Duplicate as dup:
        s.machine.irq.charge_point = None
        return Interleaving(s, injector.points, 0, [], steps, injector.windows, duplicate=True, size=dup.size)
    s.machine.irq.charge_point = None
    problems = [broke] if broke else most_telling(s.problems())
    if problems:
        steps.insert(1, f"(handler: {move.name})")
        steps.append("invariant violated: " + problems[0])
    return Interleaving(s, injector.points, s.kernel.stat.refused - refused_before, problems, steps,
                        injector.windows, size=injection.size)


@dataclass
class _Search:
    """The tallies of one exploration; ``first_only``: stop at the first interleaving that breaks."""

    first_only: bool = False
    explored: int = 0
    runs: int = 0
    refused: int = 0
    points: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)


def explore_interrupts(design_spec: str, context: str, registry: Registry, config: KernelConfig,
                       every_point: bool = False, first_only: bool = False) -> ExploreResult:
    """``irq`` or ``nmi`` (see the module docstring); ``first_only``: stop at the first interleaving that breaks
    (the one an exhaustive search reports first)."""
    # A hardirq raised while IRQs are off is delivered where they are enabled again: every charge point of
    # one IRQs-off window gives the run of its first point (only the arrival time differs), so that run
    # stands for the whole window. Not on PREEMPT_RT, where a handler thread may also wait for a sleeping lock.
    windowed = context == "irq" and not config.preempt_rt and not every_point
    search = _Search(first_only)
    for op in OPERATIONS:
        if first_only and search.findings:
            break
        # the operation's charge points, counted once: without an interrupt the move plays no part
        begin = Prepared(partial(task_start, registry, design_spec, config, op, ExploreInterrupts), Scenario.inputs)
        count = run_interleaving(registry, design_spec, config, op, MOVES[0], context, math.inf, begin=begin)
        search.runs += 1
        if count.problems:  # broken with no interrupt at all
            search.findings.append({"operation": op[0], "handler": "no interrupt", "charge_point": 0,
                                    "reason": reason_of(count.problems[0]), "steps": count.steps})
            continue
        _explore_op(search, registry, design_spec, config, op, context, count, windowed, begin)
    return _result(design_spec, context, search, windowed, config.preempt_rt)


def _explore_op(search: _Search, registry: Registry, spec: str, config: KernelConfig, op: Operation,
                context: str, count: Interleaving, windowed: bool, begin: Prepared[Scenario]) -> None:
    total, windows = count.charge_points, count.windows
    search.points += total
    tried: dict[int, dict[tuple[str, int], list[str]]] = {}  # per delivery point: each (kind, size) run there
    for move in MOVES:
        if search.first_only and search.findings:
            return
        k = 1
        while k <= total:
            same = 1
            if windowed and windows[k - 1] is not None:
                while k + same <= total and windows[k + same - 1] == windows[k - 1]:
                    same += 1
            seen = tried.setdefault(k, {})
            run = run_interleaving(registry, spec, config, op, move, context, k, tried=seen, begin=begin)
            search.runs += 1
            if run.duplicate:  # the same move was run here already (or none: the run without an interrupt)
                problems = seen.get(run.size, []) if run.size else []
            else:
                problems = run.problems
                if run.size is not None:
                    seen[run.size] = problems
            if problems:  # the earliest charge point at which this move breaks this operation
                traced = run_interleaving(registry, spec, config, op, move, context, k, trace=True, begin=begin)
                search.explored += 1
                search.refused += traced.refused
                search.findings.append({"operation": op[0], "handler": move.name, "charge_point": k,
                                        "reason": reason_of(traced.problems[0] if traced.problems else problems[0]),
                                        "steps": traced.steps})
                break
            search.explored += same
            search.refused += run.refused * same
            k += same


def _result(spec: str, context: str, search: _Search, windowed: bool, rt: bool) -> ExploreResult:
    covered, not_covered = coverage.interrupts(context, search.points, search.runs, windowed, rt)
    if search.first_only and search.findings:
        covered.append("stopped at the first interleaving that breaks the design")
    if search.findings:
        first = search.findings[0]
        return ExploreResult(spec, context, UNSAFE, first["reason"], first["steps"], search.explored,
                             search.refused, search.findings, search.runs, covered, not_covered)
    reason = f"refuses allocation in {context.upper()} context ({search.refused} refusals)" if search.refused else ""
    return ExploreResult(spec, context, SAFE, reason, [], search.explored, search.refused, [], search.runs, covered,
                         not_covered)


__all__ = ["ExploreInterrupts", "Injector", "Interleaving", "explore_interrupts", "run_interleaving"]
