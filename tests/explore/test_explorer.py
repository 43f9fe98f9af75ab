"""Re-entrancy exploration (``explore/``): the verdicts come out of the exploration, not from flags on the
designs, and an UNSAFE verdict comes with the interleaving that breaks the design."""

from __future__ import annotations

import math
from dataclasses import asdict

import pytest

from benchframe.explore import explore, explorer


@pytest.mark.parametrize("design", ["single", "list", "array", "twopass", "locallock"])
def test_irq_disabling_designs_are_safe_against_irqs(design):
    result = explore(design, "irq")
    assert result.verdict == "SAFE", result.render()
    assert result.explored_points > 100  # every charge point of every operation was tried


@pytest.mark.parametrize("design", ["single", "list", "array", "locallock"])
def test_pcp_manipulated_from_nmi_is_unsafe(design):
    result = explore(design, "nmi")
    assert result.verdict == "UNSAFE"
    assert "corruption" in result.reason or "twice" in result.reason or "deadlock" in result.reason


def test_llist_del_first_second_consumer_in_irq_is_found_unsafe_with_the_interleaving():
    result = explore("llist_del_first", "irq")
    assert result.verdict == "UNSAFE"
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
    assert result.explored_points > 400


def test_llist_refuses_nmi_allocation_cleanly():
    for design in ("llist", "llist_del_first"):
        result = explore(design, "nmi")
        assert result.verdict == "SAFE" and result.refused > 0, result.render()
        assert "refuses allocation in NMI context" in result.reason


def test_unsafe_splice_is_found_against_irqs():
    """A batch spliced behind the list's last node is lost when an IRQ takes that node in between."""
    result = explore("llist:free=splice", "irq")
    assert result.verdict == "UNSAFE"
    assert [f["operation"] for f in result.findings] == ["free_bulk(4)"]  # only the splice breaks
    assert "llist_splice_tail_unsafe" in "\n".join(result.steps)
    assert "4 page(s) lost" in result.reason
    assert result.findings[0]["handler"].startswith("alloc_bulk(64)")  # a consumer that takes the last node
    # the same bulk free with llist_add_batch is not broken by any script
    assert not [f for f in explore("llist:free=batch", "irq").findings if f["operation"].startswith("free")]


def test_splice_is_safe_against_nmi_producers():
    """NMIs only free here (allocation is refused): a producer at the head cannot lose a tail splice."""
    result = explore("llist:free=splice", "nmi")
    assert result.verdict == "SAFE" and result.refused > 0


def test_locallock_on_preempt_rt():
    # the handler is a thread: it blocks on the sleeping pagesets.lock the task holds instead of spinning
    assert explore("locallock", "irq", config=("PREEMPT_RT",)).verdict == "SAFE"
    nmi = explore("locallock", "nmi", config=("PREEMPT_RT",))  # an NMI cannot sleep: it spins on the lock
    assert nmi.verdict == "UNSAFE" and "deadlock" in nmi.reason and "pagesets.lock" in nmi.reason
    assert "NMI handler runs at once" in nmi.steps[-2]


# -- two CPUs ----------------------------------------------------------------------------------------------------
def test_zone_lock_released_early_is_safe_on_one_cpu_and_caught_on_two(early_unlock):
    """IRQs are off around the early-released zone->lock, so no interrupt can come in between; another CPU can."""
    assert explore(early_unlock, "irq").verdict == "SAFE"
    result = explore(early_unlock, "smp")
    assert result.verdict == "UNSAFE", result.render()
    assert "NR_FREE_PAGES is" in result.reason
    text = "\n".join(result.steps)
    assert "CPU1's first one comes next" in text and "refills" in text
    # the stale value is a count, not a pfn: the local the refill read under the lock, named with what it was
    stale = next(s for s in result.steps if "stale on CPU" in s)
    assert "rmqueue_pcplist(): free = " in stale and "was in Normal NR_FREE_PAGES, now " in stale


@pytest.mark.parametrize("design", ["single", "array", "llist", "llist_del_first", "llist:free=splice",
                                    "locallock"])
def test_per_cpu_designs_are_safe_against_another_cpu(design):
    result = explore(design, "smp")
    assert result.verdict == "SAFE", result.render()
    assert result.explored_points >= 2  # the pairs that meet at zone->lock were interleaved


def test_the_interrupted_tasks_stale_local_is_named():
    """The ABA of llist_del_first: the task's ``following`` (entry->next, read before the IRQ) is stale."""
    result = explore("llist_del_first", "irq")
    stale = next(s for s in result.steps if s.startswith("stale in the interrupted task"))
    assert "llist_del_first(): following = " in stale and "was in pcp[cpu0][Normal][mt0]" in stale


# -- one run per IRQs-off window ---------------------------------------------------------------------------------
@pytest.mark.parametrize("design", ["array", "twopass", "llist_del_first", "llist:free=splice", "early_unlock"])
def test_one_run_per_irqs_off_window_finds_what_every_charge_point_finds(design, early_unlock):
    """A hardirq raised anywhere in an IRQs-off window is delivered where IRQs come back on: the window's first
    point stands for it. The verdict, the counts, the failing interleaving and its steps are those of the full
    search (SAFE and UNSAFE designs, and one whose zone->lock is released early inside the window)."""
    design = early_unlock if design == "early_unlock" else design
    assert asdict(explore(design, "irq")) == asdict(explore(design, "irq", every_point=True))


def test_one_run_per_irqs_off_window_runs_far_fewer(monkeypatch):
    runs = []
    real = explorer.run_interleaving
    monkeypatch.setattr(explorer, "run_interleaving", lambda *a: runs.append(a[-1]) or real(*a))
    result = explore("array", "irq")
    ran = [k for k in runs if k != math.inf]
    assert result.explored_points == 510 and len(ran) < result.explored_points // 2  # the charge points of 5.13
    runs.clear()
    assert explore("array", "nmi").explored_points == len([k for k in runs if k != math.inf])  # NMIs: every point
