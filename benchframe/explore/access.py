"""Every access to shared allocator state while two CPUs are explored: which CPU read or wrote what, where in the
model, and whether it held what protects it.

The tracer swaps the classes of one scenario's zones, ``per_cpu_pages`` and ``list_head`` pcp lists for traced
subclasses (nothing changes for a normal run), and wraps the design's ``PcpOps.lock``/``unlock`` to know who is
inside a pcp section. What it checks, as the kernel's locking rules state them:

* **lock protocol**: the buddy free lists (``free_area[]``) change only under ``zone->lock``; ``NR_FREE_PAGES``
  changes with IRQs off or under ``zone->lock`` (``__mod_zone_page_state()`` needs IRQs off); a pcp list and its
  ``count`` change only on their own CPU, a ``list_head`` pcp list (and its count) only inside the design's pcp
  section (IRQs off, or between its ``lock`` and ``unlock``);
* **lost updates**: a CPU reads a location, another CPU writes it, then the first writes it from a segment
  after its read (a read-modify-write split by a charge point): the other CPU's update is lost.

Each finding is recorded as a kernel violation naming the location and the model function and line of each
access. The tracer also tells the scheduler which segments (the code between two charge points of a CPU) were
*visible* -- touched state another CPU may touch -- for the partial-order reduction of ``benchframe.explore.smp``:
a write of ``NR_FREE_PAGES``, an access to another CPU's pcp, the read of a split read-modify-write, and a
free-list change without ``zone->lock``; and it names the points *before* a lock or llist operation both CPUs
use (every ``Engine.sync``: a design declares its own shared state that way), where the other CPU may go
first. A free-list change under ``zone->lock`` and a CPU's own pcp are invisible: no other CPU
may touch them without a protocol violation, which is reported whatever the interleaving.
"""

from __future__ import annotations

import functools
import inspect
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe.mm.pcp import PcpList, PerCpuPages
from benchframe.mm.zone import Zone

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType

    from benchframe.hw.cpu import CPU
    from benchframe.mm.page_alloc import Kernel

_COUNT: Any = vars(PerCpuPages)["count"]  # the slot behind the traced property
_ZONE_FILE = sys.modules[Zone.__module__].__file__
_PCP_FILE = sys.modules[PcpList.__module__].__file__
_LIST_OPS = ("del_first", "add_head", "add_tail", "del_last")


def _internal(f: FrameType) -> bool:
    """A frame of the zone's own methods, the pcp list's operations or this module: not where an access is
    made, but how."""
    name = f.f_code.co_filename
    return name in (_ZONE_FILE, __file__) or (name == _PCP_FILE and f.f_code.co_name in _LIST_OPS)


def site(depth: int = 2) -> str:
    """``function() file:line`` of the model code that made an access: the first frame above ``depth`` outside
    the zone's methods, the pcp list's operations and this module."""
    f = inspect.currentframe()
    for _ in range(depth):
        assert f is not None
        f = f.f_back
    assert f is not None
    while f.f_back is not None and _internal(f):
        f = f.f_back
    return f"{f.f_code.co_name}() {_file_name(f.f_code.co_filename)}:{f.f_lineno}"


@functools.cache
def _file_name(path: str) -> str:
    """A source file's name (asked once per file: ``site()`` runs at every traced access)."""
    return Path(path).name


class Tracer:
    """The accesses of one scenario's CPUs to its kernel's shared state (see the module docstring).
    ``current()`` is the CPU running now."""

    def __init__(self, kernel: Kernel, current: Callable[[], CPU]):
        self.k = kernel
        self.current = current
        self.active = True  # off once the interleaving is over (the tail runs one CPU at a time)
        self.seq = 0
        self.segment: dict[int, int] = {}  # per CPU: its charge points so far
        self.visible: dict[int, bool] = {}  # per CPU: the segment in progress made a visible access
        self.last_read: dict[int, dict[str, tuple[int, int, object, str]]] = {}  # cpu -> loc -> (segment, seq, ..)
        self.last_write: dict[str, tuple[int, int, str, object, object]] = {}  # loc -> (seq, cpu, site, old, new)
        self.split_reads: set[str] = set()  # sites of reads that a later segment's write of the same CPU follows
        self.shared: set[str] = set()  # what both CPUs synced on (learnt from earlier runs too)
        self.touched: dict[str, set[int]] = {}
        self.depth: dict[int, int] = {}  # per CPU: pcp sections entered through the design's lock
        self.reported: set[tuple[str, str]] = set()
        self.pcp_of: dict[int, PerCpuPages] = {}
        self.list_head = issubclass(kernel.pcp_ops.list_class, PcpList)

    # -- installation --------------------------------------------------------------------------------------
    def install(self) -> None:
        tracer = self
        zone_cls = type("TracedZone", (type(self.k.zones[0]),), {"tracer": tracer, **_ZONE})
        for zone in self.k.zones:
            zone.__class__ = zone_cls
            for pcp in zone.pcp:
                pcp.__class__ = type("TracedPcp", (type(pcp),), {"__slots__": (), "tracer": tracer, **_PCP})
                for lst in pcp.lists:
                    self.pcp_of[id(lst)] = pcp
                    if isinstance(lst, PcpList):
                        lst.__class__ = type("TracedPcpList", (type(lst),),
                                             {"__slots__": (), "tracer": tracer, **_LIST})
        ops = self.k.pcp_ops
        lock, unlock = ops.lock, ops.unlock

        def traced_lock(cpu: CPU, pcp: PerCpuPages | None = None) -> Any:
            token = lock(cpu, pcp)
            if token is not None:
                self.depth[cpu.id] = self.depth.get(cpu.id, 0) + 1
            return token

        def traced_unlock(cpu: CPU, token: Any, pcp: PerCpuPages | None = None) -> None:
            self.depth[cpu.id] = self.depth.get(cpu.id, 0) - 1
            unlock(cpu, token, pcp)

        ops.lock = traced_lock  # type: ignore[method-assign]
        ops.unlock = traced_unlock  # type: ignore[method-assign]

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The explorer's own look at the state (a trace's snapshot) is no access of a CPU."""
        active, self.active = self.active, False
        try:
            yield
        finally:
            self.active = active

    # -- segments (for the scheduler) ----------------------------------------------------------------------
    def point(self, cpu: CPU) -> bool:
        """A charge point of ``cpu``: whether the segment it ends was visible; a new segment starts."""
        c = cpu.id
        self.segment[c] = self.segment.get(c, 0) + 1
        seen = self.visible.get(c, False)
        self.visible[c] = False
        return seen

    def sync(self, cpu: CPU, what: str | None) -> bool:
        """``Engine.sync``: the CPU is about to touch state it shares -- ``what`` (a lock, an llist head, by name;
        ``None``: a design's own, declared with ``Machine.sync``). True (a point where the other CPU may run
        first) once both CPUs have touched it (in this run or one before: ``shared``), or when it has no name."""
        if not self.active:
            return False
        if what is None:
            return True
        users = self.touched.setdefault(what, set())
        users.add(cpu.id)
        if len(users) > 1:
            self.shared.add(what)
        return what in self.shared

    # -- accesses ------------------------------------------------------------------------------------------
    def read(self, loc: str, value: object, visible: bool = False) -> None:
        if not self.active:
            return
        cpu = self.current()
        where = site(3)
        self.last_read.setdefault(cpu.id, {})[loc] = (self.segment.get(cpu.id, 0), self.seq, value, where)
        if visible or where in self.split_reads:
            self.visible[cpu.id] = True

    def write(self, loc: str, old: object, new: object, visible: bool = True) -> None:
        if not self.active:
            return
        cpu = self.current()
        c = cpu.id
        where = site(3)
        seg = self.segment.get(c, 0)
        read = self.last_read.get(c, {}).get(loc)
        if read is not None and read[0] != seg:
            self.split_reads.add(read[3])
            other = self.last_write.get(loc)
            if other is not None and other[1] != c and other[0] >= read[1]:
                self.violation(loc, where, f"lost update of {loc}: CPU{c} read {read[2]} in {read[3]}, CPU{other[1]} "
                                           f"changed it {other[3]} -> {other[4]} in {other[2]}, then CPU{c} wrote "
                                           f"{new} in {where}: CPU{other[1]}'s update is lost (CPU{c}, {cpu.context})")
        self.last_write[loc] = (self.seq, c, where, old, new)
        self.seq += 1
        if visible:
            self.visible[c] = True

    def violation(self, loc: str, where: str, message: str) -> None:
        if (loc, where) not in self.reported:
            self.reported.add((loc, where))
            self.k.violation(message)

    # -- the protocol --------------------------------------------------------------------------------------
    def free_area(self, zone: Zone) -> None:
        """A free list of ``zone`` changes: only under ``zone->lock``."""
        if not self.active:
            return
        cpu = self.current()
        if zone.lock.owner is cpu:
            return
        loc = f"{zone.name} free_area"
        where = site(3)
        self.visible[cpu.id] = True
        self.violation(loc, where, f"{loc} changed by CPU{cpu.id} without holding {zone.lock.name} in {where} "
                                   f"(CPU{cpu.id}, {cpu.context})")

    def nr_free_pages(self, zone: Zone, old: int, new: int) -> None:
        """``NR_FREE_PAGES`` changes: with IRQs off (``__mod_zone_page_state``) or under ``zone->lock``."""
        if not self.active:
            return
        cpu = self.current()
        loc = f"{zone.name} NR_FREE_PAGES"
        self.write(loc, old, new)
        if cpu.irqs_on and zone.lock.owner is not cpu:
            where = site(3)
            self.violation(loc + " irqs", where, f"{loc} changed by CPU{cpu.id} with IRQs on and without holding "
                                                 f"{zone.lock.name} in {where} (CPU{cpu.id}, {cpu.context})")

    def pcp_change(self, pcp: PerCpuPages, what: str) -> None:
        """A pcp list or count changes: on its own CPU; a ``list_head`` one inside the pcp section."""
        if not self.active:
            return
        cpu = self.current()
        loc = f"{pcp.zone.name} pcp of CPU{pcp.cpu}: {what}"
        if cpu.id != pcp.cpu:
            where = site(3)
            self.visible[cpu.id] = True
            self.violation(loc, where, f"{loc} changed by CPU{cpu.id}, not its own CPU, in {where} (CPU{cpu.id}, "
                                       f"{cpu.context})")
        elif self.list_head and cpu.irqs_on and self.depth.get(cpu.id, 0) <= 0:
            where = site(3)
            self.violation(loc, where, f"{loc} changed by CPU{cpu.id} without holding its pcp section (IRQs on, "
                                       f"outside the design's pcp lock) in {where} (CPU{cpu.id}, {cpu.context})")


def _get_nfp(zone: Any) -> int:
    value: int = zone.__dict__["nr_free_pages"]
    zone.tracer.read(f"{zone.name} NR_FREE_PAGES", value)
    return value


def _set_nfp(zone: Any, value: int) -> None:
    zone.tracer.nr_free_pages(zone, zone.__dict__["nr_free_pages"], value)
    zone.__dict__["nr_free_pages"] = value


def _add_free(zone: Any, pfn: int, order: int, mt: int) -> None:
    zone.tracer.free_area(zone)
    super(type(zone), zone)._add_free(pfn, order, mt)


def _del_free(zone: Any, pfn: int, order: int, mt: int) -> None:
    zone.tracer.free_area(zone)
    super(type(zone), zone)._del_free(pfn, order, mt)


_ZONE = {"nr_free_pages": property(_get_nfp, _set_nfp), "_add_free": _add_free, "_del_free": _del_free}


def _get_count(pcp: Any) -> int:
    value: int = _COUNT.__get__(pcp)
    pcp.tracer.read(f"{pcp.zone.name} pcp of CPU{pcp.cpu}: count", value)
    return value


def _set_count(pcp: Any, value: int) -> None:
    tracer = pcp.tracer
    if not tracer.active:
        _COUNT.__set__(pcp, value)
        return
    tracer.pcp_change(pcp, "count")
    tracer.write(f"{pcp.zone.name} pcp of CPU{pcp.cpu}: count", _COUNT.__get__(pcp), value,
                 visible=tracer.current().id != pcp.cpu)
    _COUNT.__set__(pcp, value)


_PCP = {"count": property(_get_count, _set_count)}


def _changes(name: str) -> Callable[..., Any]:
    def traced(lst: Any, *args: Any) -> Any:
        tracer = lst.tracer
        tracer.pcp_change(tracer.pcp_of[id(lst)], "list")
        return getattr(super(type(lst), lst), name)(*args)
    traced.__name__ = name
    return traced


_LIST = {name: _changes(name) for name in _LIST_OPS}

__all__ = ["Tracer", "site"]
