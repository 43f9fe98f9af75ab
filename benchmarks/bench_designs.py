"""Simulated metrics of every design, tracked across the project's history.

Each class simulates once in ``setup`` (so what an older build lacks is skipped there, never failed) and its
track_ benchmarks return the simulated numbers: deterministic, one value per commit, in the simulated
machine's cycles. ``version`` is pinned: editing this file resets a benchmark's history only when its meaning
changes (then bump the version).
"""

from __future__ import annotations

from .common import BULKS, DESIGNS, IRQ_BULKS, IRQ_LATENCY_BURSTS, KERNELS, PAGE_BENCH04, simulate


class PageBench04:
    """page_bench04 (4096 pages): allocate `bulk` pages in one call, free them one by one."""

    params = (DESIGNS, BULKS)
    param_names = ["design", "bulk"]
    METRICS = ("alloc_free_cycles_per_page", "irqs_off_max_cycles")

    def setup(self, design, bulk):
        self.metrics = simulate(design, "page_bench04", {**PAGE_BENCH04, "bulk": bulk}, self.METRICS)

    def track_alloc_free_cycles_per_page(self, design, bulk):
        """alloc_free_cycles_per_page: the caller's alloc + free cycles per page."""
        return self.metrics["alloc_free_cycles_per_page"]

    track_alloc_free_cycles_per_page.unit = "cycles"
    track_alloc_free_cycles_per_page.version = 1

    def track_irqs_off_max_cycles(self, design, bulk):
        """irqs_off_max_cycles: the longest window with IRQs disabled by kernel code."""
        return self.metrics["irqs_off_max_cycles"]

    track_irqs_off_max_cycles.unit = "cycles"
    track_irqs_off_max_cycles.version = 1


class IrqLatency:
    """irq_latency (800/300/100 bursts at bulk 8/64/256: over 100 interrupts each, so the p99 is supported):
    Poisson device interrupts while allocating bursts of `bulk` pages, on the default kernel and with
    CONFIG_PREEMPT_RT. Version 2: numpy's percentile over enough samples (version 1 took the nearest rank of
    100 bursts, the maximum at bulk 8)."""

    params = (DESIGNS, IRQ_BULKS, KERNELS)
    param_names = ["design", "bulk", "kernel"]
    METRICS = ("irq_latency_p99_cycles", "irqs_off_max_cycles")

    def setup(self, design, bulk, kernel):
        self.metrics = simulate(design, "irq_latency", {"bursts": IRQ_LATENCY_BURSTS[bulk], "bulk": bulk},
                                self.METRICS, kernel)

    def track_irq_latency_p99_cycles(self, design, bulk, kernel):
        """irq_latency_p99_cycles: 99th percentile of the delay from an interrupt's arrival to its handler."""
        return self.metrics["irq_latency_p99_cycles"]

    track_irq_latency_p99_cycles.unit = "cycles"
    track_irq_latency_p99_cycles.version = 2

    def track_irqs_off_max_cycles(self, design, bulk, kernel):
        """irqs_off_max_cycles: the longest window with IRQs disabled by kernel code."""
        return self.metrics["irqs_off_max_cycles"]

    track_irqs_off_max_cycles.unit = "cycles"
    track_irqs_off_max_cycles.version = 2


# The real callers' headline figure, each in cycles: caller -> (workload, parameters, metric).
CALLERS = {
    "page_pool": ("page_pool", {"packets": 4096}, "alloc_cycles_per_packet"),
    "sunrpc": ("sunrpc", {"calls": 50}, "alloc_cycles_per_call"),
    "contention": ("contention", {"cpus": 4, "bursts": 50}, "zone_lock_wait_cycles"),
}


class Callers:
    """page_pool: cycles per packet refilling the cache (64 at a time, NAPI softirq); sunrpc: cycles per
    svc_alloc_arg() call (32 holes of 259 slots); contention: zone->lock wait cycles (4 CPUs, remote frees)."""

    params = (DESIGNS, list(CALLERS))
    param_names = ["design", "caller"]

    def setup(self, design, caller):
        workload, params, metric = CALLERS[caller]
        self.value = simulate(design, workload, params, (metric,))[metric]

    def track_cycles(self, design, caller):
        """The caller's figure: alloc_cycles_per_packet, alloc_cycles_per_call or zone_lock_wait_cycles."""
        return self.value

    track_cycles.unit = "cycles"
    track_cycles.version = 1
