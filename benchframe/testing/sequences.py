"""Random operation sequences against a design: a hypothesis ``RuleBasedStateMachine`` the conformance kit runs
and ``benchframe-soak`` (``benchframe.testing.soak``) runs by the thousand.

Each sequence boots its own small machine -- one to four CPUs, a Normal zone (sometimes a DMA32 zone below it),
``PAGE_OWNER`` and/or ``PREEMPT_RT`` on top of the suite's config -- and then runs rules in any order:

* ``alloc``: a bulk call on any CPU, in either caller shape (a list, or an array with populated slots anywhere;
  a list design called with an array and vice versa go through the caller's conversion), checking the return
  value exactly: an array design returns the index of the first slot it left NULL (5.13), a list the pages it
  put on the list; a call that returns nothing while the zone is above its min watermark is a violation;
* ``free``: pages drawn from those allocated, freed from any CPU (a remote free), one by one or in bulk;
* ``low_memory``: allocations on one CPU until a zone is below its low or its min watermark;
* ``interrupt``: a hardirq on a CPU, some cycles ahead; ``interrupted_alloc``/``interrupted_free``: a bulk call
  or free with a hardirq raised at its n-th charge point. The handler makes one of the adversary's moves
  (``benchframe.workloads.adversary``, as ``benchframe explore`` does): today's fixed sizes, or exactly the
  pages on the pcp list it finds, one more, one fewer, the batch, enough frees to reach ``pcp->high``;
* ``concurrent``: every CPU allocates and frees at once, ordered by the engine at the shared accesses.

Every choice is a hypothesis draw (the pages through a ``Bundle``, the rest ``st.data()`` and plain strategies),
not a seed for a private RNG: a failing sequence shrinks to its smallest sizes, pages and charge points.

After every rule every invariant holds (the design's own ``benchframe_check_invariants`` hooks included), every
CPU is back in task context with IRQs on and nothing disabled; at the end everything is freed and checked again.
NMIs are not raised: the kernel forbids page allocation and freeing from NMI (``benchframe explore`` covers it).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from benchframe.hw.cpu import TASK
from benchframe.hw.irq import NMI_KIND, Interrupts, InterruptSource
from benchframe.hw.topology import Topology
from benchframe.mm.zone import WMARK_LOW, WMARK_MIN
from benchframe.testing.checked import CheckedCalls, SequenceFailure
from benchframe.testing.kernel import make_kernel
from benchframe.workloads.adversary import ALLOC_FREE, FREE, MOVES, Move, PcpState

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from benchframe.hw.cpu import CPU
    from benchframe.mm.zone import Zone
    from benchframe.workloads.context import Harness

ZONE_SIZES = (2048, 16384)  # pcp batch 1 (high 0: every free drains); 3 (refills and drains often)
MAX_CPUS = 4
#: the charge point of a call an interrupt is raised at: most often one of the first few, where a call reads
#: state before it protects it (the time-of-check/time-of-use window), else anywhere in a long one
CHARGE_POINT = st.one_of(st.integers(1, 12), st.integers(13, 150))
LOW_MEMORY_CALLS = 300  # bulk calls one low_memory step makes at most (pages on pcp lists are not NR_FREE_PAGES)


class KitInterrupts(Interrupts):
    """Delivery for random sequences. On PREEMPT_RT a handler is a thread: when it needs a sleeping lock the
    interrupted task holds (``zone->lock``, ``local_lock``: migration disabled) it blocks, and by priority
    inheritance runs once the task releases it. The nested model cannot block a handler, so on RT it is
    delivered only while the task holds none (as ``benchframe explore`` does)."""

    zones: list[Zone] = []

    def deliverable(self, cpu: CPU, src: InterruptSource) -> bool:
        """As the base policy; on PREEMPT_RT not while the task holds a sleeping lock."""
        if not super().deliverable(cpu, src):
            return False
        return not (self.preempt_rt and src.kind != NMI_KIND and cpu.context == TASK and self._sleeps(cpu))

    def _sleeps(self, cpu: CPU) -> bool:
        return bool(cpu.migrate_disable_count) or any(z.lock.owner is cpu for z in self.zones)

    def rearm(self, cpu: CPU) -> None:
        """As the base policy; on RT, look again at every charge point while an interrupt waits."""
        super().rearm(cpu)
        if cpu.context == TASK and self.preempt_rt and any(
                src.pending_since is not None and src.kind != NMI_KIND for src in cpu.sources):
            cpu.next_event = -math.inf  # look again at every charge point until the task lets it run


class DesignSequences(CheckedCalls, RuleBasedStateMachine):
    """The state machine; ``sequences_for()`` binds it to a design, a base config and plugins. Its choices are
    hypothesis draws -- the pages allocated go to the ``pages`` bundle that frees draw from, the interrupt's
    charge point and move are plain draws -- so a failing sequence shrinks to the smallest pages, sizes and
    points that still break."""

    spec: str = ""
    base_config: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    interrupts: bool = True
    runs = 0  # sequences started (all classes): what a soak reports
    pages = Bundle("pages")

    def __init__(self) -> None:
        super().__init__()
        self.h: Harness | None = None
        self.log: list[str] = []

    # -- setup -------------------------------------------------------------------------------------------
    @initialize(cpus=st.integers(1, MAX_CPUS), pages=st.sampled_from(ZONE_SIZES), dma32=st.booleans(),
                extra=st.sets(st.sampled_from(("PAGE_OWNER", "PREEMPT_RT"))))
    def boot(self, cpus: int, pages: int, dma32: bool, extra: set[str]) -> None:
        """Boot a machine of ``cpus`` CPUs and ``pages`` pages (a DMA32 zone too) with ``extra`` config options."""
        type(self).runs += 1
        config = tuple(sorted(set(self.base_config) | extra))
        topology = Topology.uma(cpus=cpus, normal_pages=pages, dma32_pages=2048 if dma32 else 0)
        self.h = h = make_kernel(self.spec, topology, config, self.plugins, irq_class=KitInterrupts)
        irq = h.machine.irq
        assert isinstance(irq, KitInterrupts)
        irq.zones = h.kernel.zones

    def _cpu(self, i: int) -> CPU:
        cpus = self.harness.cpus
        return cpus[i % len(cpus)]

    # -- the rules ---------------------------------------------------------------------------------------
    @rule(target=pages, cpu=st.integers(0, MAX_CPUS - 1), n=st.integers(-2, 80),
          shape=st.sampled_from(("own", "array", "list")), k=st.integers(0, 8), data=st.data())
    def alloc(self, cpu: int, n: int, shape: str, k: int, data: st.DataObject) -> MultipleResults[int]:
        """A bulk call, with ``k`` populated slots (or a page on the list) drawn from the pages held."""
        held = sorted(self.harness.held)
        k = min(k, len(held))
        populated = data.draw(st.lists(st.sampled_from(held), min_size=k, max_size=k, unique=True),
                              label="populated") if k else []
        slots = data.draw(st.lists(st.integers(0, 79), min_size=len(populated), max_size=len(populated)),
                          label="slots")
        return multiple(*self.call(self._cpu(cpu), n, shape, populated, slots))

    @rule(cpu=st.integers(0, MAX_CPUS - 1), freed=st.lists(consumes(pages), min_size=1, max_size=64),
          bulk=st.booleans())
    def free(self, cpu: int, freed: list[int], bulk: bool) -> None:
        """Free pages drawn from the ``pages`` bundle on ``cpu``, in one bulk call or one by one."""
        self.free_pages(self._cpu(cpu), freed, bulk)

    @rule(cpu=st.integers(0, MAX_CPUS - 1), level=st.sampled_from((WMARK_LOW, WMARK_MIN)))
    def low_memory(self, cpu: int, level: int) -> None:
        """Allocate on one CPU until its first zone is at or below the ``level`` watermark (or nothing comes)."""
        c = self._cpu(cpu)
        zone = self.harness.kernel.zonelists[c.node][0]
        short = False  # below the bulk path's watermark (mark + nr_pages): about a page per call from there on
        for _ in range(LOW_MEMORY_CALLS):
            need = zone.nr_free_pages - zone.watermark[level]
            if need <= 0:
                break
            ask = 8 if short else max(64, need // 4)
            got = len(self.call(c, ask, "own", [], []))
            if not got:
                break
            short = short or got < ask

    @precondition(lambda self: self.interrupts)
    @rule(cpu=st.integers(0, MAX_CPUS - 1), after=st.integers(0, 3000), move=st.sampled_from(MOVES),
          back=st.integers(0, 2))
    def interrupt(self, cpu: int, after: int, move: Move, back: int) -> None:
        """A hardirq ``after`` cycles from now whose handler makes ``move`` (it arrives while the CPU's next
        operations run), sized from the pcp list it finds, and frees ``back`` of the pages it got."""
        c = self._cpu(cpu)
        self.log.append(f"IRQ on CPU{c.id} at clock {c.clock + after}: {move.name}, {back} back")
        self.harness.machine.add_interrupt(c, InterruptSource.at(f"kit-irq{len(self.log)}", [c.clock + after],
                                                                  self._handler(move, back)))

    @precondition(lambda self: self.interrupts)
    @rule(target=pages, cpu=st.integers(0, MAX_CPUS - 1), n=st.integers(1, 80), at=CHARGE_POINT,
          move=st.sampled_from(MOVES), back=st.integers(0, 2))
    def interrupted_alloc(self, cpu: int, n: int, at: int, move: Move, back: int) -> MultipleResults[int]:
        """A bulk call on ``cpu`` with a hardirq raised at its ``at``-th charge point, the handler's ``move`` sized
        from the pcp list it finds (as ``benchframe explore`` raises them), ``back`` of its pages freed again."""
        c = self._cpu(cpu)
        with self._raised(c, at, move, back):
            got = self.call(c, n, "own", [], [])
        return multiple(*got)

    @precondition(lambda self: self.interrupts)
    @rule(cpu=st.integers(0, MAX_CPUS - 1), freed=st.lists(consumes(pages), min_size=1, max_size=16),
          at=CHARGE_POINT, move=st.sampled_from(MOVES), back=st.integers(0, 2))
    def interrupted_free(self, cpu: int, freed: list[int], at: int, move: Move, back: int) -> None:
        """A bulk free on ``cpu`` with a hardirq at its ``at``-th charge point making ``move``."""
        c = self._cpu(cpu)
        with self._raised(c, at, move, back):
            self.free_pages(c, freed, True)

    @precondition(lambda self: self.h is not None and len(self.h.cpus) > 1)
    @rule(sizes=st.lists(st.integers(1, 40), min_size=MAX_CPUS, max_size=MAX_CPUS),
          shared=st.lists(consumes(pages), max_size=40))
    def concurrent(self, sizes: list[int], shared: list[int]) -> None:
        """Every CPU at once: allocate, free half of it, free its share of the pages drawn (remote frees)."""
        h = self.harness
        cpus = h.cpus
        shares = {c.id: shared[c.id::len(cpus)][:sizes[c.id] // 2] for c in cpus}

        def task(c: CPU) -> None:
            got = self.call(c, sizes[c.id], "own", [], [])
            self.free_pages(c, got[::2], True)
            self.free_pages(c, shares[c.id], False)

        h.machine.run({c: task for c in cpus})

    # -- adversarial interrupts ----------------------------------------------------------------------------
    def _handler(self, move: Move, back: int = 0) -> Callable[[CPU], None]:
        def handler(hcpu: CPU) -> None:
            zone = self.harness.kernel.zonelists[hcpu.node][0]
            n = move.size(PcpState.of(zone.pcp[hcpu.id]))
            if move.kind == FREE:
                self.free_pages(hcpu, sorted(self.harness.held)[:n], n > 1)
                return
            got = self.call(hcpu, n, "own", [], [])
            self.free_pages(hcpu, got[:max(back, 1 if move.kind == ALLOC_FREE else 0)], False)
        return handler

    @contextmanager
    def _raised(self, c: CPU, at: int, move: Move, back: int) -> Iterator[None]:
        """While the body runs on ``c``, a hardirq is raised at its ``at``-th charge point (if it has that many)."""
        irq = self.harness.machine.irq
        seen = [0]

        def hook(cpu: CPU) -> None:
            if cpu is not c:
                return
            seen[0] += 1
            if seen[0] >= at:
                irq.charge_point = None
                self.log.append(f"IRQ on CPU{c.id} at charge point {at}: {move.name}")
                self.harness.machine.add_interrupt(c, InterruptSource.at(f"kit-at{len(self.log)}", [c.clock],
                                                                          self._handler(move, back)))

        irq.charge_point = hook
        irq.rearm(c)
        try:
            yield
        finally:
            if irq.charge_point is hook:
                irq.charge_point = None
            irq.rearm(c)

    # -- checks ------------------------------------------------------------------------------------------
    @invariant()
    def consistent(self) -> None:
        """After every step: every invariant holds (``check``)."""
        if self.h is None:
            return
        self.check("after the step")

    def teardown(self) -> None:
        """Free everything the callers hold, then check again."""
        if self.h is None:
            return
        self.free_pages(self.harness.cpus[0], sorted(self.harness.held), True)
        self.check("after freeing everything")


def sequences_for(spec: str, config: tuple[str, ...] = (), plugins: tuple[str, ...] = (),
                  interrupts: bool = True) -> type[DesignSequences]:
    """The state machine bound to ``spec`` on a kernel with ``config`` (plus what each sequence adds)."""
    attrs: dict[str, Any] = {"spec": spec, "base_config": tuple(config), "plugins": tuple(plugins),
                             "interrupts": interrupts}
    return type(f"Sequences_{spec.replace(':', '_').replace('=', '_')}", (DesignSequences,), attrs)


__all__ = ["DesignSequences", "KitInterrupts", "SequenceFailure", "sequences_for"]
