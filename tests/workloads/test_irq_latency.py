"""``irq_latency``: bulk allocations under Poisson device interrupts."""

from __future__ import annotations


def test_irq_latency_grows_with_bulk_and_second_pass_shortens_the_window(run):
    off = {(d, b): run(d, "irq_latency", bulk=b).metrics["irqs_off_max_cycles"]
           for d in ("list", "twopass") for b in (8, 64, 256)}
    assert off[("list", 8)] < off[("list", 64)] < off[("list", 256)]
    for b in (8, 64, 256):
        assert off[("twopass", b)] < off[("list", b)]


def test_locallock_under_preempt_rt_keeps_latency_flat(run, costs):
    lat = {b: run("locallock", "irq_latency", bulk=b, config=("PREEMPT_RT",)).metrics for b in (8, 256)}
    assert lat[256]["irqs_off_max_cycles"] == 0
    # at worst an interrupt queues behind one other handler (500 cycles of work + entry/exit), whatever the bulk
    one_handler = 500 + costs.irq_entry_exit  # the default profile, e5-1650v4
    assert lat[256]["irq_latency_max_cycles"] <= one_handler
    hard = run("list", "irq_latency", bulk=256, config=("PREEMPT_RT",)).metrics
    assert hard["irq_latency_max_cycles"] > 3 * lat[256]["irq_latency_max_cycles"]
