"""Random operation sequences against a design: a hypothesis ``RuleBasedStateMachine`` the conformance kit runs
and ``benchframe-soak`` (``benchframe.testing.soak``) runs by the thousand.

Each sequence boots its own small machine -- one to four CPUs, a Normal zone (sometimes a DMA32 zone below it),
``PAGE_OWNER`` and/or ``PREEMPT_RT`` on top of the suite's config -- and then runs rules in any order:

* ``alloc``: a bulk call on any CPU, in either caller shape (a list, or an array with populated slots anywhere;
  a list design called with an array and vice versa go through the caller's conversion), checking the return
  value exactly: an array design returns the index of the first slot it left NULL (5.13), a list the pages it
  put on the list; a call that returns nothing while the zone is above its min watermark is a violation;
* ``free``: pages held by anyone freed from any CPU (a remote free), one by one or in bulk;
* ``low_memory``: allocations on one CPU until a zone is below its low or its min watermark;
* ``interrupt``: a hardirq on a CPU, some cycles ahead, whose handler allocates (and may free what it got);
* ``concurrent``: every CPU allocates and frees at once, ordered by the engine at the shared accesses.

After every rule every invariant holds (the design's own ``benchframe_check_invariants`` hooks included), every
CPU is back in task context with IRQs on and nothing disabled; at the end everything is freed and checked again.
NMIs are not raised: the kernel forbids page allocation and freeing from NMI (``benchframe explore`` covers it).
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from benchframe import BenchframeError
from benchframe.hw.cpu import TASK
from benchframe.hw.irq import NMI_KIND, Interrupts, InterruptSource
from benchframe.hw.topology import Topology
from benchframe.mm.bulk import ARRAY
from benchframe.mm.page import GFP_ATOMIC
from benchframe.mm.zone import WMARK_LOW, WMARK_MIN
from benchframe.testing.kernel import make_kernel

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.mm.zone import Zone
    from benchframe.workloads.context import Harness

ZONE_SIZES = (2048, 16384)  # pcp batch 1 (high 0: every free drains); 3 (refills and drains often)
MAX_CPUS = 4
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


class SequenceFailure(AssertionError):
    """A contract or an invariant broken by a random sequence."""


class DesignSequences(RuleBasedStateMachine):
    """The state machine; ``sequences_for()`` binds it to a design, a base config and plugins."""

    spec: str = ""
    base_config: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    interrupts: bool = True
    runs = 0  # sequences started (all classes): what a soak reports

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

    @property
    def harness(self) -> Harness:
        """The booted harness."""
        assert self.h is not None
        return self.h

    def _cpu(self, i: int) -> CPU:
        cpus = self.harness.cpus
        return cpus[i % len(cpus)]

    # -- the rules ---------------------------------------------------------------------------------------
    @rule(cpu=st.integers(0, MAX_CPUS - 1), n=st.integers(-2, 80), shape=st.sampled_from(("own", "array", "list")),
          populated=st.integers(0, 8), seed=st.integers(0, 2**16))
    def alloc(self, cpu: int, n: int, shape: str, populated: int, seed: int) -> None:
        """One bulk call of ``n`` pages on ``cpu``, in the design's shape or another caller's."""
        self.call(self._cpu(cpu), n, shape, populated, random.Random(seed))

    @rule(cpu=st.integers(0, MAX_CPUS - 1), count=st.integers(1, 64), bulk=st.booleans(), seed=st.integers(0, 2**16))
    def free(self, cpu: int, count: int, bulk: bool, seed: int) -> None:
        """Free ``count`` pages held by the callers (any, drawn by ``seed``) on ``cpu``."""
        held = sorted(self.harness.held)
        if held:
            self.free_pages(self._cpu(cpu), random.Random(seed).sample(held, min(count, len(held))), bulk)

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
            got = len(self.call(c, ask, "own", 0, None))
            if not got:
                break
            short = short or got < ask

    @precondition(lambda self: self.interrupts)
    @rule(cpu=st.integers(0, MAX_CPUS - 1), after=st.integers(0, 3000), n=st.integers(1, 70),
          free_back=st.integers(0, 2))
    def interrupt(self, cpu: int, after: int, n: int, free_back: int) -> None:
        """A hardirq ``after`` cycles from now whose handler allocates ``n`` pages and frees ``free_back`` of
        them again (it arrives while the CPU's next operations run)."""
        c = self._cpu(cpu)

        def handler(hcpu: CPU) -> None:
            got = self.call(hcpu, n, "own", 0, None)
            self.free_pages(hcpu, got[:free_back], False)

        self.log.append(f"IRQ on CPU{c.id} at clock {c.clock + after}: alloc {n}, free {free_back}")
        self.harness.machine.add_interrupt(c, InterruptSource.at(f"kit-irq{len(self.log)}", [c.clock + after],
                                                                  handler))

    @precondition(lambda self: self.h is not None and len(self.h.cpus) > 1)
    @rule(sizes=st.lists(st.integers(1, 40), min_size=MAX_CPUS, max_size=MAX_CPUS), seed=st.integers(0, 2**16))
    def concurrent(self, sizes: list[int], seed: int) -> None:
        """Every CPU at once: allocate, free half of it, free a share of the pages already held (remote)."""
        h = self.harness
        rng = random.Random(seed)
        held = sorted(h.held)
        rng.shuffle(held)
        cpus = h.cpus
        shares = {c.id: held[c.id::len(cpus)][:sizes[c.id] // 2] for c in cpus}

        def task(c: CPU) -> None:
            got = self.call(c, sizes[c.id], "own", 0, None)
            self.free_pages(c, got[::2], True)
            self.free_pages(c, shares[c.id], False)

        h.machine.run({c: task for c in cpus})

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

    def check(self, when: str) -> None:
        """Raise ``SequenceFailure`` naming ``when`` if an invariant is broken or a CPU's state unbalanced."""
        h = self.harness
        problems = list(h.kernel.violations) + h.invariant_problems()
        for c in h.cpus:
            if (c.context, c.irqs_on, c.preempt_count, c.migrate_disable_count) != (TASK, True, 0, 0):
                problems.append(f"{c.name} left in {c.context} context, IRQs {'on' if c.irqs_on else 'off'}, "
                                f"preempt {c.preempt_count}, migrate_disable {c.migrate_disable_count}")
        if problems:
            raise SequenceFailure(f"{self.spec} {when}: " + "; ".join(problems[:5]))

    # -- operations shared by the rules ----------------------------------------------------------------
    def call(self, cpu: CPU, n: int, shape: str, populated: int, rng: random.Random | None) -> list[int]:
        """One bulk call on ``cpu``; checks the return value exactly; returns the new pages."""
        h = self.harness
        shape = h.design.shape if shape == "own" else shape
        zone = h.kernel.zonelists[cpu.node][0]
        # "at least one page while any can be had": checkable when no other CPU allocates meanwhile
        above_min = zone.nr_free_pages > zone.watermark[WMARK_MIN] + 1 and not h.machine.engine.multi
        if shape == ARRAY:
            new, pre = self._call_array(cpu, max(n, 0), populated, rng)
        else:
            new, pre = self._call_list(cpu, n, populated, rng)
        if n >= 1 and not new and above_min and not pre:
            raise SequenceFailure(f"{self.spec}: alloc_bulk({n}) on CPU{cpu.id} returned no page with "
                                  f"{zone.nr_free_pages} free in {zone.name} (min {zone.watermark[WMARK_MIN]})")
        if len(new) > max(n, 0):
            raise SequenceFailure(f"{self.spec}: alloc_bulk({n}) allocated {len(new)} pages")
        return new

    def _call_array(self, cpu: CPU, size: int, populated: int, rng: random.Random | None) -> tuple[list[int], int]:
        """An array of ``size`` with up to ``populated`` held pages in random slots: the new pages, and how many
        slots were populated."""
        h = self.harness
        arr: list[int | None] = [None] * size
        pre: dict[int, int] = {}
        if rng is not None and populated and size:
            pages = rng.sample(sorted(h.held), min(len(h.held), populated, size))
            pre = dict(zip(rng.sample(range(size), len(pages)), pages))
            for slot, page in pre.items():
                arr[slot] = page
        leading = next((i for i, p in enumerate(arr) if p is None), size)
        got = h.caller(cpu).alloc_array(GFP_ATOMIC, arr, size)
        if any(arr[s] != p for s, p in pre.items()):
            raise SequenceFailure(f"{self.spec}: a populated array slot was overwritten")
        new = [p for i, p in enumerate(arr) if i not in pre and p is not None]
        nulls = [i for i in range(size) if arr[i] is None]
        first_null = nulls[0] if nulls else size
        if h.design.shape == ARRAY:
            # 5.13: the index of the first slot left NULL -- or, from the single-page path (``failed:``), the
            # leading populated slots plus the one page it stored after them
            ok = got == first_null or (got == leading + 1 and leading < size and leading not in pre
                                       and arr[leading] is not None)
            ok = ok and all(arr[i] is not None for i in range(got))
            ok = ok and not any(i > first_null and i not in pre and arr[i] is not None for i in range(size))
        else:  # the caller moved the list design's pages into the holes: the populated slots
            ok = got == size - len(nulls)
        if not ok:
            raise SequenceFailure(f"{self.spec}: alloc_bulk(array of {size}, populated {sorted(pre)}) returned "
                                  f"{got} (NULL slots now {nulls[:5]})")
        return new, len(pre)

    def _call_list(self, cpu: CPU, n: int, populated: int, rng: random.Random | None) -> tuple[list[int], int]:
        """A list, empty or (``populated``) holding one page the caller has: the new pages, and how many were on
        the list before."""
        h = self.harness
        lst: list[int] = []
        if rng is not None and populated and h.held:
            lst = [rng.choice(sorted(h.held))]
        before = list(lst)
        try:
            got = h.caller(cpu).alloc_list(GFP_ATOMIC, n, lst)
        except BenchframeError:  # a clear refusal of a non-empty list (twopass) must allocate nothing
            if lst != before:
                raise SequenceFailure(f"{self.spec}: refused a non-empty list but changed it") from None
            return [], len(before)
        new = lst[len(before):]
        if lst[:len(before)] != before or got != len(new):
            raise SequenceFailure(f"{self.spec}: alloc_bulk(list, {n}) returned {got} for {len(new)} new pages")
        return new, len(before)

    def free_pages(self, cpu: CPU, pages: list[int], bulk: bool) -> None:
        """Free the ``pages`` still held on ``cpu``: in one bulk call with ``bulk``, else one by one."""
        held = self.harness.held
        pages = [p for p in pages if p in held]  # an interrupt may have freed some meanwhile
        if not pages:
            return
        caller = self.harness.caller(cpu)
        if bulk:
            caller.free_pages(pages)
        else:
            for p in pages:
                if p in held:
                    caller.free(p)


def sequences_for(spec: str, config: tuple[str, ...] = (), plugins: tuple[str, ...] = (),
                  interrupts: bool = True) -> type[DesignSequences]:
    """The state machine bound to ``spec`` on a kernel with ``config`` (plus what each sequence adds)."""
    attrs: dict[str, Any] = {"spec": spec, "base_config": tuple(config), "plugins": tuple(plugins),
                             "interrupts": interrupts}
    return type(f"Sequences_{spec.replace(':', '_').replace('=', '_')}", (DesignSequences,), attrs)


__all__ = ["DesignSequences", "KitInterrupts", "SequenceFailure", "sequences_for"]
