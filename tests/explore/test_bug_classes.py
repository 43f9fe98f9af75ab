"""Each kind of kernel bug the explorer must find, in a design written here (``conftest.py``), caught with a trace
that names the access; and the safe patterns that look like them stay SAFE."""

from __future__ import annotations

import pytest

from benchframe.explore import explore


def test_smp_lost_update_of_nr_free_pages_is_traced_to_its_three_accesses(early_unlock):
    result = explore(early_unlock, "smp", first_only=True)
    assert result.verdict == "UNSAFE"
    reason = result.reason
    assert reason.startswith("lost update of Normal NR_FREE_PAGES")
    read, changed, wrote = reason.split(", ")[0], reason.split(", ")[1], reason.split(", then ")[1]
    assert " read " in read and "rmqueue_pcplist() conftest.py:" in read
    assert "changed it " in changed and ("rmqueue_bulk() page_alloc.py:" in changed or "conftest.py" in changed)
    assert wrote.startswith("CPU") and "rmqueue_pcplist() conftest.py:" in wrote


def test_zone_lock_released_before_the_free_list_update_completes(test_designs):
    """A lock-protocol violation: found in the first schedule, whatever the interleaving, naming the free-list
    change made without zone->lock; an IRQ cannot find it (IRQs are off throughout)."""
    result = explore("unlock_before_free_list", "smp", first_only=True)
    assert result.verdict == "UNSAFE"
    assert result.reason.startswith("Normal free_area changed by CPU")
    assert "without holding zone->lock[Normal] in _refill() conftest.py:" in result.reason
    assert explore("unlock_before_free_list", "irq").verdict == "SAFE"


def test_nr_free_pages_read_modify_write_with_irqs_back_on(test_designs):
    smp = explore("nr_free_irqs_on", "smp", first_only=True)
    assert smp.verdict == "UNSAFE"
    assert "NR_FREE_PAGES changed by CPU" in smp.reason and "with IRQs on" in smp.reason
    assert "in unlock() conftest.py:" in smp.reason
    irq = explore("nr_free_irqs_on", "irq", first_only=True)  # an IRQ that refills in between loses an update
    assert irq.verdict == "UNSAFE" and "NR_FREE_PAGES is" in irq.reason
    assert any("stale in the interrupted task: the task's unlock(): free = " in s for s in irq.steps)


def test_toctou_pcp_count_read_before_irqs_are_disabled(test_designs):
    """An IRQ between the read of pcp->count and local_irq_save() that takes exactly the pages on the list: the
    state-dependent handler size finds it; the trace names the stale local and where it was read from."""
    result = explore("count_before_irqs_off", "irq", first_only=True)
    assert result.verdict == "UNSAFE"
    assert result.findings[0]["handler"] == "alloc_bulk(pcp->count)"  # the first move that breaks it
    stale = next(s for s in result.steps if s.startswith("stale in the interrupted task"))
    assert "alloc_bulk(): avail = " in stale and "was in Normal pcp of CPU0: count, now 0" in stale
    # today's fixed sizes alone: 1, 2, 4 leave enough on the list; only the 64-page refill also breaks it
    whole = explore("count_before_irqs_off", "irq")
    fixed = {f["handler"] for f in whole.findings if "pcp->" not in f["handler"] and "high" not in f["handler"]}
    assert fixed <= {"alloc_bulk(64)"}


def test_disable_enable_instead_of_save_restore(test_designs):
    """The handler's allocation enables IRQs inside the hardirq: the call leaves the state unbalanced."""
    result = explore("disable_enable", "irq", first_only=True)
    assert result.verdict == "UNSAFE"
    assert "IRQ/preempt state not balanced" in result.reason and "irqs_on False->True" in result.reason
    assert any("IRQ handler runs" in s for s in result.steps)


@pytest.mark.parametrize("design", ["nested_save_restore", "long_irqs_off", "irqs_on_between_pages",
                                    "prefill_irqsave"])
@pytest.mark.parametrize("context", ["irq", "smp", "preempt"])
def test_safe_patterns_stay_safe(test_designs, design, context):
    result = explore(design, context)
    assert result.verdict == "SAFE", result.render()
    assert result.runs > 10
