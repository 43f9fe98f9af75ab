"""The kmem page events a trace holds, and the columns an imported trace keeps of them.

The five tracepoints are those of ``include/trace/events/kmem.h`` (unchanged in name from 5.x to 6.18). A parser
turns one event of text into a ``PageEvent``; the store keeps the events as columns (``COLUMNS``), with the
string-valued ones dictionary-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the page-allocator tracepoints an import keeps, in the order of their stored code (never reorder: the code is
#: what an imported file stores)
EVENTS = ("mm_page_alloc", "mm_page_free", "mm_page_free_batched", "mm_page_alloc_zone_locked", "mm_page_pcpu_drain")
EVENT_CODE = {name: code for code, name in enumerate(EVENTS)}
MM_PAGE_ALLOC = EVENT_CODE["mm_page_alloc"]
MM_PAGE_FREE = EVENT_CODE["mm_page_free"]
MM_PAGE_FREE_BATCHED = EVENT_CODE["mm_page_free_batched"]
MM_PAGE_ALLOC_ZONE_LOCKED = EVENT_CODE["mm_page_alloc_zone_locked"]
MM_PAGE_PCPU_DRAIN = EVENT_CODE["mm_page_pcpu_drain"]

#: the execution context of an event, as far as the trace tells: ftrace's irq-info column says it outright; a
#: call chain says it through its interrupt-entry and softirq frames; a perf trace without call chains cannot
#: tell (``unknown``). Stored as the index (never reorder).
CONTEXTS = ("unknown", "task", "softirq", "hardirq", "nmi")
CONTEXT_CODE = {name: code for code, name in enumerate(CONTEXTS)}

#: an int column's value where the event does not record the field (e.g. migratetype of mm_page_free), or pfn of
#: an allocation that failed (the tracepoint prints page=NULL)
NONE = -1

#: call-site names for events that have none to give
NO_CALLCHAIN = "(no call chain)"
INSIDE_ALLOCATOR = "(allocator only)"  # the chain has only allocator-internal frames (e.g. truncated)


@dataclass(slots=True)
class PageEvent:
    """One kmem page event as parsed from text, before it is stored.

    ``frames`` are the call chain's symbols, innermost first, without ``+offset`` (``None``: the trace has no
    call chain for it); ``context`` is set where the trace states it (ftrace's irq-info column), else derived
    from ``frames`` when stored.
    """

    line: int
    time_ns: int
    cpu: int
    pid: int
    comm: str
    event: int  # index into EVENTS
    pfn: int
    order: int
    migratetype: int = NONE
    gfp: str = ""  # as printed (``GFP_KERNEL|__GFP_ZERO``); "" for the events that do not record it
    percpu_refill: int = NONE  # mm_page_alloc_zone_locked only: 1 when the page refills a pcp list
    frames: tuple[str, ...] | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class StackTrace:
    """ftrace's ``<stack trace>`` record: the chain of an earlier event of the same CPU and task."""

    line: int
    cpu: int
    pid: int
    frames: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """An event of another tracepoint: counted and ignored."""

    line: int
    name: str


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is neither an event, a frame of one, a comment nor blank."""

    line: int
    reason: str
    text: str = ""  # the line, for the error message


@dataclass(frozen=True, slots=True)
class LostEvents:
    """ftrace's ``CPU:N [LOST M EVENTS]``: the ring buffer overflowed; runs across the gap are not to be trusted."""

    line: int
    cpu: int
    count: int


@dataclass(frozen=True, slots=True)
class MachineInfo:
    """What the capture's header says of the machine (``perf script --header``: ``# nrcpus online : 2``,
    ``# total memory : 12235412 kB``, ``# os release : 6.18.0``; trace-cmd report's ``cpus=2``): one field a
    record, the others empty."""

    line: int
    nrcpus_online: int = 0
    total_memory_kb: int = 0
    os_release: str = ""


#: what a parser yields
Record = PageEvent | StackTrace | OtherEvent | BadLine | LostEvents | MachineInfo


#: the stored columns, one value per event, in file order (which is time order for perf script and ftrace).
#: ``*_id`` columns index the string table of the same stem (``comm_id`` -> ``comms``).
COLUMNS: dict[str, np.dtype] = {
    "time_ns": np.dtype(np.int64),  # trace clock, ns; for ordering and idle gaps only, never a cost
    "cpu": np.dtype(np.int32),
    "pid": np.dtype(np.int32),
    "comm_id": np.dtype(np.uint32),
    "event": np.dtype(np.uint8),  # index into EVENTS
    "pfn": np.dtype(np.int64),  # NONE for a failed allocation
    "order": np.dtype(np.int8),
    "migratetype": np.dtype(np.int8),  # NONE where the event does not record it
    "gfp_id": np.dtype(np.uint32),  # into gfps (text as printed); gfp_masks decodes them
    "percpu_refill": np.dtype(np.int8),
    "call_site_id": np.dtype(np.uint32),  # into call_sites: the first frame outside the page allocator
    "stack_id": np.dtype(np.uint32),  # into stacks: the whole chain, so a later tool can re-derive call sites
    "context": np.dtype(np.uint8),  # index into CONTEXTS
}

#: the string tables the ``*_id`` columns index
STRING_TABLES = ("comms", "gfps", "call_sites", "stacks")
