"""``benchframe trace summary``: per call site, what was allocated, how, and what a bulk call could have served.

Tables in the style of mmtests, rendered in any ``--format`` by the output stack (``benchframe.output``): the
events, allocations by order (with plainly how much of the workload the order-0-only bulk API cannot touch), per
call site the orders, gfp flags and contexts, the allocations of order > 0 by call site, and the order-0 runs
(``runs.py``) per call site and as a histogram.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from benchframe.output import Document, Heading, Note, Table
from benchframe.trace.events import CONTEXTS, EVENTS, MM_PAGE_ALLOC, NO_CALLCHAIN, NONE
from benchframe.trace.runs import Runs, find_runs, histogram, nearest_rank

if TYPE_CHECKING:
    from benchframe.trace.store import TraceEvents

RUN_COLUMNS = 6  # call sites shown side by side in the run tables (mmtests puts one kernel per column)


@dataclass
class Site:
    """One call site's allocations (successful ones) and runs."""

    name: str
    orders: Counter[int] = field(default_factory=Counter)  # allocations by order
    gfps: Counter[str] = field(default_factory=Counter)
    contexts: Counter[str] = field(default_factory=Counter)
    runs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # order-0 run lengths

    @property
    def allocations(self) -> int:
        return sum(self.orders.values())

    @property
    def pages(self) -> int:
        return sum(n << order for order, n in self.orders.items())


@dataclass
class TraceSummary:
    events: TraceEvents
    runs: Runs
    sites: list[Site]  # most pages first
    failed: int  # allocations that returned no page

    @property
    def orders(self) -> Counter[int]:
        total: Counter[int] = Counter()
        for site in self.sites:
            total.update(site.orders)
        return total


def summarise(events: TraceEvents, gap_ns: int) -> TraceSummary:
    alloc = (events.event == MM_PAGE_ALLOC) & (events.pfn != NONE)
    failed = int(((events.event == MM_PAGE_ALLOC) & (events.pfn == NONE)).sum())
    sites: dict[int, Site] = {}
    ids = events.call_site_id[alloc]
    # group with numpy, then one small Counter per (site, value) pair instead of one update per event
    for column, attr, name_of in (
        (events.order[alloc], "orders", int),
        (events.gfp_id[alloc], "gfps", lambda g: events.gfps[g] or "-"),
        (events.context[alloc], "contexts", lambda c: CONTEXTS[c]),
    ):
        pairs, counts = np.unique(np.stack([ids.astype(np.int64), column.astype(np.int64)]), axis=1,
                                  return_counts=True)
        for (site_id, value), n in zip(pairs.T, counts):
            site = sites.setdefault(int(site_id), Site(events.call_sites[int(site_id)]))
            getattr(site, attr)[name_of(int(value))] += int(n)
    runs = find_runs(events, gap_ns)
    for site_id, site in sites.items():
        site.runs = runs.length[runs.call_site_id == site_id]
    ordered = sorted(sites.values(), key=lambda s: (-s.pages, -s.allocations, s.name))
    return TraceSummary(events, runs, ordered, failed)


# ---- rendering ---------------------------------------------------------------------------------------------------
def gap_label(gap_ns: int) -> str:
    """The gap in microseconds as given: ``20``, ``2.5``, ``1000000``."""
    return f"{gap_ns / 1000:f}".rstrip("0").rstrip(".")


def _n(value: int) -> str:
    return f"{value:,}"


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"


def _share(counter: Counter[str], limit: int = 3) -> str:
    total = sum(counter.values())
    parts = [f"{name} {_pct(n, total)}" for name, n in counter.most_common(limit)]
    return ", ".join(parts) + (f" (+{len(counter) - limit} more)" if len(counter) > limit else "")


def statements(s: TraceSummary) -> list[str]:
    """What the numbers mean, in sentences: the applicability of the bulk API, and the trace's limits."""
    ev = s.events
    out = []
    orders = s.orders
    allocs = sum(orders.values())
    pages = sum(n << order for order, n in orders.items())
    high_allocs = allocs - orders.get(0, 0)
    high_pages = pages - orders.get(0, 0)
    if high_pages * 2 > pages:
        out.append(f"Most pages are order > 0: {_pct(high_pages, pages)} of the pages allocated "
                   f"({_pct(high_allocs, allocs)} of the allocations). The bulk API allocates order-0 pages only "
                   "and does not apply to them.")
    elif high_allocs:
        out.append(f"{_pct(high_pages, pages)} of the pages allocated ({_pct(high_allocs, allocs)} of the "
                   "allocations) are order > 0, which the bulk API (order-0 only) does not serve.")
    if not allocs:
        out.append("The trace has no successful mm_page_alloc event: nothing a bulk call could serve.")
    in_runs = s.runs.length[s.runs.length >= 2]
    zero = orders.get(0, 0)
    if zero:
        out.append(f"Order-0 runs of 2 or more pages hold {_n(int(in_runs.sum()))} pages in {_n(len(in_runs))} "
                   "runs: "
                   f"{_pct(int(in_runs.sum()), zero)} of the order-0 pages, {_pct(int(in_runs.sum()), pages)} of "
                   "all pages allocated. That is the part one bulk call per run could serve.")
    if not ev.has_callchains:
        out.append("This trace has no call chains: call sites are unknown, so allocations can only be grouped by "
                   "CPU and time (a run is consecutive order-0 allocations on one CPU, whoever made them), and the "
                   "runs above are an upper bound. Record with 'perf record -g' or ftrace's stacktrace option to "
                   "see call sites and contexts.")
    elif ev.meta.with_callchain < len(ev):
        out.append(f"{_n(len(ev) - ev.meta.with_callchain)} of {_n(len(ev))} events came without a call chain; "
                   f"they are listed as '{NO_CALLCHAIN}'.")
    if (ev.context == CONTEXTS.index("unknown")).all():
        out.append("The trace does not tell the context (task, softirq or hardirq) of any event.")
    if s.failed:
        out.append(f"{_n(s.failed)} allocations failed (page=NULL) and are left out.")
    if ev.meta.lost_events:
        out.append(f"The trace lost {_n(ev.meta.lost_events)} events (ring buffer full): runs across those gaps "
                   "are incomplete.")
    return out


def tables(s: TraceSummary, top: int = 20) -> list[Table]:
    ev = s.events
    meta = ev.meta
    gap_us = gap_label(s.runs.gap_ns)
    out = [Table("Events", ["event", "count"],
                 [[name, _n(meta.counts.get(name, 0))] for name in EVENTS]
                 + [[f"(ignored) {name}", _n(n)] for name, n in meta.other_events.items()])]

    orders = s.orders
    allocs = sum(orders.values())
    pages = sum(n << order for order, n in orders.items())
    out.append(Table(
        "Allocations by order", ["order", "allocations", "% allocations", "pages", "% pages", "bulk API"],
        [[str(order), _n(n), _pct(n, allocs), _n(n << order), _pct(n << order, pages),
          "order-0: yes" if order == 0 else "no (order > 0)"] for order, n in sorted(orders.items())]
        + [["all", _n(allocs), "100.0%", _n(pages), "100.0%", ""]]))

    shown = s.sites if top == 0 else s.sites[:top]
    rows = [[site.name, _n(site.allocations), _n(site.pages),
             " ".join(f"{o}:{_n(n)}" for o, n in sorted(site.orders.items())), _share(site.gfps, 1),
             _share(site.contexts)] for site in shown]
    rest = s.sites[len(shown):]
    note = (f"{len(rest)} more call sites with {_n(sum(x.allocations for x in rest))} allocations "
            f"({_n(sum(x.pages for x in rest))} pages); --top 0 lists all.") if rest else ""
    out.append(Table("Allocations per call site (most pages first)",
                     ["call site", "allocations", "pages", "by order", "gfp flags", "contexts"], rows, note))

    high_orders = sorted({order for order in orders if order > 0})
    high_sites = [site for site in s.sites if any(site.orders.get(order) for order in high_orders)]
    high_sites.sort(key=lambda x: (-(x.pages - x.orders.get(0, 0)), x.name))
    if high_sites:
        out.append(Table(
            "Allocations of order > 0 per call site (the bulk API does not serve them)",
            ["call site"] + [f"order {order}" for order in high_orders] + ["pages"],
            [[site.name] + [_n(site.orders[o]) if site.orders.get(o) else "-" for o in high_orders]
             + [_n(site.pages - site.orders.get(0, 0))] for site in high_sites]))

    runners = [site for site in s.sites if site.orders.get(0)]
    runners.sort(key=lambda x: (-x.orders[0], x.name))
    columns = runners[:RUN_COLUMNS]
    lengths = s.runs.length
    stats = [("Order-0 pages", lambda r: _n(int(r.sum()))), ("Runs", lambda r: _n(len(r))),
             ("Runs >= 2", lambda r: _n(int((r >= 2).sum()))),
             ("Pages in runs >= 2", lambda r: _n(int(r[r >= 2].sum()))),
             ("Amean", lambda r: f"{r.mean():.2f}" if len(r) else "-"),
             ("p50", lambda r: _n(nearest_rank(r, 50))), ("p90", lambda r: _n(nearest_rank(r, 90))),
             ("Max", lambda r: _n(int(r.max())) if len(r) else "-")]
    out.append(Table(
        f"Order-0 run lengths per call site (gap <= {gap_us} us)", ["", "all"] + [c.name for c in columns],
        [[label, fn(lengths)] + [fn(c.runs) for c in columns] for label, fn in stats],
        f"A run: consecutive order-0 allocations from one call site on one CPU (one context; one task in task "
        f"context), each within {gap_us} us of the one before. p50/p90 by nearest rank."
        + (f" {len(runners) - len(columns)} more call sites allocate order-0 pages." if len(runners) > len(columns)
           else "")))
    out.append(Table(
        "Order-0 runs by length (number of runs)", ["length", "all"] + [c.name for c in columns],
        [[label, _n(runs)] + [_n(h[1]) for h in hists] for (label, runs, _), *hists in
         zip(histogram(lengths), *(histogram(c.runs) for c in columns))]))
    return out


def summary_document(s: TraceSummary, top: int = 20) -> Document:
    """The whole summary: what the trace is, what its numbers mean (``statements``), then the tables."""
    ev = s.events
    meta = ev.meta
    span = (int(ev.time_ns.max()) - int(ev.time_ns.min())) / 1e9 if len(ev) else 0.0
    head = (f"Trace {meta.source} ({meta.source_format}): {_n(len(ev))} page events on "
            f"{len(np.unique(ev.cpu))} CPUs over {span:.3f} s; call chains on {_n(meta.with_callchain)}. "
            "Timestamps only order the events and find idle gaps; they are never used as costs.")
    return Document([Heading(f"Trace summary: {meta.source}"), Note(head), *map(Note, statements(s)),
                     *tables(s, top)])
