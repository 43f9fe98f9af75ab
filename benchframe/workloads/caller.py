"""``Caller``: one kernel caller of the bulk API on one CPU (the page_pool, ``svc_alloc_arg()``, a benchmark loop).

It pays for the conversion a real caller would make between the design's shape and its own (walking a returned
list into an array, linking array entries into a list), keeps the pages in the caller's hands, adds what it spent
to the ``Measurement``, and records a violation when a call returns a wrong count, hands a page out twice or leaves
the IRQ/preempt state unbalanced (those checks and the caller's state: ``benchframe.workloads.hands``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.hw.frames import Frame, Site, symbol
from benchframe.mm.bulk import ARRAY, LIST
from benchframe.mm.symbols import kframe
from benchframe.workloads.hands import _ATOMIC, _PUT_PAGE, CallerHands

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU


_FREE_PAGES = (kframe("__free_pages"),)
_FREE_PAGES_BULK = (Frame("free_pages_bulk"),)  # the 2017 prototype's, a function of its own


def _alloc_frames(caller: Caller, *args: Any, **kwargs: Any) -> tuple[Frame, ...]:
    return caller.alloc_frames


def _free_frames(caller: Caller, *args: Any, **kwargs: Any) -> tuple[Frame, ...]:
    return caller.free_frames


class Caller(CallerHands):
    """One kernel caller of the bulk API on one CPU (see the module docstring)."""

    # -- allocation ----------------------------------------------------------------------------------
    def alloc(self, gfp: int, nr_pages: int) -> list[int]:
        """One bulk call in the design's own shape (no conversion): the pages it returned."""
        if self.shape == LIST:
            lst: list[int] = []
            self.alloc_list(gfp, nr_pages, lst)
            return lst
        arr: list[int | None] = [None] * max(nr_pages, 0)
        self.alloc_array(gfp, arr, nr_pages)
        return [p for p in arr if p is not None]

    @symbol(_alloc_frames)
    def alloc_page(self, gfp: int) -> int | None:
        """``alloc_page(gfp)`` (or ``alloc_pages_node()``): one page through the single-page path."""
        cpu = self.cpu
        before = self._enter()
        page = self.kernel.alloc_pages(cpu, gfp, 0, self.preferred_nid, mempolicy=self.preferred_nid is None)
        self._leave(before, [page] if page is not None else [])
        return page

    @symbol(_alloc_frames)
    def alloc_page_node(self, gfp: int, nid: int) -> int | None:
        """``alloc_pages_node(nid, gfp, 0)``: one page through the single-page path, without the NUMA policy
        lookup (the page_pool's slow path before 5.13)."""
        cpu = self.cpu
        before = self._enter()
        page = self.kernel.alloc_pages(cpu, gfp, 0, nid, mempolicy=False)
        self._leave(before, [page] if page is not None else [])
        return page

    @symbol(_alloc_frames)
    def alloc_pages(self, gfp: int, order: int) -> int | None:
        """``alloc_pages(gfp, order)`` of a block of ``order`` > 0 through the single-page path (the bulk API
        serves order 0 only): measured apart from the order-0 calls (``Measurement.high_order_*``)."""
        if order == 0:
            return self.alloc_page(gfp)
        cpu = self.cpu
        m = self.measurement
        before = self._enter()
        page = self.kernel.alloc_pages(cpu, gfp, order, self.preferred_nid, mempolicy=self.preferred_nid is None)
        self._check_state(before)
        m.high_order_alloc_cycles += cpu.clock - before[0]
        if page is not None:
            self._take([page])
            m.held_order[page] = order
            m.high_order_pages_allocated += 1 << order
        return page

    @symbol(_alloc_frames)
    def alloc_array(self, gfp: int, array: list[int | None], nr_pages: int | None = None, scans: int = 1) -> int:
        """Fill the NULL slots among ``array[:nr_pages]``; returns the number of populated slots. A list design
        is called for as many pages as there are holes, and the caller moves its list into the holes, having
        looked at every slot ``scans`` times: once to find the holes as it fills them (the default), twice
        where it counts them first (Chuck Lever's list version of ``svc_alloc_arg()``), never where it knows
        the array is empty (the page_pool's list version)."""
        cpu = self.cpu
        size = len(array) if nr_pages is None else nr_pages
        if size > len(array):
            raise BenchframeError(f"request for {size} pages exceeds the array size {len(array)}")
        before = self._enter()
        slots = array[:size] if size > 0 else []
        empty = slots.count(None) == len(slots)  # the common case: an empty array, every slot a hole
        holes = list(range(len(slots))) if empty else [i for i in range(size) if array[i] is None]
        new: list[int]
        if self.shape == ARRAY:
            n = self.impl.alloc_bulk(cpu, gfp, size, page_array=array, **self._bulk_kwargs)
            self._check_count(n, max(size, 0), "alloc_bulk(array)")
            new = [p for p in (array[:len(slots)] if empty else map(array.__getitem__, holes)) if p is not None]
        else:
            if scans:
                cpu.charge(self._c_scan * size * scans)  # the caller looks for the NULL slots itself
            lst: list[int] = []
            got = self.impl.alloc_bulk(cpu, gfp, len(holes), page_list=lst, **self._bulk_kwargs) if holes else 0
            self._check_count(got, len(holes), "alloc_bulk(list)")
            if got != len(lst):
                self.kernel.violation(f"{self.design.name}: returned {got} but put {len(lst)} pages on the list")
            # list_for_each_entry_safe(page, next, &list, lru) { list_del(&page->lru); array[i] = page; }
            cpu.charge(len(lst) * (self._c_next + self._c_unlink + self._c_store) +
                       self.cache.walk(cpu, lst, dependent=True))
            for i, page in zip(holes, lst):
                array[i] = page
            new = lst
            n = size - len(holes) + len(lst)
        self._leave(before, new)
        return n

    @symbol(_alloc_frames)
    def alloc_list(self, gfp: int, nr_pages: int, page_list: list[int]) -> int:
        """Allocate ``nr_pages`` onto ``page_list``; returns the number allocated. An array design fills a
        NULLed array, and the caller links its pages onto the list."""
        cpu = self.cpu
        before = self._enter()
        start = len(page_list)
        if self.shape == LIST:
            n = self.impl.alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, **self._bulk_kwargs)
            new = page_list[start:]
        else:
            array: list[int | None] = [None] * max(nr_pages, 0)
            n = self.impl.alloc_bulk(cpu, gfp, nr_pages, page_array=array, **self._bulk_kwargs)
            new = [p for p in array if p is not None]
            # for (i = 0; i < n; i++) list_add(&array[i]->lru, list): independent struct pages
            cpu.charge(len(new) * (self._c_scan + self._c_link) + self.cache.walk(cpu, new, dependent=False))
            page_list.extend(new)
        self._check_count(n, max(nr_pages, 0), "alloc_bulk")
        if n != len(new):
            self.kernel.violation(f"{self.design.name}: returned {n} but allocated {len(new)} pages")
        self._leave(before, new)
        return n

    # -- freeing -------------------------------------------------------------------------------------
    @symbol(_free_frames)
    def free(self, page: int) -> None:
        """``put_page()`` of a page this caller holds: the refcount drop (a LOCK'd decrement of the struct
        page), ``__put_page()``, then the design frees it."""
        m = self.measurement
        cpu = self.cpu
        if not self._release([page]):
            return
        t0 = cpu.clock
        cpu.atomics += 1
        cpu.charge(self._c_put_page + self.cache.touch(cpu, page), self._s_put_page)
        self._free_page(cpu, page)
        self._check_clock()
        m.free_cycles += cpu.clock - t0
        m.pages_freed += 1

    @symbol(_free_frames)
    def free_pages_order(self, page: int, order: int) -> None:
        """``__free_pages(page, order)`` of a block this caller holds: the refcount drop on the head, then
        ``__free_pages_ok()`` for order > 0 (measured apart, as ``alloc_pages``), ``free_unref_page()`` for
        order 0."""
        if order == 0:
            self._put_and_free([page], ((_FREE_PAGES + _ATOMIC, self._c_atomic),
                                        (_FREE_PAGES, self._c_free_pages - self._c_atomic)),
                               dependent=False, frames=_FREE_PAGES)
            return
        m = self.measurement
        cpu = self.cpu
        if m.held_order.get(page) != order:
            self.kernel.violation(f"caller frees pfn {page} as order {order}, but holds it as order "
                                  f"{m.held_order.get(page, 0)}")
            return
        del m.held_order[page]
        if not self._release([page]):
            return
        t0 = cpu.clock
        cpu.atomics += 1
        cpu.charge(self._c_free_pages + self.cache.touch(cpu, page),
                   Site((_FREE_PAGES + _ATOMIC, self._c_atomic), (_FREE_PAGES, None)))
        self.kernel.free_pages_ok(cpu, page, order)
        m.high_order_free_cycles += cpu.clock - t0
        m.high_order_pages_freed += 1 << order

    @symbol(_free_frames)
    @symbol(_free_frames)
    def free_pages(self, pages: list[int]) -> None:
        """``put_page()`` of each page of an array this caller holds (independent struct pages, whose misses
        overlap), the design freeing them in one go (``free_bulk``)."""
        self._put_and_free(pages, ((_ATOMIC, self._c_atomic), (_PUT_PAGE, self._c_put_page - self._c_atomic)),
                           dependent=False, frames=_PUT_PAGE)

    @symbol(_free_frames)
    def free_list(self, pages: list[int]) -> None:
        """``list_for_each_entry_safe(page, next, list, lru) { list_del(&page->lru); __free_pages(page, 0); }``:
        each step a dependent load of the next struct page."""
        self._put_and_free(pages, (((), self._c_next + self._c_unlink),
                                   (_FREE_PAGES + _ATOMIC, self._c_atomic),
                                   (_FREE_PAGES, self._c_free_pages - self._c_atomic)), dependent=True,
                           frames=_FREE_PAGES)

    @symbol(_free_frames)
    def free_pages_bulk_2021(self, pages: list[int]) -> None:
        """v1-v4's ``free_pages_bulk(list)`` (2021): one call walking the list, per page
        ``put_page_testzero()``, ``list_del()`` and ``__free_pages_ok(page, 0)`` -- straight to the buddy
        lists under zone->lock, never through the pcp (kernel-facts §2.2)."""
        m = self.measurement
        cpu = self.cpu
        if not self._release(pages):
            return
        n = len(pages)
        t0 = cpu.clock
        cpu.atomics += n
        costs = self.harness.costs
        walk = (self._c_next + self._c_unlink) * n
        cpu.charge(costs.function_call + walk + self._c_atomic * n + self.cache.walk(cpu, pages, dependent=True),
                   Site((_FREE_PAGES_BULK, walk), (_FREE_PAGES_BULK + _ATOMIC, self._c_atomic * n),
                        (_FREE_PAGES_BULK, costs.function_call)))
        self._free_to_buddy(cpu, pages)
        self._check_clock()
        m.free_cycles += cpu.clock - t0
        m.pages_freed += n

    @symbol(lambda self, cpu, pages: _FREE_PAGES_BULK)
    def _free_to_buddy(self, cpu: CPU, pages: list[int]) -> None:
        for page in pages:
            self.kernel.free_pages_ok(cpu, page, 0)

    @symbol(_free_frames)
    def free_pages_bulk(self, pages: list[int]) -> None:
        """The 2017 prototype's ``free_pages_bulk(list)``: one call walking the list, per page
        ``put_page_testzero()`` and ``list_del()`` before the page is freed to the pcp."""
        costs = self.harness.costs
        self._put_and_free(pages, ((_FREE_PAGES_BULK, self._c_next + self._c_unlink),
                                   (_FREE_PAGES_BULK + _ATOMIC, self._c_atomic)), dependent=True,
                           once=(_FREE_PAGES_BULK, costs.function_call), frames=_FREE_PAGES_BULK)

    def _put_and_free(self, pages: list[int], parts: tuple[tuple[tuple[Frame, ...], int], ...], dependent: bool,
                      frames: tuple[Frame, ...], once: tuple[tuple[Frame, ...], int] = ((), 0)) -> None:
        """Each page's ``parts`` (frames and cycles, the first taking the walk's misses) and the call's
        ``once``, in one charge; then the design frees the pages, below ``frames`` (what calls
        ``free_unref_page()``)."""
        m = self.measurement
        cpu = self.cpu
        if not self._release(pages):
            return
        n = len(pages)
        t0 = cpu.clock
        cpu.atomics += n
        cost = once[1] + sum(c for _, c in parts) * n + self.cache.walk(cpu, pages, dependent)
        # where the cycles go matters to attribution (benchframe perf) alone: the Site is built only for it
        cpu.charge(cost, Site(*((f, c * n) for f, c in parts), once) if self.attributed else None)
        self._free_bulk(cpu, pages, frames)
        self._check_clock()
        m.free_cycles += cpu.clock - t0
        m.pages_freed += n

    @symbol(lambda self, cpu, page: _PUT_PAGE)
    def _free_page(self, cpu: CPU, page: int) -> None:
        """``__put_page()`` -> ``free_unref_page()``: the design frees a page ``put_page()`` released."""
        self.impl.free_page(cpu, page)

    @symbol(lambda self, cpu, pages, frames: frames)
    def _free_bulk(self, cpu: CPU, pages: list[int], frames: tuple[Frame, ...]) -> None:
        """The design frees pages the caller released (``frames``: the kernel function that frees them)."""
        self.impl.free_bulk(cpu, pages)
