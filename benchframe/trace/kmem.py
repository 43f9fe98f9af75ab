"""The printed fields of the five kmem page tracepoints (``TP_printk`` of include/trace/events/kmem.h).

perf script and ftrace print the same text after the event name, e.g. for 6.18::

    mm_page_alloc:             page=%p pfn=0x%lx order=%d migratetype=%d gfp_flags=%s
    mm_page_free:              page=%p pfn=0x%lx order=%d
    mm_page_free_batched:      page=%p pfn=0x%lx order=0
    mm_page_alloc_zone_locked: page=%p pfn=0x%lx order=%u migratetype=%d percpu_refill=%d
    mm_page_pcpu_drain:        page=%p pfn=0x%lx order=%d migratetype=%d

Older kernels printed ``pfn=%lu`` (decimal), lacked ``percpu_refill`` and printed ``cold=%d`` on frees; both are
read. A failed allocation prints a NULL page (``(null)``, ``(nil)`` or zeros) and pfn 0.
"""

from __future__ import annotations

from benchframe.trace.events import (
    MM_PAGE_ALLOC,
    MM_PAGE_ALLOC_ZONE_LOCKED,
    MM_PAGE_FREE,
    MM_PAGE_FREE_BATCHED,
    MM_PAGE_PCPU_DRAIN,
    NONE,
)

# An ftrace stack starts in the tracepoint's probe, named after the event *class*: mm_page_alloc_zone_locked
# and mm_page_pcpu_drain are both DEFINE_EVENT(mm_page, ...).
PROBE_PREFIX = "trace_event_raw_event_"
PROBE_CLASSES = {
    "mm_page_alloc": frozenset({MM_PAGE_ALLOC}),
    "mm_page_free": frozenset({MM_PAGE_FREE}),
    "mm_page_free_batched": frozenset({MM_PAGE_FREE_BATCHED}),
    "mm_page": frozenset({MM_PAGE_ALLOC_ZONE_LOCKED, MM_PAGE_PCPU_DRAIN}),
}


def probe_events(frame: str) -> frozenset[int] | None:
    """The events whose stack can start with ``frame``: None if it is no probe (any event), empty if it is the
    probe of another tracepoint."""
    if not frame.startswith(PROBE_PREFIX):
        return None
    return PROBE_CLASSES.get(frame[len(PROBE_PREFIX):], frozenset())


_NULL_PAGES = frozenset({"(null)", "(nil)", "0", "0x0", "NULL"})
MAX_PFN = 2**63 - 1  # the stored column is int64; a real pfn is below 2**52 (52 bits of physical address)
MAX_ORDER = 20  # no kernel has had a larger buddy order (MAX_PAGE_ORDER is 10 on x86, at most 15 elsewhere)


def _int(text: str, what: str) -> int:
    try:
        return int(text, 16) if text.startswith(("0x", "0X")) else int(text)
    except ValueError:
        raise ValueError(f"{what}={text!r} is not a number") from None


def _pfn(page: str, text: str) -> int:
    """The pfn field, in the range a page frame number has (never wrapped); ``NONE`` for a failed allocation."""
    pfn = _int(text, "pfn")
    if not 0 <= pfn <= MAX_PFN:
        raise ValueError(f"pfn={text} is out of range (a page frame number is from 0 to 2**63-1)")
    if page in _NULL_PAGES or (page and set(page) == {"0"}):
        return NONE  # the allocation failed
    return pfn


def parse_fields(event: int, text: str) -> tuple[int, int, int, str, int]:
    """``(pfn, order, migratetype, gfp, percpu_refill)`` from the fields of ``event`` (an EVENTS index).

    Raises ``ValueError`` with the reason when a field the event always prints is missing or not a number.
    """
    fields: dict[str, str] = {}
    for token in text.split():
        key, eq, value = token.partition("=")
        if not eq:
            raise ValueError(f"field {token!r} is not key=value")
        fields[key] = value
    for key in ("page", "pfn") if event == MM_PAGE_FREE_BATCHED else ("page", "pfn", "order"):
        if key not in fields:
            raise ValueError(f"no {key}= field")
    pfn = _pfn(fields["page"], fields["pfn"])
    order = _int(fields.get("order", "0"), "order")
    if not 0 <= order <= MAX_ORDER:
        raise ValueError(f"order={order} out of range")
    migratetype = NONE
    gfp = ""
    percpu_refill = NONE
    if event in (MM_PAGE_ALLOC, MM_PAGE_ALLOC_ZONE_LOCKED, MM_PAGE_PCPU_DRAIN):
        if "migratetype" not in fields:
            raise ValueError("no migratetype= field")
        migratetype = _int(fields["migratetype"], "migratetype")
    if event == MM_PAGE_ALLOC:
        if "gfp_flags" not in fields:
            raise ValueError("no gfp_flags= field")
        gfp = fields["gfp_flags"]
    if event == MM_PAGE_ALLOC_ZONE_LOCKED and "percpu_refill" in fields:
        percpu_refill = _int(fields["percpu_refill"], "percpu_refill")
    return pfn, order, migratetype, gfp, percpu_refill


def time_ns(text: str) -> int:
    """``"3137.339045"`` (seconds, any number of decimals up to 9) -> 3137339045000 ns, exactly."""
    seconds, _, fraction = text.partition(".")
    return int(seconds) * 1_000_000_000 + int((fraction + "000000000")[:9])
