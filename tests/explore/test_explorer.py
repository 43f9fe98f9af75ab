"""Re-entrancy exploration against an IRQ or NMI (``explore/reentry.py``): the verdicts come out of the
exploration, not from flags on the designs, and an UNSAFE verdict comes with the interleaving that breaks it."""

from __future__ import annotations

import math
from dataclasses import asdict

import pytest

from benchframe.explore import explore, reentry
from benchframe.explore.scenarios import MOVES, OPERATIONS


@pytest.mark.parametrize("design", ["single", "list", "array", "twopass", "locallock"])
def test_irq_disabling_designs_are_safe_against_irqs(design):
    result = explore(design, "irq")
    assert result.verdict == "SAFE", result.render()
    assert result.explored_points > 500  # every charge point of every operation, every handler move


@pytest.mark.parametrize("design", ["single", "list", "array", "locallock"])
def test_pcp_manipulated_from_nmi_is_unsafe_and_declared_so_by_the_kernels_contract(design):
    result = explore(design, "nmi")
    assert result.verdict == "UNSAFE"
    assert "corruption" in result.reason or "twice" in result.reason or "deadlock" in result.reason
    assert result.stance == "unsafe" and result.accepted and "NMI context" in result.stance_note


def test_llist_del_first_second_consumer_in_irq_is_found_unsafe_with_the_interleaving():
    result = explore("llist_del_first", "irq")
    assert result.verdict == "UNSAFE" and not result.accepted
    assert "handed out twice" in result.reason
    text = "\n".join(result.steps)
    assert "llist_del_first" in text and "IRQ arrives" in text and "frees" in text
    # the ABA: the list's head is the same entry after the handler ran, but entry->next is not; the page the
    # task's stale next names (read before the IRQ) is the one handed out twice
    changed = next(s for s in result.steps if "what the handler changed" in s)
    lst = changed.split("pcp[cpu0][Normal][mt0] ")[1]
    before, after = lst.split(" -> ")
    entry, following = (int(x) for x in before.strip("[]").replace("pfn ", "").replace(", ...", "").split(", ")[:2])
    assert after.startswith(f"[pfn {entry}, ") and not after.startswith(f"[pfn {entry}, pfn {following}")
    handler = next(s for s in result.steps if "handler runs" in s)
    assert f"frees [pfn {entry}]" in handler and f"pfn {following}" in handler
    assert f"pfn {following} taken" in result.reason
    assert result.findings[0]["handler"] == "alloc 2, free the first"  # alloc 1 alone cannot break it


@pytest.mark.parametrize("design", ["llist", "llist:free=batch"])
def test_llist_del_all_consumers_are_safe_against_irqs(design):
    """Consumers that only llist_del_all (and put the rest back with llist_add_batch) may nest: llist.h."""
    result = explore(design, "irq")
    assert result.verdict == "SAFE", result.render()
    assert result.explored_points > 1000


def test_llist_refuses_nmi_allocation_cleanly_as_it_declares():
    for design in ("llist", "llist_del_first"):
        result = explore(design, "nmi")
        assert result.verdict == "SAFE" and result.refused > 0, result.render()
        assert "refuses allocation in NMI context" in result.reason
    assert explore("llist", "nmi").stance == "refuses"


def test_unsafe_splice_is_found_against_irqs_by_a_handler_sized_from_the_list():
    """A batch spliced behind the list's last node is lost when an IRQ takes that node in between: a handler
    that allocates exactly the pages on the list takes it."""
    result = explore("llist:free=splice", "irq")
    assert result.verdict == "UNSAFE"
    assert {f["operation"] for f in result.findings} == {"free_bulk(4) that drains the pcp list"}  # the splice
    assert "llist_splice_tail_unsafe" in "\n".join(result.steps)
    assert "4 page(s) lost" in result.reason
    assert result.findings[0]["handler"] == "alloc_bulk(pcp->count)"
    # the same bulk free with llist_add_batch is not broken by any move
    assert not [f for f in explore("llist:free=batch", "irq").findings if f["operation"].startswith("free")]


def test_splice_is_unsafe_against_an_nmi_that_splices_too():
    """An NMI that frees up to pcp->high in one bulk free splices its batch behind the same last node the task
    walked to: the later store wins, the other batch is lost. (Frees one page at a time, llist_add at the head,
    cannot do that: only the bulk move breaks it.)"""
    result = explore("llist:free=splice", "nmi")
    assert result.verdict == "UNSAFE" and not result.accepted  # it declares it refuses NMI allocations only
    assert [f["handler"] for f in result.findings] == ["free up to pcp->high"]
    assert "lost" in result.reason


def test_locallock_on_preempt_rt():
    # the handler is a thread: it blocks on the sleeping pagesets.lock the task holds instead of spinning
    assert explore("locallock", "irq", config=("PREEMPT_RT",)).verdict == "SAFE"
    nmi = explore("locallock", "nmi", config=("PREEMPT_RT",))  # an NMI cannot sleep: it spins on the lock
    assert nmi.verdict == "UNSAFE" and "deadlock" in nmi.reason and "pagesets.lock" in nmi.reason
    assert any("NMI handler runs at once" in s for s in nmi.steps)


def test_the_interrupted_tasks_stale_local_is_named():
    """The ABA of llist_del_first: the task's ``following`` (entry->next, read before the IRQ) is stale."""
    result = explore("llist_del_first", "irq")
    stale = next(s for s in result.steps if s.startswith("stale in the interrupted task"))
    assert "llist_del_first(): following = " in stale and "was in pcp[cpu0][Normal][mt0]" in stale


def test_every_verdict_says_what_it_covered_and_what_not():
    result = explore("array", "irq")
    covered = "\n".join(result.covered)
    assert "4 task operations" in covered and "charge points" in covered
    assert all(m.name in covered for m in MOVES)  # every handler size
    assert "one hardirq per interleaving" in covered
    assert any("an interrupt inside the handler" in n for n in result.not_covered)
    text = result.render()
    assert "covered: " in text and "not covered: " in text


# -- the handler's sizes come from the state it finds --------------------------------------------------------------
def test_a_handler_sized_from_the_pcp_list_takes_exactly_what_is_on_it():
    from benchframe.kconfig import KernelConfig
    from benchframe.plugins import get_registry
    from benchframe.workloads.adversary import COUNT, Move

    run = reentry.run_interleaving(get_registry(), "array", KernelConfig.parse([]), OPERATIONS[0], Move("alloc", COUNT),
                                   "irq", 1, trace=True)
    handler = next(s for s in run.steps if "handler runs" in s)
    count = int(run.steps[0].split("; ")[1].split(" pages")[0])  # the pcp list the task started from
    assert f"alloc_bulk({count}) (pcp->count = {count})" in handler


# -- one run per IRQs-off window ---------------------------------------------------------------------------------
def _verdict(result):
    out = asdict(result)
    for extent in ("runs", "covered"):  # how many runs stood for the points: what differs, by design
        out.pop(extent)
    return out


@pytest.mark.parametrize("design", ["array", "twopass", "llist_del_first", "llist:free=splice", "early_unlock"])
def test_one_run_per_irqs_off_window_finds_what_every_charge_point_finds(design, early_unlock):
    """A hardirq raised anywhere in an IRQs-off window is delivered where IRQs come back on: the window's first
    point stands for it. The verdict, the counts, the failing interleaving and its steps are those of the full
    search (SAFE and UNSAFE designs, and one whose zone->lock is released early inside the window)."""
    design = early_unlock if design == "early_unlock" else design
    assert _verdict(explore(design, "irq")) == _verdict(explore(design, "irq", every_point=True))


def test_one_run_per_irqs_off_window_runs_far_fewer(monkeypatch):
    runs = []
    real = reentry.run_interleaving
    monkeypatch.setattr(reentry, "run_interleaving", lambda *a, **kw: runs.append(a[6]) or real(*a, **kw))
    result = explore("array", "irq")
    ran = [k for k in runs if k != math.inf]
    assert len(ran) == result.runs - len(OPERATIONS)  # and one run per operation to count its points
    assert len(ran) < result.explored_points // 2
    nmi = explore("llist", "nmi")  # NMIs: every point, every move
    assert nmi.verdict == "SAFE" and nmi.runs == nmi.explored_points + len(OPERATIONS)


def test_the_first_failing_interleaving_is_the_one_the_whole_search_reports_first():
    whole = explore("llist_del_first", "irq")
    first = explore("llist_del_first", "irq", first_only=True)
    assert first.reason == whole.reason and first.steps == whole.steps
    assert len(first.findings) == 1 < len(whole.findings) and first.runs < whole.runs
