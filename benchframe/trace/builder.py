"""Building an imported trace: ``EventBuilder`` collects the events a parser reads into ``TraceEvents``."""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

from benchframe.trace.callsite import CallSites, context_of
from benchframe.trace.events import COLUMNS, CONTEXT_CODE, STRING_TABLES, PageEvent, StackTrace
from benchframe.trace.gfp import decode_gfp
from benchframe.trace.kmem import probe_events
from benchframe.trace.table import TraceEvents, TraceMeta

_TYPECODE = {"int64": "q", "int32": "i", "uint32": "I", "uint8": "B", "int8": "b"}
AWAIT_STACKS = 16


class EventBuilder:
    """Collects parsed events into growing typed arrays (about 45 bytes an event), interning strings."""

    def __init__(self, call_sites: CallSites | None = None) -> None:
        self.call_sites = call_sites or CallSites()
        self._cols = {name: array(_TYPECODE[str(dtype)]) for name, dtype in COLUMNS.items()}
        self._ids: dict[str, dict[str, int]] = {table: {} for table in STRING_TABLES}
        self._chains: dict[tuple[str, ...] | None, tuple[int, int, int]] = {}
        # ftrace: per CPU, the latest events still waiting for their <stack trace> (index, event, pid, context
        # given); a few suffice, as only interrupts nested in a stack walk put events between an event and its stack
        self._awaiting: dict[int, list[tuple[int, int, int, bool]]] = {}
        self.with_callchain = 0

    def _intern(self, table: str, text: str) -> int:
        ids = self._ids[table]
        found = ids.get(text)
        if found is None:
            found = ids[text] = len(ids)
        return found

    def _chain(self, frames: tuple[str, ...] | None) -> tuple[int, int, int]:
        """(stack id, call-site id, context code) of a call chain, computed once per distinct chain."""
        known = self._chains.get(frames)
        if known is None:
            stack = self._intern("stacks", ";".join(frames) if frames is not None else "")
            site = self._intern("call_sites", self.call_sites.call_site(frames))
            known = self._chains[frames] = (stack, site, CONTEXT_CODE[context_of(frames)])
        return known

    def __len__(self) -> int:
        return len(self._cols["time_ns"])

    @staticmethod
    def problem(ev: PageEvent) -> str | None:
        """Why ``ev`` cannot be stored as it is (a field beyond its column's integer range), or None: stored
        numbers are never wrapped or clipped."""
        for name in ("time_ns", "cpu", "pid", "pfn", "order", "migratetype", "percpu_refill"):
            bounds = np.iinfo(COLUMNS[name])
            value = getattr(ev, name)
            if not bounds.min <= value <= bounds.max:
                return f"{name}={value} is out of range ({bounds.min} to {bounds.max})"
        return None

    def add(self, ev: PageEvent) -> None:
        c = self._cols
        stack, site, context = self._chain(ev.frames)
        if ev.frames is not None:
            self.with_callchain += 1
        if ev.context is not None:
            context = CONTEXT_CODE[ev.context]
        if ev.frames is None:
            waiting = self._awaiting.setdefault(ev.cpu, [])
            waiting.append((len(self), ev.event, ev.pid, ev.context is not None))
            if len(waiting) > AWAIT_STACKS:
                del waiting[0]
        c["time_ns"].append(ev.time_ns)
        c["cpu"].append(ev.cpu)
        c["pid"].append(ev.pid)
        c["comm_id"].append(self._intern("comms", ev.comm))
        c["event"].append(ev.event)
        c["pfn"].append(ev.pfn)
        c["order"].append(ev.order)
        c["migratetype"].append(ev.migratetype)
        c["gfp_id"].append(self._intern("gfps", ev.gfp))
        c["percpu_refill"].append(ev.percpu_refill)
        c["call_site_id"].append(site)
        c["stack_id"].append(stack)
        c["context"].append(context)

    def attach(self, st: StackTrace) -> bool:
        """Give ftrace's ``<stack trace>`` to its event: the latest of its CPU and task still without one, of a
        tracepoint its probe frame allows (``trace_event_raw_event_mm_page_alloc``). False if there is none (the
        stack of another tracepoint's event, or of an event the buffer lost)."""
        waiting = self._awaiting.get(st.cpu)
        if not waiting:
            return False
        events = probe_events(st.frames[0]) if st.frames else None
        for k in range(len(waiting) - 1, -1, -1):
            index, code, pid, context_given = waiting[k]
            if pid == st.pid and (events is None or code in events):
                del waiting[k]
                break
        else:
            return False
        stack, site, context = self._chain(st.frames)
        self._cols["stack_id"][index] = stack
        self._cols["call_site_id"][index] = site
        if not context_given:
            self._cols["context"][index] = context
        self.with_callchain += 1
        return True

    def build(self, meta: TraceMeta) -> TraceEvents:
        self._chain(None)  # NO_CALLCHAIN is always in the table, so a summary can name it
        cols: dict[str, Any] = {name: np.frombuffer(self._cols[name], dtype=dtype).copy()
                                for name, dtype in COLUMNS.items()}
        # dicts keep insertion (= id) order
        tables: dict[str, Any] = {table: list(ids) for table, ids in self._ids.items()}
        meta.with_callchain = self.with_callchain
        masks = np.array([decode_gfp(text).mask for text in tables["gfps"]], dtype=np.uint64)
        return TraceEvents(**cols, **tables, gfp_masks=masks, meta=meta)
