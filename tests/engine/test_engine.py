"""The scheduler (``engine.py``) on its own, with processes that are nothing but an id, a clock and a name: shared
state is touched in simulated-time order, ``block``/``wake`` hand a process over, and a system where every
task waits is a ``Deadlock``. (Interrupts and locks built on it are tested in ``tests/hw``.)"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from benchframe.engine import Deadlock, Engine


@dataclass(eq=False)
class Proc:
    id: int
    name: str
    clock: int = 0
    waiting_for: object = None


def test_shared_state_is_touched_in_simulated_time_order_ties_by_id():
    engine = Engine()
    procs = [Proc(0, "a"), Proc(1, "b"), Proc(2, "c")]
    log: list[tuple[int, int]] = []

    def task(step: int):
        def run(p: Proc) -> None:
            for _ in range(5):
                p.clock += step
                engine.sync(p)  # before touching the shared log
                log.append((p.clock, p.id))
        return run

    engine.run({procs[0]: task(30), procs[1]: task(20), procs[2]: task(60)})
    assert log == sorted(log) and len(log) == 15
    assert (60, 0) in log and (60, 1) in log and (60, 2) in log  # ties broken by id, as sorted() shows
    assert not engine.multi


def test_a_blocked_process_runs_again_once_woken():
    engine = Engine()
    holder, waiter = Proc(0, "holder"), Proc(1, "waiter")
    log: list[str] = []

    def hold(p: Proc) -> None:
        p.clock += 100
        engine.sync(p)
        log.append("holder releases")
        engine.wake(waiter)

    def wait(p: Proc) -> None:
        p.clock += 10
        engine.sync(p)
        p.waiting_for = "the thing"
        log.append("waiter blocks")
        engine.block(p)
        log.append("waiter resumes")

    engine.run({holder: hold, waiter: wait})
    assert log == ["waiter blocks", "holder releases", "waiter resumes"]


def test_every_task_waiting_is_a_deadlock_naming_what_each_waits_for():
    engine = Engine()
    a, b = Proc(0, "a"), Proc(1, "b")

    def stuck(p: Proc) -> None:
        p.waiting_for = f"lock-{p.name}"
        engine.block(p)

    with pytest.raises(Deadlock, match=r"every task is waiting \(a on lock-a, b on lock-b\)"):
        engine.run({a: stuck, b: stuck})
    assert not engine.multi  # run() cleaned up after itself


def test_one_task_runs_directly_and_blocking_it_is_a_deadlock():
    engine = Engine()
    p = Proc(0, "only", waiting_for="itself")
    seen = []

    def task(proc: Proc) -> None:
        engine.sync(proc)  # nothing to order against: returns at once
        seen.append(proc.clock)
        engine.block(proc)

    with pytest.raises(Deadlock, match="only waits for itself and no other task can release it"):
        engine.run({p: task})
    assert seen == [0]
