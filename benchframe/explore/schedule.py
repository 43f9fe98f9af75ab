"""A scheduler that runs two CPUs in an order the explorer chooses, instead of by simulated time.

Each CPU runs its task as a greenlet, as ``Engine.run`` does; but a CPU gives the other its turn only where the
``plan`` says: at the charge point that ends its n-th *visible* segment (``access.Tracer``: one that touched
state the other CPU may touch), or just before its n-th operation on a lock or list both CPUs use. A plan
``[(0, i), (1, j)]`` runs CPU0 through its first i such steps, then CPU1 through j, then each CPU to the end,
CPU0 first: two preemptions. A CPU that waits for a lock the
other holds (``Engine.block``) gives way at once, and gets the lock when it is released (``Engine.wake``); when
both wait, it is a deadlock. Clocks still advance with the work each CPU does, but no longer order the CPUs.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Protocol

from greenlet import greenlet

from benchframe.engine import Deadlock, Engine

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.engine import P, Process
    from benchframe.explore.access import Tracer
    from benchframe.hw.cpu import CPU

INFINITE = 10**9


class Watch(Protocol):
    """What the trace notes when a CPU gives way (``before``) and when it runs again (``after``)."""

    def before(self, cpu: CPU, why: str) -> object: ...

    def after(self, cpu: CPU, seen: object) -> None: ...


class ControlledEngine(Engine):
    """``Engine`` with the order of two CPUs set by a plan (see the module docstring); installed on one
    scenario's engine with ``install``."""

    plan: list[tuple[int, int]]
    tracer: Tracer
    steps: dict[int, int]
    watch: Watch | None

    @classmethod
    def install(cls, engine: Engine, tracer: Tracer, plan: list[tuple[int, int]],
                watch: Watch | None = None) -> ControlledEngine:
        engine.__class__ = cls
        assert isinstance(engine, ControlledEngine)
        engine.setup(tracer, plan, watch)
        return engine

    def setup(self, tracer: Tracer, plan: list[tuple[int, int]], watch: Watch | None) -> None:
        self.tracer = tracer
        self.plan = list(plan)
        self.steps = {}
        self.watch = watch
        self._current = None
        self._blocked = set()
        self._quota = None

    _current: Process | None
    _blocked: set[int]
    _quota: tuple[int, int] | None  # (cpu id, the step count at which it gives way)

    def current(self) -> CPU:
        cpu = self._current
        assert cpu is not None
        return cpu  # type: ignore[return-value]

    def run(self, tasks: dict[P, Callable[[P], None]]) -> None:
        self.multi = True
        self._hub = hub = greenlet.getcurrent()
        procs = {p.id: p for p in tasks}
        glets = {p.id: greenlet(lambda fn=fn, p=p: fn(p), parent=hub) for p, fn in tasks.items()}
        rest = list(dict.fromkeys(c for c, _ in self.plan))
        rest += [c for c in sorted(procs) if c not in rest]
        try:
            while glets:
                nxt = self._pick(glets, rest)
                self._current = procs[nxt]
                glets[nxt].switch()
                if glets[nxt].dead:
                    del glets[nxt]
        finally:
            for g in glets.values():
                if not g.dead:
                    g.throw(greenlet.GreenletExit)
            self.multi = False
            self._hub = None
            self._current = None

    def _pick(self, glets: dict[int, greenlet], rest: list[int]) -> int:
        """The CPU to run now: the plan's next entry while it lasts, then each CPU to its end in ``rest`` order."""
        runnable = [c for c in glets if c not in self._blocked]
        if not runnable:
            raise Deadlock("deadlock: both CPUs wait for a lock the other holds")
        while self.plan:
            cpu, n = self.plan[0]
            if cpu in runnable and n > 0:
                self._quota = (cpu, self.steps.get(cpu, 0) + n)
                self.plan.pop(0)
                return cpu
            self.plan.pop(0)  # no turn, done or waiting: its turn is over
        self._quota = None
        return next(c for c in rest if c in runnable)

    # -- the hooks the model calls ---------------------------------------------------------------------------
    def point(self, cpu: CPU) -> None:
        """A charge point of ``cpu`` (the interrupt controller's charge-point hook)."""
        if self.tracer.point(cpu):
            self._step(cpu)

    def _step(self, cpu: CPU) -> None:
        """``cpu`` has made one more visible step: its turn may be over."""
        self.steps[cpu.id] = n = self.steps.get(cpu.id, 0) + 1
        quota = self._quota
        if quota is not None and quota[0] == cpu.id and n >= quota[1] and self._hub is not None:
            self._give_way(cpu, f"after its shared access {n}")

    def _give_way(self, cpu: CPU, why: str) -> None:
        assert self._hub is not None
        seen = self.watch.before(cpu, why) if self.watch is not None else None
        self._hub.switch()
        if self.watch is not None:
            self.watch.after(cpu, seen)

    def sync(self, proc: Process) -> None:
        """Who syncs on what: the ``self`` of the caller (a ``SpinLock``, an ``Llist``) names it; a design's own
        ``Machine.sync`` names nothing."""
        here = inspect.currentframe()
        caller = here.f_back if here is not None else None
        if caller is None or caller.f_code.co_name == "sync":  # Machine.sync(cpu)
            what = None
        else:
            name = getattr(caller.f_locals.get("self"), "name", None)
            what = name if isinstance(name, str) else None
        if self.tracer.sync(proc, what):  # type: ignore[arg-type]
            self.tracer.visible[proc.id] = False  # what it did since its last point goes with this step
            self._step(proc)  # type: ignore[arg-type]

    def block(self, proc: Process) -> None:
        if not self.multi or self._hub is None:
            raise Deadlock(f"deadlock: {proc.name} waits for {proc.waiting_for} and no other task can release it")
        self._blocked.add(proc.id)
        self._give_way(proc, f"waits for {proc.waiting_for}")  # type: ignore[arg-type]

    def wake(self, proc: Process) -> None:
        self._blocked.discard(proc.id)


__all__ = ["INFINITE", "ControlledEngine"]
