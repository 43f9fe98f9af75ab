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
    assert any("deadlock" in v for v in r.violations)
    assert r.metrics["nmi_alloc_attempts"] >= 1
    assert r.metrics["bursts_completed"] < 60


def test_nmi_holding_its_page_corrupts_an_irq_disabling_pcp_but_not_llist(run):
    # hold=true: the NMI's free no longer undoes its alloc, so an NMI inside the task's pcp section shows up
    found = [run("locallock", "nmi", bursts=200, seed=2, hold=True).violations]
    assert any("corruption" in v or "handed out twice" in v for v in found[0])
    llist = run("llist", "nmi", bursts=100, seed=2, hold=True)
    assert llist.metrics["invariant_violations"] == 0 and llist.metrics["nmi_refused"] > 0
