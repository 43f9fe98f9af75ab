"""``page_bench04`` under the kernel configs: PAGE_OWNER forces single pages, PREEMPT_RT flags a sleeping
``zone->lock`` taken with IRQs off."""

from __future__ import annotations


def test_page_owner_forces_single_pages_on_5_14_designs_only(run):
    """The PAGE_OWNER fallback came with 5.14's local_lock (Jul 2021, Fixes dbbee9d5cd83): 5.13's array design
    keeps the bulk path, 5.14's locallock takes one page per call."""
    r = run("locallock", "page_bench04", config=("PAGE_OWNER",), bulk=16)
    assert r.metrics["fallbacks"] > 0
    assert r.config == ["PAGE_OWNER"]
    assert run("array", "page_bench04", config=("PAGE_OWNER",), bulk=16).metrics["fallbacks"] == 0


def test_preempt_rt_flags_sleeping_zone_lock_taken_with_irqs_off(run):
    """kf §3.1: on RT, local_irq_save() + spin_lock(&zone->lock) is unsafe; 5.13 designs do it on every refill
    and drain, local_lock (RT sleeping lock, IRQs on) never does."""
    rt = ("PREEMPT_RT",)
    assert run("list", "page_bench04", config=rt, bulk=512).metrics["rt_sleeping_lock_irqs_off"] > 0
    assert run("locallock", "page_bench04", config=rt, bulk=512).metrics["rt_sleeping_lock_irqs_off"] == 0
    assert run("list", "page_bench04", bulk=512).metrics["rt_sleeping_lock_irqs_off"] == 0  # !RT: spinning lock
