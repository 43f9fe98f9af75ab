"""A caller's hands: the CPU a ``Caller`` runs on, the prices it pays, the pages it holds, and the checks every
call it makes into the design passes.

``CallerHands`` is the state and the checks ``benchframe.workloads.caller.Caller`` builds its calls on: a call that
returns a wrong count, hands a page out twice, leaves a page on the free lists or leaves the IRQ/preempt state
unbalanced is recorded as a violation; one that returns what no kernel function could (a page count that is not an
integer, a non-finite clock) raises ``DesignContractError``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from benchframe.hw.frames import ATOMIC, Frame, Site
from benchframe.mm.page import PAGE_ALLOCATED
from benchframe.mm.symbols import kframe

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.workloads.harness import Harness


_ATOMIC = ATOMIC.parts[0][0]
_PUT_PAGE = (kframe("__put_page"),)
_ALLOCATED = frozenset((PAGE_ALLOCATED,))


class DesignContractError(Exception):
    """A design returned what no kernel function could (a page count that is not an integer, a non-finite
    clock): the design's fault, whatever code trips over it next."""


class CallerHands:
    """What one kernel caller of the bulk API on one CPU holds and checks (see the module docstring)."""

    def __init__(self, harness: Harness, cpu: CPU, preferred_nid: int | None = None,
                 frames: tuple[str, str] | None = None):
        alloc, free = frames or ("[caller] alloc", "[caller] free")
        self.alloc_frames = (Frame(alloc),)
        self.free_frames = (Frame(free),)
        self.harness = harness
        self.cpu = cpu
        self.impl = harness.impl
        self.kernel = harness.kernel
        self.design = harness.design
        self.shape = harness.design.shape
        self.measurement = harness.measurement
        #: the run attributes cycles to kernel functions (``benchframe perf``): charges say where they go
        self.attributed = harness.perf is not None
        self.preferred_nid = preferred_nid  # the caller uses the _node API variants (alloc_pages_node & co.)
        self.cache = harness.kernel.cache
        prices = harness.kernel.prices
        self._c_next = prices.list_next
        self._c_store = prices.array_store
        self._c_link = prices.list_add
        self._c_unlink = prices.list_del
        self._c_scan = prices.array_scan
        atomic = harness.costs.atomic_rmw + prices.atomic_check  # KASAN checks the atomic's access too
        self._c_atomic = atomic
        self._c_put_page = atomic + prices.put_page
        self._c_free_pages = atomic + prices.free_pages
        #: put_page(): put_page_testzero()'s atomic on the struct page (its miss too), then __put_page()
        self._s_put_page = Site((_ATOMIC, atomic), (_PUT_PAGE, prices.put_page))
        self._bulk_kwargs: dict[str, Any] = {} if preferred_nid is None else {"preferred_nid": preferred_nid}

    def _release(self, pages: list[int]) -> bool:
        """Take ``pages`` out of this caller's hands; a page it does not hold is a violation (and nothing is
        freed)."""
        held = self.measurement.held
        blocks = self.measurement.held_order
        if held.issuperset(pages) and (not blocks or blocks.keys().isdisjoint(pages)):
            held.difference_update(pages)  # the common case in C: the loop below finds nothing
            return True
        for page in pages:
            if page not in held:
                self.kernel.violation(f"caller frees pfn {page} it does not hold")
                return False
            if blocks and page in blocks:
                self.kernel.violation(f"caller frees pfn {page} as one page, but holds it as order {blocks[page]}")
                return False
        held.difference_update(pages)
        return True

    # -- checks --------------------------------------------------------------------------------------
    def _enter(self) -> tuple[int, bool, int, int, str]:
        cpu = self.cpu
        return (cpu.clock, cpu.irqs_on, cpu.preempt_count, cpu.migrate_disable_count, cpu.context)

    def _leave(self, before: tuple[int, bool, int, int, str], new: list[int]) -> None:
        m = self.measurement
        self._check_clock()
        m.alloc_cycles += self.cpu.clock - before[0]
        m.alloc_calls += 1
        self._check_state(before)
        self._take(new)
        m.pages_allocated += len(new)

    def _check_state(self, before: tuple[int, bool, int, int, str]) -> None:
        cpu = self.cpu
        if (cpu.irqs_on, cpu.preempt_count, cpu.migrate_disable_count, cpu.context) != before[1:]:
            self.kernel.violation(f"{self.design.name}: IRQ/preempt state not balanced by the call "
                                  f"(irqs_on {before[1]}->{cpu.irqs_on}, preempt {before[2]}->{cpu.preempt_count}, "
                                  f"migrate_disable {before[3]}->{cpu.migrate_disable_count})")

    def _take(self, new: list[int]) -> None:
        """The pages a call handed out go into this caller's hands; one already there, or still on the free
        lists, is a violation."""
        k = self.kernel
        held = self.measurement.held
        state = k.mem.state
        fresh = set(new)
        if len(fresh) == len(new) and held.isdisjoint(fresh) and set(map(state.__getitem__, fresh)) <= _ALLOCATED:
            held.update(fresh)  # the common case in C: the loop below finds nothing
            return
        for page in new:
            if page in held:
                k.violation(f"page handed out twice: pfn {page} is already in the caller's hands")
            elif state[page] != PAGE_ALLOCATED:
                k.violation(f"pfn {page} handed to the caller while still on the free lists")
            held.add(page)

    def _check_clock(self) -> None:
        """After the design's call: a clock it made NaN or infinite would stall every CPU's schedule."""
        if not math.isfinite(self.cpu.clock):
            raise DesignContractError(f"left CPU{self.cpu.id}'s clock at {self.cpu.clock!r}")

    def _check_count(self, n: object, requested: int, what: str) -> None:
        if not isinstance(n, int) or isinstance(n, bool):
            raise DesignContractError(f"{what} returned {n!r}, not a page count, for {requested} pages")
        if n < 0 or n > requested:
            self.kernel.violation(f"{self.design.name}: {what} returned {n!r} for {requested} pages")

