"""The allocator interface: what a design, a workload and a cost profile are, and how a workload calls a design.

Plugins return these typed records from the registration hooks in ``benchframe.hookspecs``:

* ``Design`` — a named bulk-allocation API design: a factory for a ``DesignImpl`` (see
  ``benchframe.mm.bulk``) with its caller-facing shape, plus its documentation;
* ``Workload`` — a caller modelled on the kernel (``page_bench04``, ``page_pool``, ...), its parameters and
  the topology it needs;
* ``ProfileSource`` — a cost profile file.

A workload talks to a design only through ``Caller``, which pays for the conversion a real caller would make
between the design's shape and the caller's (walking a returned list into an array, linking array entries into
a list), keeps the pages in the caller's hands, and checks every call's return value and IRQ/preempt balance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.mm.bulk import ARRAY, LIST, BulkAllocator, DesignImpl
from benchframe.mm.page import PAGE_ALLOCATED

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.hw.topology import Topology
    from benchframe.kconfig import KernelConfig
    from benchframe.runner import RunContext

SHAPES = (LIST, ARRAY)
LINK_BYTES = {LIST: 16, ARRAY: 8}  # page->lru list_head; a struct page * array slot


@dataclass(frozen=True)
class Design:
    """A bulk page allocation API design.

    ``factory(kernel, **options)`` builds the ``DesignImpl`` for one simulated kernel. ``options`` maps each
    option the design accepts to its default (``--design llist:free=splice`` overrides one).
    ``pcp_link_bytes`` is the size of the struct page field that links a page on the per-CPU lists
    (``list_head lru`` = 16, ``llist_node`` = 8).
    """

    name: str
    factory: Callable[..., DesignImpl]
    description: str
    models: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    pcp_link_bytes: int = 16

    @property
    def shape(self) -> str:
        return self.factory.shape

    @property
    def metadata_bytes_per_page(self) -> int:
        """Bytes per page of the structure that carries pages to the caller: ``lru`` or an array slot."""
        return LINK_BYTES[self.shape]


@dataclass(frozen=True)
class Param:
    """A workload parameter: name, default, type and a one-line help."""

    name: str
    default: Any
    help: str
    type: type = int
    choices: tuple | None = None
    minimum: float | None = None

    def convert(self, raw: Any, workload: str) -> Any:
        """Convert a command-line or file value; errors name the workload, parameter and value."""
        try:
            if self.type is bool and isinstance(raw, str):
                if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError
                value = raw.lower() in ("1", "true", "yes")
            elif self.type is int and isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            elif self.type in (int, float) and isinstance(raw, bool):
                raise ValueError
            else:
                value = self.type(raw)
        except (TypeError, ValueError):
            kind = {int: "an integer", float: "a number", bool: "a boolean"}.get(self.type, "a string")
            raise BenchframeError(f"workload {workload}: parameter {self.name}={raw!r} is not {kind}") from None
        if self.choices is not None and value not in self.choices:
            raise BenchframeError(f"workload {workload}: parameter {self.name}={value!r} must be one of "
                                  f"{', '.join(map(str, self.choices))}")
        if self.minimum is not None and value < self.minimum:
            raise BenchframeError(f"workload {workload}: parameter {self.name}={value!r} must be >= {self.minimum}")
        return value


@dataclass(frozen=True)
class Workload:
    """A caller of the bulk API modelled on the kernel.

    ``run(ctx)`` drives the simulation through ``ctx`` (a ``benchframe.runner.RunContext``); ``topology(params,
    config)`` gives the machine it needs. ``metrics`` maps the extra metrics it records to ``(unit, better,
    definition)`` where ``better`` is ``"lower"`` or ``"higher"``.
    """

    name: str
    run: Callable[[RunContext], None]
    description: str
    params: tuple[Param, ...] = ()
    topology: Callable[[Mapping[str, Any], KernelConfig], Topology] | None = None
    metrics: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    standard: bool = True  # part of the default `benchframe compare`

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise BenchframeError(f"workload {self.name}: unknown parameter {name!r} (known: {known})")

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        values = {p.name: p.default for p in self.params}
        for key, raw in given.items():
            values[key] = self.param(key).convert(raw, self.name)
        return values


@dataclass(frozen=True)
class ProfileSource:
    """A cost profile file contributed by a plugin (see ``benchframe.hw.costs`` for the format)."""

    name: str
    path: str
    description: str = ""


class Caller:
    """One kernel caller of the bulk API on one CPU (the page_pool, svc_alloc_arg, a benchmark loop).

    Keeps the pages in its hands (``ctx.held``), accumulates the cycles spent in allocation and freeing, and
    checks after every call that the design returned what it allocated, handed no page out twice and left the
    IRQ/preempt state as it found it.
    """

    def __init__(self, ctx: RunContext, cpu: CPU):
        self.ctx = ctx
        self.cpu = cpu
        self.impl = ctx.impl
        self.shape = ctx.design.shape
        costs = ctx.costs
        self._c_walk = costs.list_walk_page
        self._c_store = costs.array_store
        self._c_link = costs.list_add
        self._c_scan = costs.array_scan_slot

    # -- allocation ----------------------------------------------------------------------------------
    def alloc_array(self, gfp: int, array: list, nr_pages: int | None = None) -> int:
        """Fill the NULL slots among ``array[:nr_pages]``; returns the number of populated slots."""
        cpu = self.cpu
        size = len(array) if nr_pages is None else nr_pages
        if size > len(array):
            raise BenchframeError(f"request for {size} pages exceeds the array size {len(array)}")
        before = self._enter()
        holes = [i for i in range(size) if array[i] is None]
        if self.shape == ARRAY:
            n = self.impl.alloc_bulk(cpu, gfp, size, page_array=array)
            self._check_count(n, size, "alloc_bulk(array)")
            new = [array[i] for i in holes if array[i] is not None]
        else:
            cpu.charge(self._c_scan * size)  # the caller looks for the NULL slots itself
            lst: list[int] = []
            got = self.impl.alloc_bulk(cpu, gfp, len(holes), page_list=lst) if holes else 0
            self._check_count(got, len(holes), "alloc_bulk(list)")
            if got != len(lst):
                self.ctx.kernel.violation(
                    f"{self.ctx.design.name}: returned {got} but put {len(lst)} pages on the list")
            per_page = self._c_walk + self._c_store
            for i, page in zip(holes, lst):
                array[i] = page
                cpu.charge(per_page)
            new = lst
            n = size - len(holes) + len(lst)
        self._leave(before, new)
        return n

    def alloc_list(self, gfp: int, nr_pages: int, page_list: list) -> int:
        """Allocate ``nr_pages`` onto ``page_list``; returns the number allocated."""
        cpu = self.cpu
        before = self._enter()
        start = len(page_list)
        if self.shape == LIST:
            n = self.impl.alloc_bulk(cpu, gfp, nr_pages, page_list=page_list)
            new = page_list[start:]
        else:
            array: list = [None] * max(nr_pages, 0)
            n = self.impl.alloc_bulk(cpu, gfp, nr_pages, page_array=array)
            new = [p for p in array if p is not None]
            link = self._c_walk + self._c_link  # read the slot, list_add(&page->lru)
            for page in new:
                page_list.append(page)
                cpu.charge(link)
        self._check_count(n, max(nr_pages, 0), "alloc_bulk")
        if n != len(new):
            self.ctx.kernel.violation(f"{self.ctx.design.name}: returned {n} but allocated {len(new)} pages")
        self._leave(before, new)
        return n

    # -- freeing -------------------------------------------------------------------------------------
    def free(self, page: int) -> None:
        ctx = self.ctx
        cpu = self.cpu
        if page not in ctx.held:
            ctx.kernel.violation(f"caller frees pfn {page} it does not hold")
            return
        ctx.held.discard(page)
        t0 = cpu.clock
        self.impl.free_page(cpu, page)
        ctx.free_cycles += cpu.clock - t0
        ctx.pages_freed += 1

    def free_pages(self, pages: list[int]) -> None:
        ctx = self.ctx
        cpu = self.cpu
        held = ctx.held
        for page in pages:
            if page not in held:
                ctx.kernel.violation(f"caller frees pfn {page} it does not hold")
                return
            held.discard(page)
        t0 = cpu.clock
        self.impl.free_bulk(cpu, pages)
        ctx.free_cycles += cpu.clock - t0
        ctx.pages_freed += len(pages)

    # -- checks --------------------------------------------------------------------------------------
    def _enter(self):
        cpu = self.cpu
        return (cpu.clock, cpu.irqs_on, cpu.preempt_count, cpu.migrate_disable_count, cpu.context)

    def _leave(self, before, new: list[int]) -> None:
        ctx = self.ctx
        cpu = self.cpu
        k = ctx.kernel
        ctx.alloc_cycles += cpu.clock - before[0]
        ctx.alloc_calls += 1
        if (cpu.irqs_on, cpu.preempt_count, cpu.migrate_disable_count, cpu.context) != before[1:]:
            k.violation(f"{ctx.design.name}: IRQ/preempt state not balanced by the call "
                        f"(irqs_on {before[1]}->{cpu.irqs_on}, preempt {before[2]}->{cpu.preempt_count}, "
                        f"migrate_disable {before[3]}->{cpu.migrate_disable_count})")
        held = ctx.held
        state = k.mem.state
        for page in new:
            if page in held:
                k.violation(f"page handed out twice: pfn {page} is already in the caller's hands")
            elif state[page] != PAGE_ALLOCATED:
                k.violation(f"pfn {page} handed to the caller while still on the free lists")
            held.add(page)
        ctx.pages_allocated += len(new)

    def _check_count(self, n, requested: int, what: str) -> None:
        if not isinstance(n, int) or n < 0 or n > requested:
            self.ctx.kernel.violation(f"{self.ctx.design.name}: {what} returned {n!r} for {requested} pages")


__all__ = ["Design", "Workload", "Param", "ProfileSource", "Caller", "DesignImpl", "BulkAllocator",
           "LIST", "ARRAY", "SHAPES"]
