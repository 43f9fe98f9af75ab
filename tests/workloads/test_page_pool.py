"""``page_pool``: NAPI refill of 64 pages into a 128-entry cache."""

from __future__ import annotations


def test_page_pool_list_designs_pay_for_the_walk(run):
    lst, arr = run("list", "page_pool", remote_free=0.0), run("array", "page_pool", remote_free=0.0)
    assert lst.metrics["alloc_cycles_per_packet"] > arr.metrics["alloc_cycles_per_packet"]
    assert lst.metrics["packets_per_sec"] < arr.metrics["packets_per_sec"]
