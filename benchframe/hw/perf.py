"""Attribution: every simulated cycle charged to the kernel function the model mirrors where it is spent, as a
call stack of frames -- what ``perf record -g`` would have sampled on the simulated machine.

The model names its functions where they are defined, not where they are charged:

* a method that models a kernel function carries its symbol (``@symbol("rmqueue")``, or ``inline=True`` for a
  function a real build inlines into its caller, e.g. ``__rmqueue_pcplist`` in 5.13). The decorator returns the
  function unchanged: an ordinary run pays nothing for it.
* A charge of cycles that belong to an inlined step of the current function, or to several functions at once
  (the hot path folds a page's statistics, prep and store into one charge) names them with a ``Site``: frames
  below the current stack and how many of the charged cycles each gets.
* Cache misses are told apart by the cache model: whatever a charge contains beyond its body work came from
  ``benchframe.hw.cache`` and is shown as ``[miss] struct page`` (or ``[miss] vm_stat``) below the frame that
  paid it; the primitives the CPU charges itself (``local_irq_save``, ``preempt_disable``, an atomic, a spin
  lock) are frames of their own, inlined or not as in an x86-64 build.

Attribution is switched on per machine (``Machine(..., perf=Profile())``): the CPUs become ``ProfilingCPU``s,
the cache a ``ProfilingCache``, and every class whose methods carry symbols is instantiated as an
``instrumented`` subclass whose tagged methods push and pop their frame. Nothing else changes: the same
charges happen at the same points, so an attributed run's numbers are the unattributed run's, and the cycles
attributed on a CPU sum exactly to the cycles its clock advanced (``Profile.total``).
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, TypeVar

from benchframe.hw.cache import CacheModel
from benchframe.hw.cpu import CPU
from benchframe.hw.frames import LOCAL_IRQ_RESTORE, LOCAL_IRQ_SAVE, MISS_PAGE, MISS_SHARED, UNKNOWN, Frame

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from benchframe.hw.frames import Site

C = TypeVar("C", bound=type)


class Profile:
    """The attributed cycles of one machine: folded stacks (tuples of frames, root first) -> cycles."""

    def __init__(self) -> None:
        self.stacks: dict[tuple[Frame, ...], int] = {}
        self.cache: ProfilingCache | None = None

    def reset(self) -> None:
        """Forget what was attributed so far (after a warm-up), with the clocks' own counters."""
        self.stacks.clear()

    @property
    def total(self) -> int:
        return sum(self.stacks.values())

    def add(self, stack: tuple[Frame, ...], cycles: int) -> None:
        if cycles:
            self.stacks[stack] = self.stacks.get(stack, 0) + cycles

    def record(self, stack: list[Frame], site: Site | None, cycles: int, miss_page: int, miss_shared: int) -> None:
        """Attribute one charge of ``cycles`` made with ``stack`` current; ``miss_*`` of them the cache's."""
        base = tuple(stack)
        body = cycles - miss_page - miss_shared
        if site is None:
            base = base or (UNKNOWN,)  # a charge outside every modelled function, and nameless
            self.add(base, body)
            miss_at = base
        else:
            rest = body - site.fixed
            if rest < 0 or (rest and all(c is not None for _, c, _ in site.parts)):
                raise AssertionError(f"site {site!r} does not account for a charge of {body} body cycles "
                                     f"under {'>'.join(f.name for f in base)}")
            for frames, c, up in site.parts:
                self.add((base[:len(base) - up] if up else base) + frames, rest if c is None else c)
            frames, _, up = site.parts[site.miss]
            miss_at = (base[:len(base) - up] if up else base) + frames
        self.add(miss_at + (MISS_PAGE,), miss_page)
        self.add(miss_at + (MISS_SHARED,), miss_shared)

    def folded(self) -> dict[str, int]:
        """``frame;frame;frame`` -> cycles, sorted (the input of flamegraph.pl, inferno, speedscope)."""
        out: dict[str, int] = {}
        for stack, cycles in self.stacks.items():
            key = ";".join(f.folded for f in stack)
            out[key] = out.get(key, 0) + cycles
        return dict(sorted(out.items()))


class ProfilingCPU(CPU):
    """A CPU whose charges are attributed (``Profile.record``) to its current stack of frames before they are
    spent, so an interrupt the charge delivers runs with its own frames on top."""

    __slots__ = ("prof", "stack")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.prof: Profile = Profile()  # the machine's, once it is built
        self.stack: list[Frame] = []

    def _record(self, site: Site | None, cycles: int) -> None:
        prof = self.prof
        cache = prof.cache
        miss_page = miss_shared = 0
        if cache is not None:
            c = self.id
            miss_page, miss_shared = cache.pending_page[c], cache.pending_shared[c]
            cache.pending_page[c] = cache.pending_shared[c] = 0
        prof.record(self.stack, site, cycles, miss_page, miss_shared)

    def charge(self, cycles: int, site: Site | None = None) -> None:
        self._record(site, cycles)
        super().charge(cycles)

    def account(self, cycles: int, site: Site | None = None) -> None:
        self._record(site, cycles)

    def frame_push(self, frames: Iterable[Frame]) -> None:
        self.stack.extend(frames)

    def frame_pop(self, n: int = 1) -> None:
        del self.stack[len(self.stack) - n:]

    # local_irq_save/restore charge inline (not through charge()): the two that need their own record
    def local_irq_save(self) -> bool:
        self._record(LOCAL_IRQ_SAVE, self._irq_half[0])
        return super().local_irq_save()

    def local_irq_restore(self, flags: bool) -> None:
        self._record(LOCAL_IRQ_RESTORE, self._irq_half[1])
        super().local_irq_restore(flags)


class ProfilingCache(CacheModel):
    """The cache model, remembering per CPU the cycles its answers added since that CPU's last charge: the
    charge they are part of gives them to a ``[miss]`` frame."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        n = len(self.seq)
        self.pending_page = [0] * n
        self.pending_shared = [0] * n

    def touch(self, cpu: CPU, pfn: int) -> int:
        extra = super().touch(cpu, pfn)
        self.pending_page[cpu.id] += extra
        return extra

    def touch2(self, cpu: CPU, pfn: int, other: int) -> int:
        extra = super().touch2(cpu, pfn, other)
        self.pending_page[cpu.id] += extra
        return extra

    def prefetch(self, cpu: CPU, pfn: int) -> int:
        extra = super().prefetch(cpu, pfn)
        self.pending_page[cpu.id] += extra
        return extra

    def walk(self, cpu: CPU, pfns: list[int], dependent: bool) -> int:
        extra = super().walk(cpu, pfns, dependent)
        self.pending_page[cpu.id] += extra
        return extra

    def read_shared(self, cpu: CPU, line: int) -> int:
        extra = super().read_shared(cpu, line)
        self.pending_shared[cpu.id] += extra
        return extra

    def write_shared(self, cpu: CPU, line: int) -> int:
        extra = super().write_shared(cpu, line)
        self.pending_shared[cpu.id] += extra
        return extra


# -- instrumented classes: the tagged methods push their frames ------------------------------------------------
_instrumented: dict[type, type] = {}


def instrumented(cls: C) -> C:
    """A subclass of ``cls`` whose methods tagged with ``@symbol`` (on it or on a class it derives from: an
    override keeps the symbol of what it overrides) push their frame on the CPU they run on while they run.
    Class attributes ``list_class`` and the like that name an instrumentable class are instrumented too."""
    sub = _instrumented.get(cls)
    if sub is not None:
        return sub  # type: ignore[return-value]
    namespace: dict[str, Any] = {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                                 "__instrumented__": cls}
    if "__slots__" in cls.__dict__ or any("__slots__" in b.__dict__ for b in cls.__mro__[1:]):
        namespace["__slots__"] = ()
    for name in dir(cls):
        fn = getattr(cls, name, None)
        if not callable(fn) or name.startswith("__"):
            continue
        frame = _frame_in_mro(cls, name)
        if frame is not False:
            namespace[name] = _framed(fn, frame)
    for attr in ("list_class",):
        value = getattr(cls, attr, None)
        if isinstance(value, type):
            namespace[attr] = instrumented(value)
    sub = type(cls.__name__, (cls,), namespace)
    _instrumented[cls] = sub
    return sub  # type: ignore[return-value]


def uninstrumented(cls: type) -> type:
    """The class an instrumented subclass was made of (itself for any other class)."""
    base: type = cls.__dict__.get("__instrumented__", cls)
    return base


def _frame_in_mro(cls: type, name: str) -> Any:
    """The frame of the nearest definition of ``name`` that carries one (a ``Frame``, a function of the
    arguments, or None: the instance's ``frames``); False when none does."""
    for klass in cls.__mro__:
        fn = klass.__dict__.get(name)
        if fn is not None and hasattr(fn, "__frame__"):
            return fn.__frame__
    return False


def _framed(fn: Callable[..., Any], frame: Any) -> Callable[..., Any]:
    """``fn`` pushing its frames (``frame``, ``frame(self, *args)``, or ``self.frames``) on the CPU it runs on:
    its ``cpu`` argument, else ``self.cpu``."""
    params = list(inspect.signature(fn).parameters)
    cpu_index = params.index("cpu") - 1 if "cpu" in params else None

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if cpu_index is None:
            cpu = self.cpu
        elif cpu_index < len(args):
            cpu = args[cpu_index]
        else:
            cpu = kwargs["cpu"]
        if frame is None:
            frames = self.frames
        elif isinstance(frame, Frame):
            frames = (frame,)
        else:
            frames = frame(self, *args, **kwargs)
        stack = cpu.stack
        depth = len(stack)
        stack.extend(frames)
        try:
            return fn(self, *args, **kwargs)
        finally:
            del stack[depth:]
    return wrapper


# -- what perf report makes of folded stacks -----------------------------------------------------------------
def parse_stack(stack: str) -> list[Frame]:
    """``"a;b_[i];c"`` -> the frames (``_[i]``: inlined)."""
    return [Frame(f[:-4], True) if f.endswith("_[i]") else Frame(f) for f in stack.split(";")]


def symbol_of(frames: list[Frame]) -> tuple[str, tuple[str, ...]]:
    """The symbol perf puts a sample of this stack in -- its innermost frame that is not inlined (the first
    frame if every one is) -- and the inlined frames below it."""
    for i in range(len(frames) - 1, -1, -1):
        if not frames[i].inline:
            return frames[i].name, tuple(f.name for f in frames[i + 1:])
    return frames[0].name, tuple(f.name for f in frames[1:])


def self_cycles(folded: dict[str, int]) -> dict[str, int]:
    """Cycles per symbol as ``perf report --no-children --sort symbol`` counts them: each stack's cycles go
    to its innermost symbol of its own; inlined callees count in their caller's self time."""
    out: dict[str, int] = {}
    for stack, cycles in folded.items():
        name, _ = symbol_of(parse_stack(stack))
        out[name] = out.get(name, 0) + cycles
    return out


def children_cycles(folded: dict[str, int]) -> dict[str, int]:
    """Cycles per symbol with everything it calls (``perf report --children``): each stack counts once for
    every distinct symbol of its own on it."""
    out: dict[str, int] = {}
    for stack, cycles in folded.items():
        for name in {f.name for f in parse_stack(stack) if not f.inline}:
            out[name] = out.get(name, 0) + cycles
    return out


def inlined_cycles(folded: dict[str, int]) -> dict[tuple[str, tuple[str, ...]], int]:
    """A symbol's self cycles split by the chain of inlined frames they were charged in (``()``: its own
    body): ``perf report --inline``'s view of where inside a symbol the cycles go."""
    out: dict[tuple[str, tuple[str, ...]], int] = {}
    for stack, cycles in folded.items():
        key = symbol_of(parse_stack(stack))
        out[key] = out.get(key, 0) + cycles
    return out
