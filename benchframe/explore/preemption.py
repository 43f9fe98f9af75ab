"""``preempt``: the task preempted at a charge point, another task running on the same CPU, and -- where the task
may migrate -- the task resuming on the other CPU.

A task may be preempted wherever it runs in task context with IRQs on and ``preempt_count`` zero and holds no
spinlock (``spin_lock()`` disables preemption on !PREEMPT_RT; on PREEMPT_RT the preempting task would block on
the sleeping lock, so it runs once the lock is released: a migrate-disabled section, which a sleeping lock
implies, is treated the same way). It may also migrate where ``migrate_disable()`` is not in force. At each
such charge point of each operation a second task runs an adversarial move on the same CPU
(``benchframe.workloads.adversary``), then the first resumes on the same CPU, or -- migrated -- on the other
one: from then on its ``this_cpu`` accesses (``zone->per_cpu_pageset[cpu]``) are the other CPU's, while the
pointers it took before still point at the first CPU's data, as in the kernel. The invariants are checked after
the task and a short tail on each CPU.

Migration swaps the identities of the two simulated CPUs (their ids and names): the ``CPU`` object the task's
code holds becomes the CPU it now runs on, and the other object the CPU it left.
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
from benchframe.explore.reentry import Duplicate
from benchframe.explore.result import SAFE, UNSAFE, ExploreResult
from benchframe.explore.scenarios import MOVES, OPERATIONS, Operation, Scenario, run_move, task_start
from benchframe.explore.template import Prepared
from benchframe.hw.cpu import TASK
from benchframe.hw.irq import Interrupts
from benchframe.mm.page import GFP_ATOMIC

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.kconfig import KernelConfig
    from benchframe.mm.page_alloc import Kernel
    from benchframe.registry import Registry
    from benchframe.workloads.adversary import Move

STAY = "resumes on the same CPU"
MIGRATE = "migrates to the other CPU"


def preemptible(cpu: CPU, k: Kernel) -> bool:
    """May the task on ``cpu`` be preempted here (see the module docstring)?"""
    if cpu.context != TASK or not cpu.irqs_on or cpu.preempt_count:
        return False
    if k.config.preempt_rt and cpu.migrate_disable_count:
        return False
    return not any(zone.lock.owner is cpu for zone in k.zones)


def migrate(s: Scenario, task: CPU) -> CPU:
    """The task on ``task`` resumes on the other CPU: the two swap ids and names; returns the CPU it left."""
    machine = s.machine
    other = next(c for c in machine.cpus if c is not task)
    task.id, other.id = other.id, task.id
    task.name, other.name = other.name, task.name
    machine.cpus.sort(key=lambda c: c.id)
    other.clock = max(other.clock, task.clock)
    return other


class Preemption:
    """The charge-point hook: counts the points where the task may be preempted (``migratable``: where it may
    migrate too) and, at the ``at``-th, runs the other task and moves the first if asked."""

    def __init__(self, s: Scenario, at: float, move: Move, how: str, steps: list[str], trace: bool,
                 tried: dict[tuple[str, int], list[str]]):
        self.s = s
        self.at = at
        self.move = move
        self.how = how
        self.steps = steps
        self.trace = trace
        self.tried = tried
        self.points = 0
        self.migratable: list[bool] = []
        self.size: tuple[str, int] | None = None
        self.files = model_files(s.design) if trace else set()

    def __call__(self, cpu: CPU) -> None:
        if not preemptible(cpu, self.s.kernel):
            return
        self.points += 1
        self.migratable.append(not cpu.migrate_disable_count)
        if self.points >= self.at:
            self.s.machine.irq.charge_point = None
            self.preempt(cpu)

    def preempt(self, cpu: CPU) -> None:
        s = self.s
        self.size = size = (self.move.kind, self.move.size(s.state()))
        if size in self.tried or not size[1]:
            raise Duplicate(size)
        before = snapshot(s.kernel) if self.trace else {}
        if self.trace:
            self.steps.append(f"charge point {self.points} (clock {cpu.clock}) in {where(self.files)}: the task is "
                              f"preempted; another task runs on {cpu.name}: {self.move.name}")
        pinned = cpu.migrate_disable_count  # per task: the other task starts with its own
        cpu.migrate_disable_count = 0
        did = _run_handler(s, self.move)
        cpu.migrate_disable_count = pinned
        if self.trace:
            self.steps[-1] = self.steps[-1].rsplit(": ", 1)[0] + f": {did}"
            after = snapshot(s.kernel)
            changed = changes(before, after)
            if changed:
                self.steps.append(f"what the other task changed under the preempted one: {changed}")
                old = stale(model_frames(self.files, inspect.currentframe(), below="_run_handler"), before, after,
                            "the task")
                if old:
                    self.steps.append(f"stale in the preempted task: {old}")
        if self.how == MIGRATE:
            left = migrate(s, cpu)
            if self.trace:
                self.steps.append(f"the task migrates: it resumes on {cpu.name}; what it took before still points "
                                  f"at {left.name}'s data")


def _run_handler(s: Scenario, move: Move) -> str:
    """The preempting task's move (named like an interrupt's handler, so the trace finds the frames below it)."""
    return run_move(s, move)


@dataclass
class PreemptRun:
    problems: list[str]
    steps: list[str]
    points: int
    migratable: list[bool]
    size: tuple[str, int] | None = None
    duplicate: bool = False


def run_preempt(registry: Registry, spec: str, config: KernelConfig, op: Operation, move: Move, how: str,
                at: float, trace: bool = False, tried: dict[tuple[str, int], list[str]] | None = None,
                begin: Prepared[Scenario] | None = None) -> PreemptRun:
    """``op`` on CPU0, preempted at its ``at``-th preemptible charge point (``math.inf``: never); ``begin``:
    ``op``'s start, built once and copied for every run."""
    s = begin.fresh() if begin is not None else task_start(registry, spec, config, op, Interrupts, cpus=2)
    s1 = s.on(1)
    steps = [f"task on CPU0: {op[0]} ({s.pcp_pages()} pages on the pcp list; CPU1 has {s1.pcp_pages()})"]
    hook = Preemption(s, at, move, how, steps, trace, tried or {})
    irq = s.machine.irq
    irq.charge_point = hook
    irq.rearm(s.cpu)

    def body() -> None:
        result = op[2](s)
        irq.charge_point = None
        irq.rearm(s.cpu)
        steps.append(f"the task completes on {s.cpu.name}: {result}")
        for cpu in s.machine.cpus:
            s.harness.caller(cpu).alloc(GFP_ATOMIC, max(s.kernel.zones[0].pcp[cpu.id].count, 1))
        steps.append("each CPU allocates what is left on its pcp list")

    try:
        broke = failure(body)
    except Duplicate as dup:
        irq.charge_point = None
        return PreemptRun([], steps, hook.points, hook.migratable, dup.size, duplicate=True)
    irq.charge_point = None
    problems = [broke] if broke else most_telling(s.problems())
    if problems:
        steps.append("invariant violated: " + problems[0])
    return PreemptRun(problems, steps, hook.points, hook.migratable, hook.size)


@dataclass
class _Search:
    first_only: bool = False
    runs: int = 0
    explored: int = 0
    points: int = 0
    migratable: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)


def explore_preempt(design_spec: str, registry: Registry, config: KernelConfig,
                    first_only: bool = False) -> ExploreResult:
    """Preemption and migration (see the module docstring); ``first_only``: stop at the first that breaks."""
    search = _Search(first_only)
    for op in OPERATIONS:
        if first_only and search.findings:
            break
        begin = Prepared(partial(task_start, registry, design_spec, config, op, Interrupts, 2), Scenario.inputs)
        count = run_preempt(registry, design_spec, config, op, MOVES[0], STAY, math.inf, begin=begin)
        search.runs += 1
        if count.problems:
            search.findings.append({"operation": op[0], "handler": "no preemption", "charge_point": 0,
                                    "reason": reason_of(count.problems[0]), "steps": count.steps})
            continue
        search.points += count.points
        search.migratable += sum(count.migratable)
        _explore_op(search, registry, design_spec, config, op, count, begin)
    covered, not_covered = coverage.preempt(search.points, search.migratable, search.runs, MOVES)
    if first_only and search.findings:
        covered.append("stopped at the first interleaving that breaks the design")
    if search.findings:
        first = search.findings[0]
        return ExploreResult(design_spec, "preempt", UNSAFE, first["reason"], first["steps"], search.explored, 0,
                             search.findings, search.runs, covered, not_covered)
    return ExploreResult(design_spec, "preempt", SAFE, "", [], search.explored, 0, [], search.runs, covered,
                         not_covered)


def _explore_op(search: _Search, registry: Registry, spec: str, config: KernelConfig, op: Operation,
                count: PreemptRun, begin: Prepared[Scenario]) -> None:
    tried: dict[tuple[str, int], dict[tuple[str, int], list[str]]] = {}
    for how in (MIGRATE, STAY):
        for move in MOVES:
            if search.first_only and search.findings:
                return
            for k in range(1, count.points + 1):
                # where the task may migrate, a preemption that resumes on the same CPU runs what an interrupt
                # there runs (context irq): only migration is tried; elsewhere the task stays
                if count.migratable[k - 1] != (how == MIGRATE):
                    continue
                seen = tried.setdefault((how, k), {})
                run = run_preempt(registry, spec, config, op, move, how, k, tried=seen, begin=begin)
                search.runs += 1
                problems = (seen.get(run.size, []) if run.size else []) if run.duplicate else run.problems
                if not run.duplicate and run.size is not None:
                    seen[run.size] = problems
                if problems:
                    traced = run_preempt(registry, spec, config, op, move, how, k, trace=True, begin=begin)
                    search.explored += 1
                    search.findings.append({"operation": op[0], "handler": f"preempted by {move.name}, {how}",
                                            "charge_point": k, "reason": reason_of((traced.problems or problems)[0]),
                                            "steps": traced.steps})
                    break
                search.explored += 1


__all__ = ["explore_preempt", "migrate", "preemptible", "run_preempt"]
