"""The random sequences' calls into a design, each return value checked exactly (``benchframe.testing.sequences``
drives them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.hw.cpu import TASK
from benchframe.mm.bulk import ARRAY
from benchframe.mm.page import GFP_ATOMIC
from benchframe.mm.zone import WMARK_MIN

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.workloads.context import Harness


class SequenceFailure(AssertionError):
    """A contract or an invariant broken by a random sequence."""


class CheckedCalls:
    """Bulk calls and frees on a harness, every return value checked; ``check`` runs every invariant."""

    spec: str = ""
    h: Harness | None

    @property
    def harness(self) -> Harness:
        """The booted harness."""
        assert self.h is not None
        return self.h

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

    def call(self, cpu: CPU, n: int, shape: str, populated: list[int], slots: list[int]) -> list[int]:
        """One bulk call on ``cpu``, the pages ``populated`` (held) already in the array's ``slots`` (or one on the
        list); checks the return value exactly; returns the new pages."""
        h = self.harness
        shape = h.design.shape if shape == "own" else shape
        zone = h.kernel.zonelists[cpu.node][0]
        # "at least one page while any can be had": checkable when no other CPU allocates meanwhile
        above_min = zone.nr_free_pages > zone.watermark[WMARK_MIN] + 1 and not h.machine.engine.multi
        held = h.held
        populated = [p for p in populated if p in held]
        if shape == ARRAY:
            new, pre = self._call_array(cpu, max(n, 0), populated, slots)
        else:
            new, pre = self._call_list(cpu, n, populated[:1])
        if n >= 1 and not new and above_min and not pre:
            raise SequenceFailure(f"{self.spec}: alloc_bulk({n}) on CPU{cpu.id} returned no page with "
                                  f"{zone.nr_free_pages} free in {zone.name} (min {zone.watermark[WMARK_MIN]})")
        if len(new) > max(n, 0):
            raise SequenceFailure(f"{self.spec}: alloc_bulk({n}) allocated {len(new)} pages")
        return new

    def _call_array(self, cpu: CPU, size: int, populated: list[int], slots: list[int]) -> tuple[list[int], int]:
        """An array of ``size`` with the ``populated`` pages in the first of ``slots`` (indices, taken modulo the
        size, duplicates dropped): the new pages, and how many slots were populated."""
        h = self.harness
        arr: list[int | None] = [None] * size
        pre: dict[int, int] = {}
        if size:
            for slot, page in zip(dict.fromkeys(s % size for s in slots), populated):
                pre[slot] = page
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

    def _call_list(self, cpu: CPU, n: int, on_list: list[int]) -> tuple[list[int], int]:
        """A list, empty or holding ``on_list`` (a page the caller has): the new pages, and how many were on it."""
        h = self.harness
        lst = list(on_list)
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
        pages = [p for p in dict.fromkeys(pages) if p in held]  # an interrupt may have freed some meanwhile
        if not pages:
            return
        caller = self.harness.caller(cpu)
        if bulk:
            caller.free_pages(pages)
        else:
            for p in pages:
                if p in held:
                    caller.free(p)


__all__ = ["CheckedCalls", "SequenceFailure"]
