"""``nmi``: allocation from NMI context."""

from __future__ import annotations


def test_nmi_llist_refuses_and_irq_disabling_designs_are_caught(run):
    llist = run("llist", "nmi", bursts=60)
    assert llist.metrics["nmi_refused"] > 0 and llist.metrics["nmi_allocs"] == 0
    assert llist.metrics["invariant_violations"] == 0
    broken = [run(d, "nmi", bursts=200, seed=s).metrics["invariant_violations"]
              for d in ("list", "twopass") for s in (1, 2, 3)]
    assert sum(broken) > 0


def test_nmi_counters_survive_a_deadlock(run):
    # seed 1: the first NMI lands while the task refills the pcp under zone->lock
    r = run("list", "nmi", bursts=60, seed=1)
    # the deadlock alone: the half-done rmqueue_bulk() it interrupted is not reported as lost pages
    assert len(r.violations) == 1 and "deadlock" in r.violations[0]
    assert r.metrics["nmi_alloc_attempts"] >= 1
    assert r.metrics["bursts_completed"] < 60


def test_nmi_holding_its_page_corrupts_an_irq_disabling_pcp_but_not_llist(run):
    # hold=true: the NMI's free no longer undoes its alloc, so an NMI inside the task's pcp section shows up;
    # where the NMIs land is up to the seed, so look across a few seeds of the IRQ-disabling designs
    found = [v for d in ("list", "locallock") for s in (1, 2, 3, 4)
             for v in run(d, "nmi", bursts=200, seed=s, hold=True).violations]
    assert any("corruption" in v or "handed out twice" in v for v in found)
    llist = run("llist", "nmi", bursts=100, seed=2, hold=True)
    assert llist.metrics["invariant_violations"] == 0 and llist.metrics["nmi_refused"] > 0
