"""Metrics: every figure a run reports, with its unit, which way is better and a one-line definition; what
callers measure (``Measurement``); and the functions that turn the simulation's raw counters into figures."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from benchframe import BenchframeError
from benchframe.hw.samples import Samples

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from benchframe.hw.costs import CostModel
    from benchframe.hw.cpu import CPU
    from benchframe.mm.page_alloc import Kernel
    from benchframe.records import Design, Workload

LOWER = "lower"
HIGHER = "higher"
#: the units of metrics that count whole events
COUNT_UNITS = frozenset({"count", "calls", "pages", "interrupts", "windows"})


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    better: str  # LOWER or HIGHER: which way is an improvement
    definition: str
    #: for a percentile: the metric counting the events it is taken over (reported next to it)
    samples: str = ""


def _m(name: str, unit: str, better: str, definition: str, samples: str = "") -> tuple[str, Metric]:
    return name, Metric(name, unit, better, definition, samples)


METRICS: dict[str, Metric] = dict([
    _m("alloc_cycles_per_page", "cycles", LOWER, "cycles spent in the caller's allocation calls per page allocated"),
    _m("free_cycles_per_page", "cycles", LOWER, "cycles spent in the caller's free calls per page freed"),
    _m("alloc_free_cycles_per_page", "cycles", LOWER, "alloc_cycles_per_page + free_cycles_per_page"),
    _m("ns_per_page", "ns", LOWER, "alloc_free_cycles_per_page converted with the profile's clock rate"),
    _m("irqs_off_max_cycles", "cycles", LOWER, "longest window with IRQs disabled by kernel code, any CPU"),
    _m("irqs_off_windows", "windows", LOWER, "IRQs-disabled windows, any CPU (the samples of irqs_off_p99_cycles)"),
    _m("irqs_off_p99_cycles", "cycles", LOWER, "99th percentile (numpy, linear) of the IRQs-disabled windows; "
       "none under 100 windows", "irqs_off_windows"),
    _m("irq_latency_samples", "interrupts", HIGHER, "device interrupts delivered (the samples of the latency "
       "percentiles)"),
    _m("irq_latency_p50_cycles", "cycles", LOWER, "median delay from a device interrupt's arrival to its handler "
       "(numpy, linear)", "irq_latency_samples"),
    _m("irq_latency_p99_cycles", "cycles", LOWER, "99th percentile (numpy, linear) of the interrupt delivery delay; "
       "none under 100 interrupts", "irq_latency_samples"),
    _m("irq_latency_max_cycles", "cycles", LOWER, "longest interrupt delivery delay"),
    _m("zone_lock_wait_cycles", "cycles", LOWER, "cycles CPUs spent waiting for a zone->lock held by another CPU"),
    _m("zone_lock_hold_max_cycles", "cycles", LOWER, "longest zone->lock hold time"),
    _m("atomics_per_page", "ops", LOWER, "LOCK-prefixed atomic operations per page allocated"),
    _m("irq_toggles_per_page", "ops", LOWER, "IRQ disable/enable pairs per page allocated"),
    _m("fallbacks", "calls", LOWER, "bulk calls that used the single-page path"),
    _m("partial_returns", "calls", LOWER, "bulk calls that returned fewer pages than requested"),
    _m("pcp_refills", "calls", LOWER, "rmqueue_bulk() refills of a pcp list from the buddy allocator"),
    _m("pcp_drains", "calls", LOWER, "free_pcppages_bulk() drains of a pcp list to the buddy allocator"),
    _m("pages_allocated", "pages", HIGHER, "pages handed to callers"),
    _m("alloc_calls", "calls", LOWER, "calls the callers made into the allocator (bulk or single-page)"),
    _m("rt_sleeping_lock_irqs_off", "calls", LOWER,
       "PREEMPT_RT: zone->lock (a sleeping lock on RT) taken with IRQs hard-disabled, a might_sleep() splat"),
    _m("metadata_bytes_per_page", "bytes", LOWER, "bytes per page of the structure carrying pages to the caller"),
    _m("pcp_link_bytes", "bytes", LOWER, "bytes of struct page linking a page on a per-CPU list"),
    _m("invariant_violations", "count", LOWER, "DESIGN §7 invariant violations found during and after the run"),
])


@dataclass(slots=True)
class Measurement:
    """What the callers of a run measured (``benchframe.workloads.context.Caller`` adds to it): the cycles
    spent in allocation and free calls, the calls and the pages; ``held`` are the pages in callers' hands."""

    alloc_cycles: int = 0
    free_cycles: int = 0
    alloc_calls: int = 0
    pages_allocated: int = 0
    pages_freed: int = 0
    held: set[int] = field(default_factory=set)
    #: blocks of order > 0 (``alloc_pages(gfp, order)``): counted apart, as the bulk API (order-0 only) never
    #: serves them; their pages count 1 << order each; ``held_order`` maps each such block in ``held`` to its order
    high_order_alloc_cycles: int = 0
    high_order_free_cycles: int = 0
    high_order_pages_allocated: int = 0
    high_order_pages_freed: int = 0
    held_order: dict[int, int] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget the counts (after a warm-up); the pages held stay held."""
        self.alloc_cycles = self.free_cycles = self.alloc_calls = 0
        self.pages_allocated = self.pages_freed = 0
        self.high_order_alloc_cycles = self.high_order_free_cycles = 0
        self.high_order_pages_allocated = self.high_order_pages_freed = 0


def min_samples(pct: float) -> int:
    """The fewest samples a ``pct`` percentile needs to be more than the largest sample: at least one sample
    must lie above it (100 for a p99, 2 for a median)."""
    return math.ceil(100.0 / (100.0 - pct) - 1e-9) if pct < 100 else 1


def percentile(values: Sequence[int] | Sequence[float] | Samples, pct: float) -> float | None:
    """numpy's percentile (linear interpolation), rounded to 0.1; ``None`` when there are fewer samples than
    the percentile needs (``min_samples``): with 60 samples a "p99" is the maximum, and says so only as max.
    A ``Samples`` histogram gives the same value from its counts."""
    if len(values) < min_samples(pct):
        return None
    if isinstance(values, Samples):
        return round(values.percentile(pct), 1)
    return round(float(np.percentile(np.asarray(values, dtype=float), pct)), 1)


def merged(samples: list[Samples]) -> Samples:
    """Several CPUs' samples as one histogram."""
    return Samples().merged(samples)


def _per(num: float, den: float) -> float | None:
    return round(num / den, 3) if den else None


def standard_metrics(m: Measurement, k: Kernel, cpus: list[CPU], design: Design,
                     costs: CostModel) -> dict[str, float | int | None]:
    """The metrics every run reports, from what its callers measured and the machine's and kernel's counters."""
    windows = merged([c.irqs_off_windows for c in cpus])
    latencies = merged([c.irq_latencies for c in cpus])
    alloc = _per(m.alloc_cycles, m.pages_allocated)
    free = _per(m.free_cycles, m.pages_freed)
    both = round(alloc + free, 3) if alloc is not None and free is not None else alloc
    pages = m.pages_allocated
    return {
        "alloc_cycles_per_page": alloc,
        "free_cycles_per_page": free,
        "alloc_free_cycles_per_page": both,
        "ns_per_page": round(costs.ns(both), 3) if both is not None else None,
        "irqs_off_max_cycles": windows.max() or 0,
        "irqs_off_windows": len(windows),
        "irqs_off_p99_cycles": percentile(windows, 99),
        "irq_latency_samples": len(latencies),
        "irq_latency_p50_cycles": percentile(latencies, 50),
        "irq_latency_p99_cycles": percentile(latencies, 99),
        "irq_latency_max_cycles": latencies.max(),
        "zone_lock_wait_cycles": sum(z.lock.wait_cycles for z in k.zones),
        "zone_lock_hold_max_cycles": max(z.lock.max_hold for z in k.zones),
        "atomics_per_page": _per(sum(c.atomics for c in cpus), pages),
        "irq_toggles_per_page": _per(sum(c.irq_toggles for c in cpus), pages),
        "fallbacks": k.stat.fallbacks,
        "partial_returns": k.stat.partial_returns,
        "pcp_refills": k.stat.pcp_refills,
        "pcp_drains": k.stat.pcp_drains,
        "pages_allocated": pages,
        "alloc_calls": m.alloc_calls,
        "rt_sleeping_lock_irqs_off": k.stat.rt_sleeping_lock_irqs_off,
        "metadata_bytes_per_page": design.metadata_bytes_per_page,
        "pcp_link_bytes": design.pcp_link_bytes,
        "invariant_violations": len(k.violations),
    }


def metric(name: str, workload: Workload | None = None) -> Metric | None:
    """The one lookup of a metric: a standard one (``METRICS``), else one ``workload`` declares
    (``Workload.metrics``: unit, better, definition); ``None`` when neither knows ``name``."""
    if name in METRICS:
        return METRICS[name]
    if workload is not None and name in workload.metrics:
        unit, better, definition = workload.metrics[name]
        return Metric(name, unit, better, definition)
    return None


@dataclass(frozen=True)
class Catalogue:
    """The metric catalogue of a set of runs: the standard metrics and those of each workload the runs may name
    (``metric``), and each workload's default parameters (what a table heading need not repeat). What a report
    knows of the workloads, without the registry: a workload it does not hold (saved results of a plugin no
    longer loaded) has the standard metrics only."""

    workloads: Mapping[str, Workload] = field(default_factory=dict)

    def metric(self, name: str, workload: str) -> Metric | None:
        return metric(name, self.workloads.get(workload))

    def seeded(self, workload: str, params: Mapping[str, Any]) -> bool:
        """Whether a run of ``workload`` at ``params`` drew on its seed (``Workload.uses_seed``): one that did not
        was run once and copied under each seed. True for a workload not held or parameters it refuses."""
        w = self.workloads.get(workload)
        if w is None:
            return True
        try:
            return w.uses_seed(w.resolve_params(params))
        except BenchframeError:  # saved parameters an older workload took: count them as seeded
            return True

    def counts(self, name: str, workload: str) -> bool:
        """Whether the metric counts whole events (a violation, a fallback, a page): shown as whole numbers."""
        m = self.metric(name, workload)
        return m is not None and m.unit in COUNT_UNITS

    def defaults(self, workload: str) -> dict[str, Any]:
        """The parameters ``workload`` runs with when given none (``{}`` for one not held)."""
        w = self.workloads.get(workload)
        return {p.name: p.default for p in w.params} if w else {}
