"""``smp``: a second CPU, its operation interleaved with the task's at every shared access of each.

CPU0 runs one of the task's operations (``scenarios.OPERATIONS``), CPU1 one adversarial move
(``benchframe.workloads.adversary.MOVES``: allocations and frees sized from its own pcp list when it starts --
a bulk call, a refill, a drain past ``pcp->high``). The CPUs run under ``schedule.ControlledEngine``: CPU1 is
started after CPU0's i-th visible segment, for every i; and for each i, CPU0 is resumed after CPU1's j-th visible
segment, for every j; then both run to their end. That is a preemption-bounded search with a bound of two
(CHESS): the other CPU's operation placed at every shared access of the first, and the first's rest at every
shared access of the second.

Why only *visible* segments (``access.Tracer``): the code between two charge points of a CPU runs without the
other CPU in between, and a segment that touches nothing the other CPU may touch -- its own pcp list, a free
list under the ``zone->lock`` it holds -- commutes with everything the other does; moving a preemption across
it gives the same run (a partial-order reduction). What another CPU could still do to such state it could only
do by breaking the lock protocol, which the tracer reports in whatever order the CPUs run. CPU0 and CPU1 are the
same CPU model with the same warm state, so CPU1 first (i = 0) covers the same interleavings with the roles
swapped.

Every access to shared state is checked as it happens (``access.Tracer``: lost updates, data touched without
the lock that protects it); after both CPUs finish, each allocates what is left on its pcp list, everything is
freed and the invariants are checked. A failing run is run again with the trace.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from benchframe.explore import coverage
from benchframe.explore.access import Tracer
from benchframe.explore.evidence import Snapshot, changes, model_files, model_frames, snapshot, stale, where
from benchframe.explore.outcome import failure, most_telling, reason_of
from benchframe.explore.result import SAFE, UNSAFE, ExploreResult
from benchframe.explore.scenarios import MOVES, OPERATIONS, SMP_ZONE_PAGES, Operation, Scenario, prepare, run_move
from benchframe.explore.schedule import INFINITE, ControlledEngine
from benchframe.explore.template import Prepared
from benchframe.hw.irq import Interrupts

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.kconfig import KernelConfig
    from benchframe.registry import Registry
    from benchframe.workloads.adversary import Move


@dataclass
class SmpRun:
    problems: list[str]
    steps: list[str]
    visible: dict[int, int]  # per CPU: its visible segments
    split_reads: set[str] = field(default_factory=set)
    shared: set[str] = field(default_factory=set)


class _Watch:
    """The trace of one run: where a CPU gave way, and what the other changed under it meanwhile."""

    def __init__(self, s: Scenario, steps: list[str], tracer: Tracer):
        self.kernel = s.kernel
        self.files = model_files(s.design)
        self.steps = steps
        self.tracer = tracer

    def before(self, cpu: CPU, why: str) -> Snapshot:
        self.steps.append(f"{cpu.name} {why} (clock {cpu.clock}) in {where(self.files)}: the other CPU runs")
        with self.tracer.paused():
            return snapshot(self.kernel)

    def after(self, cpu: CPU, seen: object) -> None:
        assert isinstance(seen, dict)
        with self.tracer.paused():
            after = snapshot(self.kernel)
        changed = changes(seen, after)
        if not changed:
            self.steps.append(f"{cpu.name} runs again; the other CPU changed nothing it shares")
            return
        old = stale(model_frames(self.files, inspect.currentframe()), seen, after, cpu.name)
        self.steps.append(f"{cpu.name} runs again at {where(self.files)}; meanwhile the other CPU changed: {changed}"
                          + (f"; stale on {cpu.name}: {old}" if old else ""))


def _plan_text(plan: list[tuple[int, int]]) -> str:
    parts = [f"CPU{c} runs {'to its end' if n >= INFINITE else f'through {n} shared access(es)'}" for c, n in plan]
    return "schedule: " + ", then ".join(parts) + ", then each CPU runs to its end"


def _start(registry: Registry, spec: str, config: KernelConfig, op0: Operation) -> tuple[Scenario, Scenario]:
    s = Scenario(registry, spec, config, Interrupts, cpus=2, pages=SMP_ZONE_PAGES)
    s1 = s.on(1)
    prepare(s, op0)
    s1.warm()
    return s, s1


def _inputs(start: tuple[Scenario, Scenario]) -> tuple[object, ...]:
    return start[0].inputs()


def run_smp(registry: Registry, spec: str, config: KernelConfig, op0: Operation, move: Move,
            plan: list[tuple[int, int]], learnt: tuple[set[str], set[str]], trace: bool = False,
            begin: Prepared[tuple[Scenario, Scenario]] | None = None) -> SmpRun:
    """CPU0 runs ``op0``, CPU1 makes ``move``, in the order ``plan`` gives (``ControlledEngine``). ``learnt``:
    the split-read sites and the shared objects earlier runs found (``access.Tracer``). ``begin``: ``op0``'s
    start, built once and copied for every run."""
    s, s1 = begin.fresh() if begin is not None else _start(registry, spec, config, op0)
    steps = [f"CPU0: {op0[0]} ({s.pcp_pages()} pages on its pcp list); CPU1: {move.name} ({s1.pcp_pages()} pages "
             f"on its pcp list)", _plan_text(plan)]
    engine = s.machine.engine
    tracer = Tracer(s.kernel, lambda: ctl.current())
    tracer.split_reads |= learnt[0]
    tracer.shared |= learnt[1]
    tracer.install()
    ctl = ControlledEngine.install(engine, tracer, plan, _Watch(s, steps, tracer) if trace else None)
    irq = s.machine.irq
    irq.charge_point = ctl.point
    for c in s.machine.cpus:
        irq.rearm(c)
    done: dict[int, str] = {}

    def body() -> None:
        s.machine.run({s.cpu: lambda c: done.__setitem__(0, op0[2](s)),
                       s1.cpu: lambda c: done.__setitem__(1, run_move(s1, move))})
        _quiet(s, tracer)
        steps.append(f"both complete: CPU0 {done.get(0, '-')}; CPU1 {done.get(1, '-')}")
        _tail(s, s1)
        steps.append("each CPU allocates what is left on its pcp list")

    broke = failure(body)
    _quiet(s, tracer)
    problems = [broke] if broke else most_telling(s.problems())
    if problems:
        steps.append("invariant violated: " + problems[0])
    return SmpRun(problems, steps, dict(ctl.steps), tracer.split_reads, tracer.shared)


def _quiet(s: Scenario, tracer: Tracer) -> None:
    """The interleaving is over: no more charge-point hook, no more tracing (the tail runs one CPU at a time)."""
    tracer.active = False
    irq = s.machine.irq
    irq.charge_point = None
    for c in s.machine.cpus:
        irq.rearm(c)


def _tail(s: Scenario, s1: Scenario) -> None:
    for sc in (s1, s):
        sc.alloc(max(sc.pcp_pages(), 1))


@dataclass
class _Search:
    first_only: bool = False
    runs: int = 0
    schedules: int = 0
    max_visible: int = 0
    split: set[str] = field(default_factory=set)
    shared: set[str] = field(default_factory=set)
    findings: list[dict[str, Any]] = field(default_factory=list)


def explore_smp(design_spec: str, registry: Registry, config: KernelConfig, first_only: bool = False) -> ExploreResult:
    """Two CPUs (see the module docstring); ``first_only``: stop at the first schedule that breaks."""
    search = _Search(first_only)
    for op0 in OPERATIONS:
        begin = Prepared(partial(_start, registry, design_spec, config, op0), _inputs)
        for move in MOVES:
            if first_only and search.findings:
                break
            _explore_pair(search, registry, design_spec, config, op0, move, begin)
    covered, not_covered = coverage.smp(search.runs, search.max_visible)
    if first_only and search.findings:
        covered.append("stopped at the first schedule that breaks the design")
    if search.findings:
        first = search.findings[0]
        return ExploreResult(design_spec, "smp", UNSAFE, first["reason"], first["steps"], search.schedules, 0,
                             search.findings, search.runs, covered, not_covered)
    return ExploreResult(design_spec, "smp", SAFE, "", [], search.schedules, 0, [], search.runs, covered, not_covered)


def _explore_pair(search: _Search, registry: Registry, spec: str, config: KernelConfig, op0: Operation,
                  move: Move, begin: Prepared[tuple[Scenario, Scenario]]) -> None:
    """Every schedule of one pair, up to the first that breaks."""
    def run(plan: list[tuple[int, int]]) -> SmpRun | None:
        learnt = (set(search.split), set(search.shared))  # a replay must count visible accesses the same way
        r = run_smp(registry, spec, config, op0, move, plan, learnt, begin=begin)
        search.runs += 1
        search.schedules += 1
        search.split |= r.split_reads
        search.shared |= r.shared
        search.max_visible = max(search.max_visible, *r.visible.values(), 0)
        if not r.problems:
            return r
        traced = run_smp(registry, spec, config, op0, move, plan, learnt, trace=True, begin=begin)
        search.findings.append({"operation": op0[0], "handler": f"CPU1: {move.name}", "charge_point":
                                _plan_text(plan).removeprefix("schedule: "),
                                "reason": reason_of((traced.problems or r.problems)[0]), "steps": traced.steps})
        return None

    known = set(search.shared)
    serial = run([(0, INFINITE)])
    while serial is not None and search.shared != known:  # CPU0 used what CPU1 made shared later: count again
        known = set(search.shared)
        serial = run([(0, INFINITE)])
    if serial is None:
        return
    for i in range(serial.visible.get(0, 0)):
        first = run([(0, i), (1, INFINITE)])
        if first is None:
            return
        for j in range(1, first.visible.get(1, 0)):
            if run([(0, i), (1, j)]) is None:
                return


__all__ = ["explore_smp", "run_smp"]
