"""A prepared start (``explore/template.py``): every run gets a copy of the state a new build would reach, its
own to change, and a run from a copy is the run from a new build."""

from __future__ import annotations

from functools import partial

import pytest

from benchframe.explore import preemption, reentry, smp
from benchframe.explore.evidence import snapshot
from benchframe.explore.reentry import ExploreInterrupts
from benchframe.explore.scenarios import MOVES, OPERATIONS, Scenario, task_start
from benchframe.explore.template import Prepared
from benchframe.hw.irq import Interrupts
from benchframe.kconfig import KernelConfig
from benchframe.plugins import get_registry


def _state(s: Scenario) -> tuple:
    k = s.kernel
    return (snapshot(k), bytes(k.mem.state), bytes(k.mem.order), k.mem.cpu.tobytes(), k.mem.next.tobytes(),
            list(s.machine.cache.line), [c.clock for c in s.machine.cpus], sorted(s.harness.held), s.spare,
            s.task_pages, k.stat.as_dict(), [[list(d) for d in area] for area in k.zones[0].free_area])


@pytest.mark.parametrize("design", ["array", "llist"])
def test_each_copy_is_the_built_state_and_its_own(design):
    reg, config = get_registry(), KernelConfig.parse([])
    start = Prepared(partial(task_start, reg, design, config, OPERATIONS[2], ExploreInterrupts), Scenario.inputs)
    first = start.fresh()
    assert start.blob is not None  # copied, not rebuilt
    assert _state(first) == _state(task_start(reg, design, config, OPERATIONS[2], ExploreInterrupts))
    first.free(first.alloc(7))  # a run changes its copy ...
    first.alloc(3)
    second = start.fresh()
    assert _state(second) != _state(first)  # ... and nothing of the next one
    assert _state(second) == _state(start.build())
    assert second.kernel is not first.kernel and second.harness.registry is reg and second.costs is first.costs
    assert second.machine.cache.line is not first.machine.cache.line


def test_a_run_from_a_copy_is_the_run_from_a_new_build():
    reg, config = get_registry(), KernelConfig.parse([])
    op, move = OPERATIONS[1], MOVES[5]
    start = Prepared(partial(task_start, reg, "llist_del_first", config, op, ExploreInterrupts), Scenario.inputs)
    for k in (1, 7, 20):
        built = reentry.run_interleaving(reg, "llist_del_first", config, op, move, "irq", k, trace=True)
        copied = reentry.run_interleaving(reg, "llist_del_first", config, op, move, "irq", k, trace=True, begin=start)
        assert (copied.steps, copied.problems, copied.charge_points) == (built.steps, built.problems,
                                                                        built.charge_points)
    preempt = Prepared(partial(task_start, reg, "array", config, op, Interrupts, 2), Scenario.inputs)
    assert preemption.run_preempt(reg, "array", config, op, move, preemption.MIGRATE, 3, trace=True,
                                  begin=preempt) == preemption.run_preempt(reg, "array", config, op, move,
                                                                           preemption.MIGRATE, 3, trace=True)
    two = Prepared(partial(smp._start, reg, "array", config, op), smp._inputs)
    plan, learnt = [(0, 1), (1, 2)], (set(), set())
    assert smp.run_smp(reg, "array", config, op, move, plan, learnt, trace=True, begin=two) == \
        smp.run_smp(reg, "array", config, op, move, plan, learnt, trace=True)


class _Unpicklable:
    def __init__(self, n: int):
        self.n = n
        self.hook = lambda: n  # what a plugin might keep: pickle cannot copy it


def test_a_start_that_cannot_be_pickled_is_built_for_every_run():
    builds = []

    def build() -> _Unpicklable:
        builds.append(1)
        return _Unpicklable(len(builds))

    start = Prepared(build, lambda s: ())
    got = [start.fresh().n for _ in range(3)]
    assert start.blob is None and got == [1, 2, 3]  # the first run gets the template, each later one a new build
