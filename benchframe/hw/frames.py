"""Frames and sites: the names attribution gives simulated cycles (``benchframe.hw.perf`` records them).

A ``Frame`` is one function of a simulated call stack -- a kernel symbol, or a function a real build inlines into
its caller. A method of the model that mirrors a kernel function carries its frame (``@symbol("rmqueue")``);
a charge that belongs to an inlined step, or to several functions at once, names them with a ``Site``. Both
are plain data: an ordinary run never looks at them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

F = TypeVar("F", bound="Callable[..., Any]")


class Frame:
    """One frame of a simulated call stack: a kernel symbol, or a function a real build inlines (``inline``:
    perf counts its cycles in the enclosing symbol's self time and shows it only with ``--inline``)."""

    __slots__ = ("name", "inline")
    name: str
    inline: bool
    _interned: dict[tuple[str, bool], Frame] = {}

    def __new__(cls, name: str, inline: bool = False) -> Frame:
        key = (name, inline)
        frame = cls._interned.get(key)
        if frame is None:
            frame = super().__new__(cls)
            frame.name = name
            frame.inline = inline
            cls._interned[key] = frame
        return frame

    def __repr__(self) -> str:
        return f"Frame({self.name!r}{', inline=True' if self.inline else ''})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Frame, (self.name, self.inline))

    @property
    def folded(self) -> str:
        """The frame in folded-stack text: inlined frames carry flamegraph.pl's ``_[i]`` annotation."""
        return f"{self.name}_[i]" if self.inline else self.name


#: what a charge holds beyond its body work, by the kind of line that missed (benchframe.hw.cache)
MISS_PAGE = Frame("[miss] struct page", inline=True)
MISS_SHARED = Frame("[miss] vm_stat", inline=True)
#: a charge with no site made outside every modelled function (a bug in the caller's naming)
UNKNOWN = Frame("[unknown]")


def symbol(name: str | Callable[..., tuple[Frame, ...]] | None, inline: bool = False) -> Callable[[F], F]:
    """Mark a method as modelling kernel function ``name`` (``inline``: inlined into its caller in a real
    build). ``name`` may be a function of the method's arguments giving its frames (one Python method that
    models two kernel entry points), or ``None``: the instance's ``frames`` attribute (a caller whose function
    is the workload's). The method is returned unchanged."""
    frame = Frame(name, inline) if isinstance(name, str) else name

    def mark(fn: F) -> F:
        fn.__frame__ = frame  # type: ignore[attr-defined]
        return fn
    return mark


def frames_of(*names: str, inline: bool = True) -> tuple[Frame, ...]:
    """Frames for a site: ``frames_of("zone_statistics")`` -> the inlined frame of that name."""
    return tuple(Frame(n, inline) for n in names)


class Site:
    """Where a charge's cycles go, relative to the current stack: ``parts`` of ``(frames, cycles)`` or
    ``(frames, cycles, up)`` -- ``frames`` below the current stack, or below the frame ``up`` levels above it
    (cycles of a caller the model charges together with its callee's). One part's cycles may be ``None``: the
    rest of the body. Cycles beyond the body (the cache model's) go to the part at index ``miss``, below a
    ``[miss]`` frame."""

    __slots__ = ("parts", "miss", "fixed")

    def __init__(self, *parts: tuple[Any, ...], miss: int = 0):
        self.parts: tuple[tuple[tuple[Frame, ...], int | None, int], ...] = tuple(
            (p[0], p[1], p[2] if len(p) > 2 else 0) for p in parts)
        self.miss = miss
        self.fixed = sum(c for _, c, _ in self.parts if c is not None)

    @classmethod
    def at(cls, *frames: Frame) -> Site:
        """Every cycle of the charge to ``frames`` (below the current stack)."""
        return cls((frames, None))

    def __repr__(self) -> str:
        return f"Site{self.parts!r}"


# -- the primitives the CPU charges itself: frames of an x86-64 build (5.13, !PREEMPT_RT) ------------------------
LOCAL_IRQ_SAVE = Site.at(Frame("local_irq_save", True))
LOCAL_IRQ_RESTORE = Site.at(Frame("local_irq_restore", True))
LOCAL_IRQ_DISABLE = Site.at(Frame("local_irq_disable", True))
LOCAL_IRQ_ENABLE = Site.at(Frame("local_irq_enable", True))
PREEMPT_DISABLE = Site.at(Frame("preempt_disable", True))
PREEMPT_ENABLE = Site.at(Frame("preempt_enable", True))
MIGRATE_DISABLE = Site.at(Frame("migrate_disable"))  # kernel/sched/core.c, a real function
MIGRATE_ENABLE = Site.at(Frame("migrate_enable"))
ATOMIC = Site.at(Frame("[atomic] lock-prefixed rmw", True))
#: a workload's own work between its calls into the allocator (what the benchmark or driver does itself)
OTHER_WORK = Site.at(Frame("[other work]"))
#: a CPU with nothing to run (waiting for another CPU's progress)
IDLE = Site.at(Frame("cpu_idle"))
