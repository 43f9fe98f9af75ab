"""Simulated metrics of every design, tracked across the project's history (deterministic: one value each)."""

from __future__ import annotations

from .common import BULKS, DESIGNS, check, run


class PageBench04:
    """page_bench04: allocate `bulk` pages in one call, free them one by one."""

    params = (DESIGNS, BULKS)
    param_names = ["design", "bulk"]

    def setup(self, design, bulk):
        check(design, "page_bench04", {"bulk": bulk, "pages": 4096})
        self.cache = {}

    def _metric(self, design, bulk, metric):
        return run(design, "page_bench04", {"bulk": bulk, "pages": 4096}, metric)

    def track_alloc_free_cycles_per_page(self, design, bulk):
        return self._metric(design, bulk, "alloc_free_cycles_per_page")

    track_alloc_free_cycles_per_page.unit = "cycles"
    track_alloc_free_cycles_per_page.version = 1

    def track_irqs_off_max_cycles(self, design, bulk):
        return self._metric(design, bulk, "irqs_off_max_cycles")

    track_irqs_off_max_cycles.unit = "cycles"
    track_irqs_off_max_cycles.version = 1


class IrqLatency:
    """irq_latency: interrupt latency p99 and IRQs-off window while allocating bursts of `bulk` pages."""

    params = (DESIGNS, [8, 64, 256], ["default", "PREEMPT_RT"])
    param_names = ["design", "bulk", "kernel"]

    def setup(self, design, bulk, kernel):
        check(design, "irq_latency", {"bulk": bulk, "bursts": 100})

    def _metric(self, design, bulk, kernel, metric):
        config = () if kernel == "default" else (kernel,)
        return run(design, "irq_latency", {"bulk": bulk, "bursts": 100}, metric, config)

    def track_irq_latency_p99_cycles(self, design, bulk, kernel):
        return self._metric(design, bulk, kernel, "irq_latency_p99_cycles")

    track_irq_latency_p99_cycles.unit = "cycles"
    track_irq_latency_p99_cycles.version = 1

    def track_irqs_off_max_cycles(self, design, bulk, kernel):
        return self._metric(design, bulk, kernel, "irqs_off_max_cycles")

    track_irqs_off_max_cycles.unit = "cycles"
    track_irqs_off_max_cycles.version = 1


# The real callers' headline figure, each in cycles: (workload, parameters, metric).
CALLERS = {
    "page_pool": ("page_pool", {"packets": 4096}, "alloc_cycles_per_packet"),
    "sunrpc": ("sunrpc", {"calls": 50}, "alloc_cycles_per_call"),
    "contention": ("contention", {"cpus": 4, "bursts": 50}, "zone_lock_wait_cycles"),
}


class Callers:
    """page_pool cycles per packet (refill 64 in NAPI softirq), sunrpc cycles per svc_alloc_arg() call (32
    holes of 259 slots), contention zone->lock wait cycles (4 CPUs, remote frees)."""

    params = (DESIGNS, list(CALLERS))
    param_names = ["design", "caller"]

    def setup(self, design, caller):
        workload, params, _ = CALLERS[caller]
        check(design, workload, params)

    def track_cycles(self, design, caller):
        workload, params, metric = CALLERS[caller]
        return run(design, workload, params, metric)

    track_cycles.unit = "cycles"
    track_cycles.version = 1
