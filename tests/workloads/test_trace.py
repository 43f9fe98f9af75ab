"""``trace``: a real trace replayed on every design -- per-CPU calls in recorded order, bulk calls per run, order > 0
blocks apart, CPUs ordered against each other where the trace says, deterministic, 0 invariant violations."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchframe import BenchframeError
from benchframe.kconfig import KernelConfig
from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one
from benchframe.trace.events import EVENT_CODE, MM_PAGE_ALLOC, PageEvent
from benchframe.trace.importer import read_trace
from benchframe.trace.replay import build_plan, parse_batch
from benchframe.trace.runs import find_runs
from benchframe.trace.store import EventBuilder, TraceMeta, write_events

from .conftest import TRACE_EXCERPT

SHARED = Path(__file__).resolve().parents[3] / "shared" / "traces"
DESIGNS = ["single", "list", "array", "twopass", "llist", "locallock", "preempt"]


def trace_pages(path: str) -> tuple[int, int]:
    """Pages of the successful order-0 allocations and of the order > 0 ones, counted from the events."""
    ev = read_trace(path)
    ok = (ev.event == MM_PAGE_ALLOC) & (ev.pfn >= 0)
    return int((ok & (ev.order == 0)).sum()), int((1 << ev.order[ok & (ev.order > 0)].astype(int)).sum())


@pytest.mark.parametrize("batch", ["none", "runs", "window:4"])
def test_every_page_of_the_trace_is_allocated_by_its_path(run, design, batch):
    r = run(design, "trace", batch=batch)
    zero, high = trace_pages(TRACE_EXCERPT)
    assert r.metrics["invariant_violations"] == 0, r.violations
    assert r.metrics["pages_allocated"] == zero and r.metrics["high_order_pages"] == high
    assert r.metrics["alloc_failures"] == 0 and r.metrics["fallbacks"] == 0
    total = r.metrics["order0_cycles_total"] + r.metrics["high_order_cycles_total"]
    assert r.metrics["allocator_cycles_total"] == total > 0
    assert 0 < r.metrics["bulk_share_pct"] < 100


def test_batch_runs_makes_one_bulk_call_per_run_of_two_or_more(run):
    ev = read_trace(TRACE_EXCERPT)
    runs = find_runs(ev, 20_000).length
    assert run("array", "trace", batch="none").metrics["bulk_calls"] == 0
    assert run("array", "trace", batch="runs").metrics["bulk_calls"] == int((runs >= 2).sum()) > 0
    # window:2 cuts a run of n into n // 2 calls of 2 (and a single-page call for an odd n)
    assert run("array", "trace", batch="window:2").metrics["bulk_calls"] == int(sum(int(n) // 2 for n in runs))


def test_bulk_calls_make_order0_allocation_cheaper_and_leave_order_above_0_alone(run):
    one, bulk = run("array", "trace", batch="none"), run("array", "trace", batch="runs")
    assert bulk.metrics["alloc_cycles_per_page"] < one.metrics["alloc_cycles_per_page"]
    assert bulk.metrics["high_order_pages"] == one.metrics["high_order_pages"]
    # the same blocks through the same path; only the cache and pcp state the order-0 calls leave differ
    assert bulk.metrics["high_order_cycles_total"] == pytest.approx(one.metrics["high_order_cycles_total"], rel=0.05)
    assert bulk.metrics["bulk_share_pct"] < one.metrics["bulk_share_pct"]


def test_the_replay_is_deterministic_and_ignores_the_seed(run):
    a, b, c = (run("list", "trace", seed=s).model_dump() for s in (1, 1, 2))
    assert a == b
    del a["seed"], c["seed"]
    assert a == c


def _events(rows):
    b = EventBuilder()
    for i, (t, cpu, event, pfn) in enumerate(rows):
        b.add(PageEvent(i + 1, t * 1000, cpu, 10 + cpu, "x", EVENT_CODE[event], pfn, 0,
                        0 if event == "mm_page_alloc" else -1, "GFP_KERNEL" if event == "mm_page_alloc" else "",
                        frames=("__alloc_pages", "site")))
    return b.build(TraceMeta("made", "perf", "", len(rows), {}, {}, 0, 0, 0))


def test_a_page_freed_on_another_cpu_is_freed_after_its_allocation(run, tmp_path):
    """CPU 1 frees, straight away in simulated time, a page CPU 0 allocates only after 200 others: it waits."""
    rows = [(t, 0, "mm_page_alloc", 1000 + t) for t in range(200)] + [(300, 0, "mm_page_alloc", 5)]
    rows += [(301, 1, "mm_page_free", 5)] + [(302 + t, 0, "mm_page_free", 1000 + t) for t in range(200)]
    path = tmp_path / "cross.events.npz"
    write_events(path, _events(rows))
    plan = build_plan(_events(rows), parse_batch("none"), 20_000)
    assert [op.after_gap for op in plan.ops[1]] == [False]  # its first event: no wait for idleness
    r = run("array", "trace", file=str(path), batch="none")
    assert r.metrics["invariant_violations"] == 0, r.violations
    assert r.metrics["pages_allocated"] == 201 and r.metrics["unknown_frees"] == 0
    assert r.metrics["held_at_end"] == 0  # the cross-CPU free found its page


def test_the_machine_has_the_traces_cpus_and_room_for_its_pages():
    w = get_registry(()).workload("trace")
    params = w.resolve_params({"file": TRACE_EXCERPT})
    assert w.topology(params, KernelConfig.parse([], "5.13")).nr_cpus == 2
    assert w.topology(params, KernelConfig.parse(["NUMA"], "5.13")).nr_cpus == 2


def test_bad_parameters_are_one_line_errors_before_anything_runs(tmp_path):
    w = get_registry(()).workload("trace")
    with pytest.raises(BenchframeError, match="no such file"):
        w.resolve_params({"file": str(tmp_path / "missing.events.npz")})
    with pytest.raises(BenchframeError, match="expected none, runs or window:N"):
        w.resolve_params({"batch": "window:0"})
    with pytest.raises(BenchframeError, match="parameter file is required"):
        w.topology(w.resolve_params({}), None)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared traces are not here ({SHARED})")
@pytest.mark.parametrize("name", ["loopback-tcp.perf.txt.xz", "pagecache-write-read.perf.txt.xz"])
def test_every_design_replays_the_shared_traces_without_a_violation(run, name, tmp_path_factory):
    folder = tmp_path_factory.mktemp("shared")
    path = folder / name.replace(".xz", ".events.npz")
    write_events(path, read_trace(SHARED / name))
    zero, high = trace_pages(str(SHARED / name))
    for design in DESIGNS:
        r = run(design, "trace", file=str(path), batch="runs")
        assert r.metrics["invariant_violations"] == 0, (design, r.violations)
        assert (r.metrics["pages_allocated"], r.metrics["high_order_pages"]) == (zero, high), design


@settings(max_examples=25, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 2), st.sampled_from(["alloc", "free", "batch"]),
                                st.integers(0, 10_000), st.sampled_from([0, 0, 0, 1, 3])), min_size=1, max_size=60),
       batch=st.sampled_from(["none", "runs", "window:2"]))
def test_random_traces_on_three_cpus_replay_without_deadlock_or_violation(steps, batch, tmp_path_factory):
    """Allocations on any CPU, frees (single or batched) of any live page on any CPU, idle gaps or none: the
    CPUs' waits for each other never deadlock, every page is allocated, and what the trace left allocated is
    exactly what stays held."""
    rows, live, t, pfn = [], [], 0, 1 << 12
    for dt, cpu, what, pick, order in steps:
        t += dt
        if what == "alloc" or not live:
            pfn += 1 << 4
            rows.append((t, cpu, "mm_page_alloc", pfn, order))
            live.append((pfn, order))
            continue
        page, order = live.pop(pick % len(live))
        rows.append((t, cpu, "mm_page_free", page, order))
        if what == "batch" and order == 0:
            rows.append((t, cpu, "mm_page_free_batched", page, 0))
    b = EventBuilder()
    for i, (t, cpu, event, page, order) in enumerate(rows):
        alloc = event == "mm_page_alloc"
        b.add(PageEvent(i + 1, t * 1000, cpu, 10 + cpu, "x", EVENT_CODE[event], page, order, 0 if alloc else -1,
                        "GFP_KERNEL" if alloc else "", frames=("__alloc_pages", "site")))
    path = tmp_path_factory.mktemp("random") / "t.events.npz"
    write_events(path, b.build(TraceMeta("made", "perf", "", len(rows), {}, {}, 0, 0, 0)))
    r = run_one(RunSpec(design="array", workload="trace", params={"file": str(path), "batch": batch}))
    assert r.metrics["invariant_violations"] == 0, r.violations
    allocated = [(p, o) for _, _, e, p, o in rows if e == "mm_page_alloc"]
    assert r.metrics["pages_allocated"] == sum(1 for _, o in allocated if o == 0)
    assert r.metrics["high_order_pages"] == sum(1 << o for _, o in allocated if o)
    assert r.metrics["held_at_end"] == sum(1 << o for _, o in live)
