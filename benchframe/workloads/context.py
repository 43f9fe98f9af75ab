"""What a workload programs against, and the one harness every driver of a design shares.

* ``Harness`` boots a simulated machine and kernel that run one design and checks the DESIGN §7 invariants,
  including the design's own (its plugins' ``benchframe_check_invariants`` hooks). Runs, ``benchframe
  explore`` and the conformance kit all drive a design through it.
* ``Caller`` is one kernel caller of the bulk API on one CPU (the page_pool, ``svc_alloc_arg()``, a
  benchmark loop): it pays for the conversion a real caller would make between the design's shape and its
  own (walking a returned list into an array, linking array entries into a list), keeps the pages in the
  caller's hands, adds what it spent to the ``Measurement``, and records a violation when a call returns a
  wrong count, hands a page out twice or leaves the IRQ/preempt state unbalanced.
* ``RunContext`` is what a workload's ``run(ctx)`` gets: a ``Harness`` with the workload's parameters, a
  seeded RNG and ``record()`` for the workload's own metrics.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.hw.frames import ATOMIC, Frame, Site, symbol
from benchframe.hw.irq import Interrupts
from benchframe.hw.machine import Machine
from benchframe.hw.perf import Profile
from benchframe.metrics import Measurement, metric
from benchframe.mm.bulk import ARRAY, LIST
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import PAGE_ALLOCATED
from benchframe.mm.page_alloc import Kernel
from benchframe.mm.symbols import kframe

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.hw.costs import CostModel
    from benchframe.hw.cpu import CPU
    from benchframe.hw.topology import Topology
    from benchframe.kconfig import KernelConfig
    from benchframe.records import Design, Workload
    from benchframe.registry import Registry


_ATOMIC = ATOMIC.parts[0][0]
_PUT_PAGE = (kframe("__put_page"),)
_FREE_PAGES = (kframe("__free_pages"),)
_FREE_PAGES_BULK = (Frame("free_pages_bulk"),)  # the 2017 prototype's, a function of its own


class DesignContractError(Exception):
    """A design returned what no kernel function could (a page count that is not an integer, a non-finite
    clock): the design's fault, whatever code trips over it next."""


class WorkloadContractError(Exception):
    """A workload used what it declared it does not (the seed of a ``seeded=False`` workload)."""


class Harness:
    """A simulated machine and kernel running one design, the pages its callers hold, and the checks.

    ``registry`` (optional) supplies the design's own invariant checks; ``irq_class`` the interrupt delivery
    policy (``benchframe explore`` passes its own); ``perf``: attribute every cycle to the functions the model
    mirrors (``benchframe.hw.perf``; ``self.perf`` holds the profile)."""

    def __init__(self, design: Design, options: Mapping[str, Any], costs: CostModel, config: KernelConfig,
                 topology: Topology, registry: Registry | None = None,
                 irq_class: type[Interrupts] = Interrupts, perf: bool = False):
        problem = design.factory.kernel_problem(config.version)
        if problem:
            raise BenchframeError(f"design {design.name}: {problem}")
        self.design = design
        self.costs = costs
        self.config = config
        self.registry = registry
        self.perf = Profile() if perf else None
        self.machine = machine = Machine(costs, topology, config.preempt_rt, irq_class, self.perf,
                                         config.debug_options)
        self.kernel = machine.instrument(Kernel)(machine, config, design.factory.pcp_ops)
        self.impl = machine.instrument(design.factory)(self.kernel, **options)
        self.measurement = Measurement()
        self._clocks = [0] * len(machine.cpus)  # each CPU's clock when measuring began

    @property
    def cpus(self) -> list[CPU]:
        return self.machine.cpus

    @property
    def held(self) -> set[int]:
        """The pages in callers' hands."""
        return self.measurement.held

    def caller(self, cpu: CPU | int = 0, preferred_nid: int | None = None,
               frames: tuple[str, str] | None = None) -> Caller:
        """A caller of the design on ``cpu`` (a CPU or its id); ``preferred_nid``: it uses the ``_node`` API
        variants (``alloc_pages_node()``, ``alloc_pages_bulk_array_node()``) for that node; ``frames``: the
        caller's functions that allocate and that free, as attribution shows them (default: ``[caller]``)."""
        return self.machine.instrument(Caller)(self, self.machine.cpus[cpu] if isinstance(cpu, int) else cpu,
                                               preferred_nid, frames)

    @property
    def cycles(self) -> int:
        """Cycles every CPU's clock advanced since measuring began (what a profile's frames add up to)."""
        return sum(cpu.clock for cpu in self.machine.cpus) - sum(self._clocks)

    def invariant_problems(self, hook_errors: list[str] | None = None) -> list[str]:
        """The DESIGN §7 invariants of the kernel and the pages held, then the design's own checks. A raising
        check is named: ``PluginHookError``, or a line appended to ``hook_errors`` when that is a list."""
        problems = check_kernel(self.kernel, self.held, self.measurement.held_order)
        if self.registry is not None:
            for extra in self.registry.call("benchframe_check_invariants", errors=hook_errors,
                                            kernel=self.kernel, design=self.design):
                problems += [str(p) for p in extra]
        return problems

    def reset_measurement(self) -> None:
        """Forget everything measured so far (call after a warm-up): per-page counters, IRQs-off windows,
        interrupt latencies, lock statistics and event counters. Pages and lists stay as they are."""
        self.measurement.reset()
        for cpu in self.machine.cpus:
            cpu.reset_counters()
        self._clocks = [cpu.clock for cpu in self.machine.cpus]
        if self.perf is not None:
            self.perf.reset()
        for zone in self.kernel.zones:
            zone.lock.reset_stats()
        self.kernel.stat.reset()


def _alloc_frames(caller: Caller, *args: Any, **kwargs: Any) -> tuple[Frame, ...]:
    return caller.alloc_frames


def _free_frames(caller: Caller, *args: Any, **kwargs: Any) -> tuple[Frame, ...]:
    return caller.free_frames


class Caller:
    """One kernel caller of the bulk API on one CPU (see the module docstring)."""

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
        holes = [i for i in range(size) if array[i] is None]
        new: list[int]
        if self.shape == ARRAY:
            n = self.impl.alloc_bulk(cpu, gfp, size, page_array=array, **self._bulk_kwargs)
            self._check_count(n, max(size, 0), "alloc_bulk(array)")
            new = [p for p in (array[i] for i in holes) if p is not None]
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
        cpu.charge(cost, Site(*((f, c * n) for f, c in parts), once))
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

    def _release(self, pages: list[int]) -> bool:
        """Take ``pages`` out of this caller's hands; a page it does not hold is a violation (and nothing is
        freed)."""
        held = self.measurement.held
        blocks = self.measurement.held_order
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


class RunContext(Harness):
    """What a workload's ``run(ctx)`` works with: the booted machine and kernel (``ctx.machine``,
    ``ctx.kernel``, ``ctx.cpus``), the design (``ctx.impl``), its parameters (``ctx.params``), a seeded RNG
    (``ctx.rng``), callers (``ctx.caller(cpu)``), what they measured (``ctx.measurement``) and ``record()``
    for the workload's own metrics."""

    def __init__(self, design: Design, options: Mapping[str, Any], workload: Workload, params: dict[str, Any],
                 seed: int, costs: CostModel, config: KernelConfig, topology: Topology,
                 registry: Registry | None = None, perf: bool = False):
        super().__init__(design, options, costs, config, topology, registry, perf=perf)
        self.workload = workload
        self.params = params
        self._seed = seed
        self._rng = random.Random(seed)
        self.extra: dict[str, Any] = {}

    @property
    def seed(self) -> int:
        """The run's seed (a run its workload declares unseeded may not read it: ``Workload.seeded``)."""
        self._check_seeded("ctx.seed")
        return self._seed

    @property
    def rng(self) -> random.Random:
        """A ``random.Random`` seeded with the run's seed (not for a run declared unseeded: ``Workload.seeded``)."""
        self._check_seeded("ctx.rng")
        return self._rng

    def _check_seeded(self, what: str) -> None:
        if not self.workload.uses_seed(self.params):
            shown = "" if self.workload.seeded is False else " with these parameters"
            raise WorkloadContractError(f"workload {self.workload.name} is declared seeded=False{shown} but reads "
                                        f"{what}: its runs would differ by seed, yet one run stands for every seed")

    def record(self, name: str, value: Any) -> None:
        """Record one of the workload's own metrics (declared in ``Workload.metrics``)."""
        if metric(name, self.workload) is None:
            raise BenchframeError(f"workload {self.workload.name} records undeclared metric {name!r}")
        self.extra[name] = value
