"""``contention``: several CPUs, remote frees, ``zone->lock``."""

from __future__ import annotations


def test_contention_is_simulated(run):
    r = run("array", "contention", cpus=4, bursts=100)
    assert r.metrics["zone_lock_wait_cycles"] > 0 and r.metrics["remote_frees"] > 0
    assert r.metrics["pcp_refills"] > 0 and r.metrics["pcp_drains"] > 0
    assert run("array", "contention", cpus=4, bursts=100).metrics == r.metrics  # deterministic
    alone = run("array", "contention", cpus=1, bursts=100)
    assert alone.metrics["zone_lock_wait_cycles"] == 0
