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


def test_percentiles_come_with_their_sample_count_and_are_refused_when_unsupported(run):
    # at bulk=8 a run sees ~50 interrupts: the nearest-rank "p99" was the maximum, and the report said p99
    import numpy as np

    from benchframe.metrics import min_samples, percentile

    few = run("array", "irq_latency", bulk=8, bursts=300).metrics
    assert few["irq_latency_samples"] < 100
    assert few["irq_latency_p99_cycles"] is None and few["irq_latency_max_cycles"] is not None
    many = run("array", "irq_latency", bulk=64, bursts=300).metrics
    assert many["irq_latency_samples"] >= 100 and many["irq_latency_p99_cycles"] is not None
    assert many["irq_latency_p99_cycles"] <= many["irq_latency_max_cycles"]
    assert min_samples(99) == 100 and min_samples(50) == 2
    values = list(range(1, 201))
    assert percentile(values, 99) == round(float(np.percentile(values, 99)), 1)
    assert percentile(values[:99], 99) is None
