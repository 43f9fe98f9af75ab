"""Re-entrancy exploration: ``benchframe explore --design NAME [--context irq|nmi]``.

For each operation of a design (a bulk allocation from a warm pcp list, one that needs a refill, a single
free, a bulk free) the explorer first counts the operation's charge points, then re-runs it on a fresh kernel
once per charge point, raising an interrupt (or NMI) at that point whose handler allocates and/or frees on the
same CPU through the same design (several small handler scripts). The hardirq is delivered when the model's
IRQ state allows it (deferred while IRQs are disabled, as in the kernel); an NMI is delivered at once. After
the operation the task keeps going briefly (it allocates what is left on its pcp list and frees everything)
and the DESIGN §7 invariants are checked; a deadlock (a handler spinning on a lock its CPU holds) counts as a
failure too.

The verdict is SAFE, or UNSAFE with the first (smallest) interleaving that breaks: the simplest operation,
the simplest handler, the earliest charge point — printed as steps a kernel developer can follow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.engine import Deadlock
from benchframe.explore.scenarios import HANDLERS, OPERATIONS, Operation, Scenario
from benchframe.explore.trace import Snapshot, changes, model_files, snapshot, where
from benchframe.hw.cpu import CPU, NMI, TASK
from benchframe.hw.irq import IRQ, NMI_KIND, Interrupts, InterruptSource
from benchframe.kconfig import KernelConfig
from benchframe.plugins import get_registry

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.registry import Registry

CONTEXTS = ("irq", "nmi")


@dataclass
class ExploreResult:
    design: str
    context: str
    verdict: str  # "SAFE" or "UNSAFE"
    reason: str
    steps: list[str] = field(default_factory=list)
    explored_points: int = 0
    refused: int = 0
    # every (operation, handler script) that breaks, simplest first, each with its earliest charge point:
    # {"operation", "handler", "charge_point", "reason", "steps"}
    findings: list[dict[str, Any]] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"{self.design} vs {self.context}: {self.verdict}"
                 + (f" ({self.reason})" if self.reason else "")
                 + f" — {self.explored_points} interleavings explored"]
        lines += [f"  {i}. {s}" for i, s in enumerate(self.steps, 1)]
        shown = {self.findings[0]["operation"]} if self.findings else set()
        for f in self.findings[1:]:
            lines.append(f"  also breaks: {f['operation']}, handler {f['handler']!r}, charge point "
                         f"{f['charge_point']}: {f['reason']}")
            if f["operation"] not in shown:  # the full interleaving once per operation
                shown.add(f["operation"])
                lines += [f"    {i}. {s}" for i, s in enumerate(f["steps"], 1)]
        return "\n".join(lines)


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
    """The charge-point hook: counts the task's charge points and, at the ``at``-th, calls ``inject``."""

    def __init__(self, irq: Interrupts, at: float, inject: Callable[[CPU, int], None]):
        self.irq = irq
        self.at = at
        self.inject = inject
        self.points = 0

    def __call__(self, cpu: CPU) -> None:
        self.points += 1
        if self.points >= self.at:
            self.irq.charge_point = None
            self.inject(cpu, self.points)

    def start(self, cpu: CPU) -> None:
        self.irq.charge_point = self
        self.irq.rearm(cpu)

    def stop(self, cpu: CPU) -> None:
        self.irq.charge_point = None
        self.irq.rearm(cpu)


@dataclass
class Interleaving:
    """One run of an operation with an interrupt raised at one charge point, and what came of it."""

    scenario: Scenario
    charge_points: int
    refused: int
    problems: list[str]
    steps: list[str]


class _Injection:
    """The interrupt raised into one run: where it lands, what its handler does, the steps it adds."""

    def __init__(self, s: Scenario, context: str, handler: tuple[str, Callable[[Scenario], str]],
                 steps: list[str]):
        self.s = s
        self.context = context
        self.kind = NMI_KIND if context == "nmi" else IRQ
        self.hname, self.hfn = handler
        self.steps = steps
        self.files = model_files(s.design)
        self.raised_at = 0
        self.before: Snapshot = {}

    def inject(self, cpu: CPU, point: int) -> None:
        """At the chosen charge point: note where and what the task may have read, raise the interrupt."""
        self.raised_at = cpu.clock
        self.before = snapshot(self.s.kernel)
        state = "IRQs on" if cpu.irqs_on else "IRQs off"
        label = "NMI" if self.kind == NMI_KIND else "IRQ"
        self.steps.append(f"charge point {point} (clock {cpu.clock}, {state}) in {where(self.files)}: "
                          f"an {label} arrives")
        self.s.machine.add_interrupt(cpu, InterruptSource.at(f"explore-{self.context}", [cpu.clock],
                                                             self.handler, self.kind))

    def handler(self, cpu: CPU) -> None:
        s = self.s
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
        self.steps.append(f"{who} handler runs {when}: {self.hname}")  # what it tried, should it never return
        self.steps[-1] = f"{who} handler runs {when}: {self.hfn(s)}"
        changed = changes(self.before, snapshot(s.kernel))
        if changed:
            self.steps.append(f"what the handler changed under the interrupted task: {changed}")


def run_interleaving(registry: Registry, spec: str, config: KernelConfig, op: Operation,
                     handler: tuple[str, Callable[[Scenario], str]], context: str,
                     inject_at: float) -> Interleaving:
    """Run ``op`` on a fresh scenario, raising an interrupt running ``handler`` at charge point
    ``inject_at`` (``math.inf``: never, to count the charge points)."""
    name, warm_pcp, fn = op
    s = Scenario(registry, spec, config, ExploreInterrupts)
    s.warm(warm_pcp)
    s.task_pages = s.alloc(4) if name.startswith("free") else []
    steps = [f"task on CPU0: {name} ({s.design.shape} interface; {s.pcp_pages()} pages on the pcp list)"]
    refused_before = s.kernel.stat.refused
    injector = Injector(s.machine.irq, inject_at, _Injection(s, context, handler, steps).inject)
    injector.start(s.cpu)
    failure = ""
    try:
        result = fn(s)
        injector.stop(s.cpu)
        steps.append(f"task resumes and completes: {result}")
        rest = s.alloc(max(s.pcp_pages(), 1))
        steps.append(f"task allocates the {len(rest)} pages left on its pcp list, then frees all it holds")
        s.free(sorted(s.harness.held))
    except Deadlock as exc:
        failure = str(exc)
    except BenchframeError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupted structure broke the model code itself: a finding
        failure = f"model state corrupted: {type(exc).__name__}: {exc}"
    s.machine.irq.charge_point = None
    problems = [failure] if failure else _most_telling(s.problems())
    if problems:
        steps.insert(1, f"(handler script: {handler[0]})")
        steps.append("invariant violated: " + problems[0])
    return Interleaving(s, injector.points, s.kernel.stat.refused - refused_before, problems, steps)


def explore(design_spec: str, context: str = "irq", registry: Registry | None = None,
            config: tuple[str, ...] = (), kernel: str | None = None) -> ExploreResult:
    """Explore ``design_spec`` against interrupts of ``context`` (see the module docstring)."""
    if context not in CONTEXTS:
        raise BenchframeError(f"--context must be one of {', '.join(CONTEXTS)}, not {context!r}")
    registry = registry or get_registry()
    kconfig = KernelConfig.parse(list(config), kernel)
    registry.design_spec(design_spec)  # unknown design: one-line error before any work
    explored = 0
    refused = 0
    findings: list[dict[str, Any]] = []
    for op in OPERATIONS:
        for handler in HANDLERS:
            total = run_interleaving(registry, design_spec, kconfig, op, handler, context, math.inf).charge_points
            for k in range(1, total + 1):
                run = run_interleaving(registry, design_spec, kconfig, op, handler, context, k)
                explored += 1
                refused += run.refused
                if run.problems:  # the earliest charge point at which this script breaks this operation
                    findings.append({"operation": op[0], "handler": handler[0], "charge_point": k,
                                     "reason": _reason(run.problems[0]), "steps": run.steps})
                    break
    if findings:
        first = findings[0]
        return ExploreResult(design_spec, context, "UNSAFE", first["reason"], first["steps"], explored, refused,
                             findings)
    reason = f"refuses allocation in {context.upper()} context ({refused} refusals)" if refused else ""
    return ExploreResult(design_spec, context, "SAFE", reason, [], explored, refused)


TELLING = ("twice", "lost", "corruption", "deadlock")


def _most_telling(problems: list[str]) -> list[str]:
    """The problems, the one a kernel developer would name first (a page handed out twice or lost, a
    corrupted list) ahead of its consequences (a count that no longer matches)."""
    def rank(p: str) -> int:
        return next((i for i, word in enumerate(TELLING) if word in p), len(TELLING))
    return sorted(problems, key=rank)


def _reason(problem: str) -> str:
    return problem.split(" (CPU")[0]
