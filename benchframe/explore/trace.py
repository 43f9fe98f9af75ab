"""The steps of an interleaving as a kernel developer reads them: where in the model the interrupt landed,
and which shared state its handler changed under the interrupted code.

*Where* is the chain of model functions on the stack (``traceback.extract_stack``: function names only, as an
oops prints them), restricted to the allocator (``benchframe.mm``) and the design's own modules. *What
changed* is a before/after comparison of the state the interrupted code may have read: the first entries of
every per-CPU list and every ``pcp->count``. Whatever the interrupted function had read, the stale value is
one of those before-values: no local variable of the model is read.
"""

from __future__ import annotations

import inspect
import traceback
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe.mm.page_alloc import Kernel

if TYPE_CHECKING:
    from benchframe.records import Design

SHOWN_ENTRIES = 2  # head and head->next: what a list_del/llist_del_first has read before it writes
MM = str(Path(inspect.getsourcefile(Kernel) or "").parent)


def model_files(design: Design) -> set[str]:
    """The source files of the design's classes and its pcp protocol: the frames worth naming."""
    files = set()
    factory = design.factory
    for cls in (*factory.__mro__, *factory.pcp_ops.__mro__):
        if cls.__module__ != "builtins":
            src = inspect.getsourcefile(cls)
            if src:
                files.add(src)
    return files


def where(files: set[str]) -> str:
    """The model functions on the current stack, outermost first (``alloc_bulk > rmqueue_pcplist > ...``)."""
    names: list[str] = []
    for frame in traceback.extract_stack():
        if (frame.filename in files or frame.filename.startswith(MM)) and not frame.name.startswith("_") \
                and (not names or names[-1] != frame.name):
            names.append(frame.name)
    return " > ".join(names) or "(entry)"


Snapshot = dict[str, str]


def snapshot(kernel: Kernel) -> Snapshot:
    """The shared per-CPU state an interrupted allocator function may hold a stale copy of."""
    out: Snapshot = {}
    for zone in kernel.zones:
        for pcp in zone.pcp:
            out[f"{zone.name} pcp of CPU{pcp.cpu}: count"] = str(pcp.count)
            for lst in pcp.lists:
                head = list(islice(iter(lst), SHOWN_ENTRIES + 1))
                more = ", ..." if len(head) > SHOWN_ENTRIES else ""
                out[lst.name] = "[" + ", ".join(f"pfn {p}" for p in head[:SHOWN_ENTRIES]) + more + "]"
    return out


def changes(before: Snapshot, after: Snapshot) -> str:
    """``name before -> after`` for every entry that differs, ``; ``-separated ("" when nothing changed)."""
    return "; ".join(f"{k} {v} -> {after.get(k)}" for k, v in before.items() if after.get(k) != v)
