"""``numa``: the local node at its low watermark: fall back or spill."""

from __future__ import annotations


def test_numa_bulk_falls_back_and_spilling_goes_remote(run):
    kept = run("array", "numa")
    spilled = run("array", "numa", spill=True)
    assert kept.metrics["fallbacks"] > 0
    assert spilled.metrics["remote_page_share"] > kept.metrics["remote_page_share"]
    assert spilled.metrics["use_cycles_per_page"] > kept.metrics["use_cycles_per_page"]
