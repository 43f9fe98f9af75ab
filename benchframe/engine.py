"""The scheduler: tasks that run concurrently in simulated time, ordered at the points where they share state.

Like SimPy's core, it knows nothing of the model it runs. A *process* is anything with an ``id``, a ``clock``
(its simulated time, which the process itself advances), a ``name`` and, while it waits, ``waiting_for``;
a *task* is a plain function of its process. ``run`` runs one task per process until all return, each as a
greenlet: before touching shared state a task calls ``sync(process)``, which suspends it until every other
runnable process has caught up with its clock, so shared state is accessed in simulated-time order (ties
broken by ``id``). ``block`` and ``wake`` let a process wait for another (a lock holder). With one task there
is nothing to order and ``sync`` costs nothing.

Determinism: no wall-clock time, no hashing of objects, ties broken by ``id``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

from greenlet import greenlet

from benchframe import BenchframeError

INF = float("inf")

if TYPE_CHECKING:
    from collections.abc import Callable


class Deadlock(BenchframeError):
    """The simulated system deadlocked: every process waits for another, or one waits for itself."""


class Process(Protocol):
    """What the scheduler needs of a process: an id, a clock it can order by, a name for messages."""

    id: int
    clock: int
    name: str
    waiting_for: object


P = TypeVar("P", bound=Process)


class Engine:
    """Runs tasks concurrently in simulated time (see the module docstring)."""

    def __init__(self) -> None:
        self.multi = False  # more than one task is running: shared accesses must be ordered
        self._runnable: list[Process] = []
        self._greenlets: dict[int, greenlet] = {}
        self._hub: greenlet | None = None
        #: the least (clock, id) of the runnable processes but the one running: while the running one stays
        #: below it, it is still first and ``sync`` need not look (only the running process's clock moves)
        self._bound: tuple[float, int] = (INF, -1)

    def run(self, tasks: dict[P, Callable[[P], None]]) -> None:
        """Run one task per process until all return. Tasks are plain functions of their process."""
        if len(tasks) == 1:
            ((proc, fn),) = tasks.items()
            self.multi = False
            fn(proc)
            return
        self.multi = True
        self._hub = hub = greenlet.getcurrent()
        self._runnable = sorted(tasks, key=_order)
        self._greenlets = {proc.id: greenlet(lambda fn=fn, proc=proc: fn(proc), parent=hub)
                           for proc, fn in tasks.items()}
        live = {proc.id: proc for proc in tasks}
        try:
            while live:
                if not self._runnable:
                    waiting = ", ".join(f"{p.name} on {p.waiting_for}" for _, p in sorted(live.items()))
                    raise Deadlock(f"deadlock: every task is waiting ({waiting})")
                ordered = sorted(self._runnable, key=_order)  # a handful of processes: one pass for both
                nxt = ordered[0]
                self._bound = _order(ordered[1]) if len(ordered) > 1 else (INF, -1)
                g = self._greenlets[nxt.id]
                g.switch()
                if g.dead:
                    del live[nxt.id]
                    if nxt in self._runnable:
                        self._runnable.remove(nxt)
        finally:
            for g in self._greenlets.values():
                if not g.dead:
                    g.throw(greenlet.GreenletExit)
            self.multi = False
            self._greenlets = {}
            self._hub = None

    def sync(self, proc: Process) -> None:
        """Before touching shared state: let every process that is behind ``proc`` in simulated time go first."""
        if not self.multi or (proc.clock, proc.id) < self._bound:
            return
        hub = self._hub
        assert hub is not None  # multi is only set while run() holds the hub
        # past the bound another process is first: the hub runs the least, and comes back here once it is ``proc``
        hub.switch()

    def block(self, proc: Process) -> None:
        """Suspend ``proc`` until ``wake(proc)`` (it waits for ``proc.waiting_for``)."""
        if not self.multi or self._hub is None:
            raise Deadlock(f"deadlock: {proc.name} waits for {proc.waiting_for} and no other task can release it")
        self._runnable.remove(proc)
        self._hub.switch()

    def wake(self, proc: Process) -> None:
        self._runnable.append(proc)
        order = _order(proc)
        if order < self._bound:
            self._bound = order


def _order(proc: Process) -> tuple[int, int]:
    return (proc.clock, proc.id)
