"""``benchframe.trace.replay``: what a trace replay turns the events into -- per-CPU calls, bulk calls per run or
window, frees single and batched, and the stated policy for pages the trace did not see allocated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchframe import BenchframeError
from benchframe.trace.events import EVENT_CODE, MM_PAGE_ALLOC, MM_PAGE_FREE, PageEvent
from benchframe.trace.importer import read_trace
from benchframe.trace.replay import (
    ALLOC,
    FREE,
    FREE_BATCH,
    MAX_CPUS,
    build_plan,
    load_trace,
    parse_batch,
    replay_plan,
    trace_events,
)
from benchframe.trace.runs import find_runs
from benchframe.trace.store import EventBuilder, TraceMeta, write_events

DATA = Path(__file__).resolve().parents[1] / "data" / "traces"
GAP_NS = 20_000


def make(rows: list[tuple]):
    """rows: (time_us, cpu, event, pfn, order, call site, context) with event one of alloc, free, batched."""
    names = {"alloc": "mm_page_alloc", "free": "mm_page_free", "batched": "mm_page_free_batched"}
    b = EventBuilder()
    for i, (t, cpu, event, pfn, order, site, context) in enumerate(rows):
        frames = ("__alloc_pages", site)
        if context == "softirq":
            frames = (*frames, "net_rx_action", "handle_softirqs")
        b.add(PageEvent(i + 1, int(t * 1000), cpu, 10, "x", EVENT_CODE[names[event]], pfn, order,
                        0 if event == "alloc" else -1, "GFP_KERNEL" if event == "alloc" else "", frames=frames))
    return b.build(TraceMeta("made", "perf", "", len(rows), {}, {}, 0, 0, 0))


def kinds(plan, cpu=0):
    return [({ALLOC: "alloc", FREE: "free", FREE_BATCH: "batch"}[op.kind], len(op.ids)) for op in plan.ops[cpu]]


RUN = [(t, 0, "alloc", 100 + t, 0, "a", "task") for t in range(5)]  # one run of 5 order-0 pages


@pytest.mark.parametrize("batch, calls", [("none", [1, 1, 1, 1, 1]), ("runs", [5]), ("window:2", [2, 2, 1]),
                                          ("window:8", [5])])
def test_order0_runs_become_one_call_per_run_or_window(batch, calls):
    plan = build_plan(make(RUN), parse_batch(batch), GAP_NS)
    assert kinds(plan) == [("alloc", n) for n in calls]
    assert all(op.bulk_reachable for op in plan.ops[0])
    assert sorted(i for op in plan.ops[0] for i in op.ids) == list(range(5))


def test_a_bulk_call_sits_where_its_run_began_and_other_events_keep_their_place():
    rows = [(0, 0, "alloc", 1, 0, "a", "task"), (1, 0, "alloc", 2, 0, "b", "softirq"),  # an interrupt's page
            (2, 0, "alloc", 3, 0, "a", "task"), (3, 0, "free", 2, 0, "b", "softirq"),
            (4, 0, "alloc", 64, 3, "frag", "task"), (5, 0, "alloc", 4, 0, "a", "task")]
    plan = build_plan(make(rows), parse_batch("runs"), GAP_NS)
    assert kinds(plan) == [("alloc", 2), ("alloc", 1), ("free", 1), ("alloc", 1), ("alloc", 1)]
    first, softirq, _, frag, last = plan.ops[0]
    assert first.ids == [0, 2] and first.bulk_reachable and not softirq.bulk_reachable  # the run, and a run of 1
    assert softirq.context == 2 and first.context == 1  # CONTEXTS: softirq, task
    assert (frag.order, frag.bulk_reachable) == (3, False)  # order 3 is a run of its own; it breaks run a
    assert plan.orders == [0, 0, 0, 3, 0]


def test_batched_frees_are_one_call_at_the_batch_and_single_frees_stay_single():
    rows = [(t, 0, "alloc", 10 + t, 0, "a", "task") for t in range(3)]
    rows += [(3, 0, "free", 10, 0, "a", "task"), (4, 0, "free", 11, 0, "a", "task"),  # free_unref_page_list():
             (5, 0, "batched", 10, 0, "a", "task"), (6, 0, "batched", 11, 0, "a", "task"),  # both, then batched
             (7, 0, "free", 12, 0, "a", "task")]
    plan = build_plan(make(rows), parse_batch("none"), GAP_NS)
    assert kinds(plan) == [("alloc", 1)] * 3 + [("batch", 2), ("free", 1)]
    assert plan.ops[0][3].ids == [0, 1] and plan.ops[0][4].ids == [2]


def test_pages_map_by_allocation_and_unknown_frees_and_reused_pfns_are_counted():
    rows = [(0, 0, "free", 7, 0, "a", "task"),  # allocated before the capture: ignored, counted
            (1, 0, "batched", 7, 0, "a", "task"),  # ... and so is its batched twin
            (2, 0, "alloc", 5, 0, "a", "task"), (50, 0, "alloc", 5, 0, "a", "task"),  # 5 again: a lost free
            (100, 0, "free", 5, 0, "a", "task"),  # frees the second allocation of pfn 5
            (101, 0, "alloc", 9, 2, "b", "task"), (102, 0, "free", 9, 0, "b", "task")]  # freed with order 0
    plan = build_plan(make(rows), parse_batch("none"), GAP_NS)
    assert plan.counts == {"unknown_frees": 1, "pfn_reused": 1, "failed_in_trace": 0, "order_mismatch_frees": 1,
                           "batched_without_free": 0}
    assert kinds(plan) == [("alloc", 1), ("alloc", 1), ("free", 1), ("alloc", 1), ("free", 1)]
    assert plan.ops[0][2].ids == [1] and plan.ops[0][4].ids == [2]  # a free frees what the pfn last was
    assert plan.peak_pages == 1 + 4  # the first page of pfn 5 stays held, then the order-2 block


def test_cpus_in_ascending_order_idle_gaps_marked():
    rows = [(0, 7, "alloc", 1, 0, "a", "task"), (1, 3, "alloc", 2, 0, "a", "task"),
            (30, 7, "alloc", 3, 0, "a", "task"), (31, 3, "free", 1, 0, "a", "task")]
    plan = build_plan(make(rows), parse_batch("none"), GAP_NS)
    assert plan.cpus == [3, 7]
    assert [(op.seq, op.after_gap) for op in plan.ops[1]] == [(0, False), (2, True)]  # 30 us later: idle
    assert [(op.seq, op.after_gap) for op in plan.ops[0]] == [(1, False), (3, True)]
    assert plan.ops[0][1].ids == [0]  # CPU 3 frees the page CPU 7 allocated


def test_batch_values():
    assert [parse_batch(b) for b in ("none", "runs", "window:1", "window:64")] == [1, 0, 1, 64]
    for bad in ("window:0", "window:", "window:-3", "bulk", "Runs", ""):
        with pytest.raises(BenchframeError, match="expected none, runs or window:N"):
            parse_batch(bad)


def test_bulk_calls_per_run_are_the_summarys_runs_on_a_real_excerpt():
    events = read_trace(DATA / "loopback-exec.perf.txt")
    runs = find_runs(events, GAP_NS)
    plan = build_plan(events, parse_batch("runs"), GAP_NS)
    zero = [op for ops in plan.ops for op in ops if op.kind == ALLOC and op.order == 0]
    assert sorted(len(op.ids) for op in zero) == sorted(runs.length.tolist())
    assert sum(op.bulk_reachable for op in zero) == int((runs.length >= 2).sum())
    allocs = int(((events.event == MM_PAGE_ALLOC) & (events.pfn >= 0)).sum())
    assert len(plan.orders) == allocs


def test_too_many_cpus_and_bad_files_are_one_line_errors(tmp_path):
    rows = [(c, c, "alloc", 100 + c, 0, "a", "task") for c in range(MAX_CPUS + 1)]
    with pytest.raises(BenchframeError, match=f"the trace has {MAX_CPUS + 1} CPUs; a replay simulates at most "):
        build_plan(make(rows), 1, GAP_NS)
    with pytest.raises(BenchframeError, match="no such file"):
        trace_events(str(tmp_path / "nothing.npz"))
    with pytest.raises(BenchframeError, match="is a directory"):
        load_trace(tmp_path)
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BenchframeError, match="not a trace imported by"):
        trace_events(str(tmp_path / "junk.npz"))
    (tmp_path / "junk.txt").write_text("hello world\n")
    with pytest.raises(BenchframeError, match="line 1"):
        trace_events(str(tmp_path / "junk.txt"))


def test_text_and_its_events_file_give_the_same_plan(tmp_path):
    text = DATA / "loopback-tcp.perf.txt"
    npz = tmp_path / "t.events.npz"
    write_events(npz, read_trace(text))
    a, b = replay_plan(str(text), "runs", GAP_NS), replay_plan(str(npz), "runs", GAP_NS)
    assert a.cpus == b.cpus and a.orders == b.orders and a.counts == b.counts
    assert [[(op.kind, op.seq, op.ids) for op in ops] for ops in a.ops] == \
        [[(op.kind, op.seq, op.ids) for op in ops] for ops in b.ops]
    frees = int((trace_events(str(text)).event == MM_PAGE_FREE).sum())
    replayed = sum(len(op.ids) for ops in a.ops for op in ops if op.kind != ALLOC)
    assert replayed == frees - a.counts["unknown_frees"] and np.isfinite(a.peak_pages)
