"""The evidence of a failing interleaving, as a kernel developer reads it: where in the model the interrupted code
was, which shared state the other context changed under it, and which of its local variables still hold the old
value.

*Where* is the chain of model functions on the stack (``traceback.extract_stack``: function names only, as an
oops prints them), restricted to the allocator (``benchframe.mm``) and the design's own modules. *What changed*
is a before/after comparison of the shared state the interrupted code may have read: every ``pcp->count`` and the
first entries of every per-CPU list, each zone's ``NR_FREE_PAGES``, its ``free_area[].nr_free`` and who holds its
``zone->lock``. *Stale* names each local variable of the interrupted model functions whose value is the
before-value of something that changed -- a pfn, a count, whatever it is -- and so no longer describes the kernel.
"""

from __future__ import annotations

import inspect
import traceback
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe.mm.page_alloc import Kernel

if TYPE_CHECKING:
    from types import FrameType

    from benchframe.records import Design

SHOWN_ENTRIES = 2  # head and head->next: what a list_del/llist_del_first has read before it writes
MM = str(Path(inspect.getsourcefile(Kernel) or "").parent)
MIN_STALE = 2  # locals of 0 and 1 match too much by chance (flags, loop counters) to be named


def model_files(design: Design) -> set[str]:
    """The source files of the design's classes and its pcp protocol: the frames worth naming."""
    files = set()
    factory = design.factory
    for cls in (*factory.__mro__, *factory.pcp_ops.__mro__):
        if cls.__module__ != "builtins":
            try:
                src = inspect.getsourcefile(cls)
            except TypeError:  # defined where no file says so (an interactive session)
                continue
            if src:
                files.add(src)
    return files


def _in_model(filename: str, files: set[str]) -> bool:
    return filename in files or filename.startswith(MM)


def where(files: set[str]) -> str:
    """The model functions on the current stack, outermost first (``alloc_bulk > rmqueue_pcplist > ...``)."""
    names: list[str] = []
    for frame in traceback.extract_stack():
        if _in_model(frame.filename, files) and not frame.name.startswith("_") \
                and (not names or names[-1] != frame.name):
            names.append(frame.name)
    return " > ".join(names) or "(entry)"


#: name -> the values the interrupted code may hold a copy of: a count, or the first pfns of a list
Snapshot = dict[str, tuple[object, ...]]


def snapshot(kernel: Kernel) -> Snapshot:
    """The shared state an interrupted allocator function may hold a stale copy of."""
    out: Snapshot = {}
    for zone in kernel.zones:
        out[f"{zone.name} NR_FREE_PAGES"] = (zone.nr_free_pages,)
        for order, nr in enumerate(zone.nr_free):
            out[f"{zone.name} free_area[{order}].nr_free"] = (nr,)
        owner = zone.lock.owner
        out[f"{zone.name} zone->lock owner"] = (owner.name if owner is not None else "none",)
        for pcp in zone.pcp:
            out[f"{zone.name} pcp of CPU{pcp.cpu}: count"] = (pcp.count,)
            for lst in pcp.lists:
                out[lst.name] = tuple(islice(iter(lst), SHOWN_ENTRIES + 1))
    return out


def _render(name: str, values: tuple[object, ...]) -> str:
    if "pcp[" in name:  # a list: its first pfns
        more = ", ..." if len(values) > SHOWN_ENTRIES else ""
        return "[" + ", ".join(f"pfn {p}" for p in values[:SHOWN_ENTRIES]) + more + "]"
    return str(values[0])


def changes(before: Snapshot, after: Snapshot) -> str:
    """``name before -> after`` for every entry that differs, ``; ``-separated ("" when nothing changed)."""
    return "; ".join(f"{k} {_render(k, v)} -> {_render(k, after.get(k, ()))}" for k, v in before.items()
                     if after.get(k) != v)


def model_frames(files: set[str], frame: FrameType | None = None, below: str | None = None) -> list[FrameType]:
    """The model functions' frames on a stack, innermost first: from ``frame`` (default: the caller's), or
    only those below the first frame of a function named ``below`` (an interrupt handler's ``_run_handler``:
    the frames of the code it interrupted)."""
    here = inspect.currentframe()
    f: FrameType | None = frame if frame is not None else (here.f_back if here is not None else None)
    if below is not None:
        while f is not None and f.f_code.co_name != below:
            f = f.f_back
    out = []
    while f is not None:
        if _in_model(f.f_code.co_filename, files) and not f.f_code.co_name.startswith("_"):
            out.append(f)
        f = f.f_back
    return out


def stale(frames: list[FrameType], before: Snapshot, after: Snapshot, who: str) -> str:
    """The interrupted code's locals that still hold a before-value of something that changed, e.g. ``CPU0's
    refill(): free = 16000 (Normal NR_FREE_PAGES is now 15990)``; ``""`` if none does."""
    changed = {k: (v, after.get(k, ())) for k, v in before.items() if after.get(k) != v}
    found: list[str] = []
    for f in frames:
        for var, value in f.f_locals.items():
            if var == "self" or type(value) is not int or value < MIN_STALE:
                continue
            for name, (old, new) in changed.items():
                if value in old and value not in new:
                    found.append(f"{who}'s {f.f_code.co_name}(): {var} = {value} (was in {name}, now "
                                 f"{_render(name, new)})")
                    break
    return "; ".join(dict.fromkeys(found))
