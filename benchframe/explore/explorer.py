"""Re-entrancy exploration: ``benchframe explore --design NAME [--context irq|nmi|smp]``.

For each operation of a design (a bulk allocation from a warm pcp list, one that needs a refill, a single
free, a bulk free) the explorer first counts the operation's charge points, then re-runs it on a fresh kernel
once per charge point, raising an interrupt (or NMI) at that point whose handler allocates and/or frees on the
same CPU through the same design (several small handler scripts). The hardirq is delivered when the model's
IRQ state allows it (deferred while IRQs are disabled, as in the kernel); an NMI is delivered at once. After
the operation the task keeps going briefly (it allocates what is left on its pcp list and frees everything)
and the DESIGN §7 invariants are checked; a deadlock (a handler spinning on a lock its CPU holds) counts as a
failure too. A hardirq raised anywhere inside one IRQs-off window is delivered at the same place, where IRQs
come back on, so the run at the window's first charge point stands for all of its points (they count as
explored; ``every_point=True`` runs them all, and a test checks the two searches agree).

``smp`` explores two CPUs instead: CPU0 runs one operation and CPU1 another (every pair), CPU1 starting so that
its first shared access lands right after CPU0's first, second, ... shared access -- the points where the engine
orders the CPUs (a lock, an llist head, a shared line) -- and from there both run concurrently in simulated time.
A design that is safe on one CPU because IRQs are off there (say it releases ``zone->lock`` early) is caught here.

The verdict is SAFE, or UNSAFE with the first (smallest) interleaving that breaks: the simplest operation,
the simplest handler, the earliest charge point — printed as steps a kernel developer can follow, with the
shared state the other context changed and the interrupted code's locals that still hold the old values.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.engine import Deadlock
from benchframe.explore.evidence import Snapshot, changes, model_files, model_frames, snapshot, stale, where
from benchframe.explore.scenarios import HANDLERS, OPERATIONS, Operation, Scenario
from benchframe.hw.cpu import CPU, NMI, TASK
from benchframe.hw.irq import IRQ, NMI_KIND, Interrupts, InterruptSource
from benchframe.kconfig import KernelConfig
from benchframe.plugins import get_registry
from benchframe.results import CONTEXTS

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.registry import Registry



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


@dataclass
class Interleaving:
    """One run of an operation with an interrupt raised at one charge point, and what came of it."""

    scenario: Scenario
    charge_points: int
    refused: int
    problems: list[str]
    steps: list[str]
    windows: list[int | None] = field(default_factory=list)  # per charge point: its IRQs-off window


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
        after = snapshot(s.kernel)
        changed = changes(self.before, after)
        if changed:
            self.steps.append(f"what the handler changed under the interrupted task: {changed}")
            old = stale(model_frames(self.files, inspect.currentframe(), below="_run_handler"), self.before, after,
                        "the task")
            if old:
                self.steps.append(f"stale in the interrupted task: {old}")


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

    def body() -> None:
        result = fn(s)
        injector.stop(s.cpu)
        steps.append(f"task resumes and completes: {result}")
        rest = s.alloc(max(s.pcp_pages(), 1))
        steps.append(f"task allocates the {len(rest)} pages left on its pcp list, then frees all it holds")
        s.free(sorted(s.harness.held))

    failure = _failure(body)
    s.machine.irq.charge_point = None
    problems = [failure] if failure else _most_telling(s.problems())
    if problems:
        steps.insert(1, f"(handler script: {handler[0]})")
        steps.append("invariant violated: " + problems[0])
    return Interleaving(s, injector.points, s.kernel.stat.refused - refused_before, problems, steps,
                        injector.windows)


def explore(design_spec: str, context: str = "irq", registry: Registry | None = None,
            config: tuple[str, ...] = (), kernel: str | None = None, every_point: bool = False) -> ExploreResult:
    """Explore ``design_spec`` against interrupts of ``context`` (see the module docstring). ``every_point``:
    run every charge point even where one run stands for an IRQs-off window (what that rule is tested against)."""
    if context not in CONTEXTS:
        raise BenchframeError(f"--context must be one of {', '.join(CONTEXTS)}, not {context!r}")
    registry = registry or get_registry()
    kconfig = KernelConfig.parse(list(config), kernel)
    registry.design_spec(design_spec)  # unknown design: one-line error before any work
    if context == "smp":
        return explore_smp(design_spec, registry, kconfig)
    explored = 0
    refused = 0
    findings: list[dict[str, Any]] = []
    # A hardirq raised while IRQs are off is delivered where they are enabled again: every charge point of
    # one IRQs-off window gives the run of its first point (only the arrival time differs), so that run
    # stands for the whole window. Not on PREEMPT_RT, where a handler thread may also wait for a sleeping lock.
    windowed = context == "irq" and not kconfig.preempt_rt and not every_point
    for op in OPERATIONS:
        # the operation's charge points, counted once: without an interrupt the handler script plays no part
        count = run_interleaving(registry, design_spec, kconfig, op, HANDLERS[0], context, math.inf)
        total, windows = count.charge_points, count.windows
        for handler in HANDLERS:
            k = 1
            while k <= total:
                run = run_interleaving(registry, design_spec, kconfig, op, handler, context, k)
                if run.problems:  # the earliest charge point at which this script breaks this operation
                    explored += 1
                    refused += run.refused
                    findings.append({"operation": op[0], "handler": handler[0], "charge_point": k,
                                     "reason": _reason(run.problems[0]), "steps": run.steps})
                    break
                same = 1
                if windowed and windows[k - 1] is not None:
                    while k + same <= total and windows[k + same - 1] == windows[k - 1]:
                        same += 1
                explored += same
                refused += run.refused * same
                k += same
    if findings:
        first = findings[0]
        return ExploreResult(design_spec, context, "UNSAFE", first["reason"], first["steps"], explored, refused,
                             findings)
    reason = f"refuses allocation in {context.upper()} context ({refused} refusals)" if refused else ""
    return ExploreResult(design_spec, context, "SAFE", reason, [], explored, refused)


class SyncWatch:
    """Wraps the engine's ``sync``: counts CPU0's shared accesses (their clocks) and, from its ``at``-th on,
    compares the shared state before and after every shared access of either CPU -- what changed in between is
    what the other CPU did while this one waited. It reports the first change CPU0 sees, and every wait after
    which a CPU's locals hold a value that is no longer the kernel's (the stale value, whatever it is)."""

    def __init__(self, s: Scenario, files: set[str], steps: list[str], at: int = 0):
        self.engine = s.machine.engine
        self.real = self.engine.sync
        self.cpu0 = s.cpu
        self.kernel = s.kernel
        self.files = files
        self.steps = steps
        self.at = at
        self.clocks: list[int] = []
        self.seen: set[str] = set()  # CPUs whose change (and stale locals) are reported

    def __call__(self, proc: Any) -> None:
        if proc is self.cpu0:
            self.clocks.append(proc.clock)
            if len(self.clocks) == self.at:
                self.steps.append(f"CPU0's shared access {self.at} (clock {proc.clock}) in {where(self.files)}: "
                                  "CPU1's first one comes next")
        if not self.at or len(self.clocks) < self.at or len(self.seen) > 3:
            self.real(proc)
            return
        before = snapshot(self.kernel)
        self.real(proc)
        after = snapshot(self.kernel)
        changed = changes(before, after)
        if not changed:
            return
        here = inspect.currentframe()
        old = stale(model_frames(self.files, here.f_back if here else None), before, after, proc.name)
        first = proc is self.cpu0 and proc.name not in self.seen
        if old or first:
            self.seen.add(proc.name if first else f"{proc.name}: {old}")
            self.steps.append(f"{proc.name} waits at {where(self.files)} (clock {proc.clock}) while the other CPU "
                              f"changes: {changed}" + (f"; stale on {proc.name}: {old}" if old else ""))

    def install(self) -> None:
        self.engine.sync = self  # type: ignore[method-assign]

    def remove(self) -> None:
        self.engine.sync = self.real  # type: ignore[method-assign]


def _smp_scenario(registry: Registry, spec: str, config: KernelConfig, op0: Operation,
                  op1: Operation) -> tuple[Scenario, Scenario]:
    s = Scenario(registry, spec, config, Interrupts, cpus=2)
    s1 = s.on(1)
    for sc, op in ((s, op0), (s1, op1)):
        sc.warm(op[1])
        sc.task_pages = sc.alloc(4) if op[0].startswith("free") else []
    return s, s1


def run_smp(registry: Registry, spec: str, config: KernelConfig, op0: Operation, op1: Operation,
            offset: int | None, at: int = 0) -> tuple[Interleaving, list[int]]:
    """CPU0 runs ``op0`` and CPU1 ``op1``, CPU1 starting ``offset`` cycles after CPU0 (``None``: CPU0 alone,
    to count its shared accesses); returns the run and the clocks of CPU0's shared accesses from its start."""
    s, s1 = _smp_scenario(registry, spec, config, op0, op1)
    c0, c1 = s.cpu, s1.cpu
    base = max(c0.clock, c1.clock)
    c0.clock = base + max(0, -(offset or 0))
    c1.clock = base + max(0, offset or 0)
    start0 = c0.clock
    steps = [f"CPU0: {op0[0]} ({s.pcp_pages()} pages on its pcp list); CPU1: {op1[0]} ({s1.pcp_pages()} pages on "
             "its pcp list)"]
    watch = SyncWatch(s, model_files(s.design), steps, at)
    watch.install()
    results: dict[int, str] = {}

    def body() -> None:
        if offset is None:
            op0[2](s)
        else:
            s.machine.run({c0: lambda c: results.__setitem__(0, op0[2](s)),
                           c1: lambda c: results.__setitem__(1, op1[2](s1))})
        watch.remove()
        steps.append(f"both complete: CPU0 {results.get(0, 'alone')}, CPU1 {results.get(1, '-')}")
        for sc in (s, s1):
            sc.alloc(max(sc.pcp_pages(), 1))
        s.free(sorted(s.harness.held))
        steps.append("each CPU allocates what is left on its pcp list, then everything is freed")

    failure = _failure(body)
    watch.remove()
    problems = [failure] if failure else _most_telling(s.problems())
    if problems:
        steps.append("invariant violated: " + problems[0])
    return Interleaving(s, len(watch.clocks), 0, problems, steps), [t - start0 for t in watch.clocks]


def _first_access(registry: Registry, spec: str, config: KernelConfig, op: Operation) -> int | None:
    """Cycles from the start of ``op`` on CPU1 (alone) to its first shared access (None: it has none)."""
    s, s1 = _smp_scenario(registry, spec, config, op, op)
    watch = SyncWatch(s1, set(), [], 0)
    start = s1.cpu.clock
    watch.install()
    try:
        op[2](s1)
    finally:
        watch.remove()
    return watch.clocks[0] - start if watch.clocks else None


def explore_smp(design_spec: str, registry: Registry, config: KernelConfig) -> ExploreResult:
    """Two CPUs (see the module docstring): every pair of operations, CPU1's first shared access placed after
    each of CPU0's in turn."""
    explored = 0
    findings: list[dict[str, Any]] = []
    for op0 in OPERATIONS:
        _, clocks = run_smp(registry, design_spec, config, op0, op0, None)
        for op1 in OPERATIONS:
            lead = _first_access(registry, design_spec, config, op1)
            if lead is None:
                continue
            for k, t in enumerate(clocks, 1):
                run, _ = run_smp(registry, design_spec, config, op0, op1, t - lead, at=k)
                explored += 1
                if run.problems:
                    findings.append({"operation": op0[0], "handler": f"CPU1: {op1[0]}", "charge_point": k,
                                     "reason": _reason(run.problems[0]), "steps": run.steps})
                    break
    if findings:
        first = findings[0]
        return ExploreResult(design_spec, "smp", "UNSAFE", first["reason"], first["steps"], explored, 0, findings)
    return ExploreResult(design_spec, "smp", "SAFE", "", [], explored, 0)


def _failure(body: Callable[[], None]) -> str:
    """Run an interleaving: ``""`` if it completed, else what broke it -- a deadlock, or a structure so
    corrupted that the model code itself raised (a finding too). Bad input still propagates."""
    try:
        body()
    except Deadlock as exc:
        return str(exc)
    except BenchframeError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupted structure broke the model code itself: a finding
        return f"model state corrupted: {type(exc).__name__}: {exc}"
    return ""


TELLING = ("twice", "lost", "corruption", "deadlock")


def _most_telling(problems: list[str]) -> list[str]:
    """The problems, the one a kernel developer would name first (a page handed out twice or lost, a
    corrupted list) ahead of its consequences (a count that no longer matches)."""
    def rank(p: str) -> int:
        return next((i for i, word in enumerate(TELLING) if word in p), len(TELLING))
    return sorted(problems, key=rank)


def _reason(problem: str) -> str:
    return problem.split(" (CPU")[0]
