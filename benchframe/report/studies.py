"""The studies of the comparison report: each answers one question from the 2021 thread by varying one
workload parameter, and names the metrics that answer it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.run.spec import RunSpec

if TYPE_CHECKING:
    from benchframe.registry import Registry

BULKS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class Study:
    """One question: a workload, the parameter varied (or None), the metrics that answer it."""

    key: str
    question: str
    workload: str
    metrics: tuple[str, ...]
    vary: str | None = None
    values: tuple[Any, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    config: tuple[str, ...] = ()

    def points(self) -> list[dict[str, Any]]:
        if self.vary is None:
            return [dict(self.params)]
        return [{**self.params, self.vary: v} for v in self.values]


#: pages per run of the bulk study: its per-page costs and longest IRQs-off window are identical to those at
#: page_bench04's default 16384 pages for every design and bulk size (tests/test_report.py checks it), for a
#: quarter of the time — what keeps the default compare under a minute on two cores.
BULK_STUDY_PAGES = 4096

STUDIES: tuple[Study, ...] = (
    Study("bulk", "Cost per page vs bulk size (page_bench04: allocate `bulk`, free one by one)", "page_bench04",
          ("alloc_free_cycles_per_page", "alloc_cycles_per_page", "irqs_off_max_cycles"), "bulk", BULKS,
          params={"pages": BULK_STUDY_PAGES}),
    Study("irq", "IRQs-off window and interrupt latency vs bulk (\"will the realtime people get upset?\")",
          "irq_latency", ("irqs_off_max_cycles", "irq_latency_p99_cycles", "irq_latency_max_cycles"),
          "bulk", (8, 64, 256)),
    Study("irq_rt", "The same under PREEMPT_RT (local_lock becomes a sleeping lock, handlers are threads)",
          "irq_latency", ("irqs_off_max_cycles", "irq_latency_p99_cycles", "irq_latency_max_cycles"),
          "bulk", (8, 64, 256), config=("PREEMPT_RT",)),
    Study("rt_atomic", "PREEMPT_RT: refills and drains that take zone->lock (a sleeping lock on RT) with IRQs "
          "hard-disabled — the 'local_irq_save(); spin_lock()' sequence RT considers unsafe", "page_bench04",
          ("rt_sleeping_lock_irqs_off", "irqs_off_max_cycles"), "bulk", (64, 512), config=("PREEMPT_RT",)),
    Study("page_pool", "page_pool refill of 64 pages in NAPI softirq context: cost per packet", "page_pool",
          ("alloc_cycles_per_packet", "packets_per_sec", "irqs_off_max_cycles")),
    Study("sunrpc", "svc_alloc_arg() refilling 32 holes of a 259-slot rq_pages array: cost per call", "sunrpc",
          ("alloc_cycles_per_call", "irqs_off_cycles_per_call", "us_per_call"), "pattern",
          ("contiguous", "scattered")),
    Study("contention", "Scaling with CPUs (half of each burst freed on another CPU)", "contention",
          ("pages_per_sec", "zone_lock_wait_cycles", "alloc_cycles_per_page"), "cpus", (1, 2, 4)),
    Study("numa", "Local node at its low watermark: fall back to single pages (kernel) or spill to the remote node",
          "numa", ("alloc_cycles_per_page", "use_cycles_per_page", "fallbacks", "remote_page_share"),
          "spill", (False, True)),
    Study("nmi", "Allocation attempted from NMI context (violations are the finding here)", "nmi",
          ("nmi_refused", "nmi_allocs", "invariant_violations")),
    Study("trace", "A recorded workload replayed (--workloads trace:FILE): its order-0 allocations one by one "
          "(batch=none, the single-page baseline) or one bulk call per run (batch=runs); order > 0 blocks take "
          "the single-page path either way", "trace",
          ("allocator_cycles_total", "allocator_cycles_per_page", "alloc_cycles_per_page", "bulk_share_pct",
           "high_order_cycles_per_page", "irqs_off_max_cycles", "zone_lock_wait_cycles", "fallbacks"),
          "batch", ("none", "runs"), params={"file": ""}),  # --workloads trace:FILE names the file
)


def workload_args(reg: Registry, given: list[str] | None) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """``--workloads`` names, where ``NAME:VALUE`` sets the workload's first parameter (``trace:FILE`` its
    ``file``): the names, and per name the parameters so set."""
    names: list[str] = []
    args: dict[str, dict[str, Any]] = {}
    for entry in given or []:
        name, sep, value = entry.partition(":")
        w = reg.workload(name)
        if sep:
            if not w.params:
                raise BenchframeError(f"--workloads {entry}: workload {name} has no parameter to set")
            first = w.params[0].name
            w.resolve_params({first: value})
            args[name] = {first: value}
        names.append(name)
    return names, args


def select_studies(reg: Registry, workloads: list[str] | None) -> tuple[list[Study], list[str]]:
    notes = []
    workloads, args = workload_args(reg, workloads)
    chosen = []
    for study in STUDIES:
        if workloads and study.workload not in workloads:
            continue
        if study.workload not in reg.workloads:
            notes.append(f"study {study.key} skipped: workload {study.workload} is not registered")
            continue
        if not reg.workloads[study.workload].standard and not workloads:
            continue
        chosen.append(replace(study, params={**study.params, **args[study.workload]})
                      if study.workload in args else study)
    if workloads:  # a workload without a built-in study is run at its defaults
        for w in workloads:
            if not any(s.workload == w for s in chosen):
                metrics = tuple(w_m for w_m in reg.workloads[w].metrics) or ("alloc_cycles_per_page",)
                chosen.append(Study(w, f"{w} at its default parameters", w, metrics, params=args.get(w, {})))
    return chosen, notes


def build_specs(studies: list[Study], designs: list[str], seeds: list[int], profile: str | None,
                config: list[str], plugins: tuple[str, ...], kernel: str = "5.13") -> list[tuple[Study, RunSpec]]:
    out = []
    for study in studies:
        cfg = tuple(sorted(set(config) | set(study.config)))
        for params in study.points():
            for design in designs:
                for seed in seeds:
                    out.append((study, RunSpec(design=design, workload=study.workload, params=params, seed=seed,
                                               profile=profile, config=cfg, plugins=plugins, kernel=kernel)))
    return out



def studies_from_runs(runs: list[dict[str, Any]], reg: Registry) -> list[Study]:
    """The built-in studies that match the runs, plus one ad-hoc study per other workload/varied parameter."""
    studies = []
    seen_workloads = set()
    for study in STUDIES:
        have = [r for r in runs if r["workload"] == study.workload]
        if not have:
            continue
        if study.vary and not any(r["params"].get(study.vary) in study.values for r in have):
            continue
        if study.config and not any(all(c in r.get("config", []) for c in study.config) for r in have):
            continue
        if study.vary:  # values the runs have beyond the study's own (a sweep of trace batch windows) are shown too
            extra = {r["params"][study.vary] for r in have if r["params"].get(study.vary) not in study.values}
            study = replace(study, values=study.values + tuple(sorted(extra, key=str)))
        studies.append(study)
        seen_workloads.add(study.workload)
    for workload in sorted({r["workload"] for r in runs} - seen_workloads):
        have = [r for r in runs if r["workload"] == workload]
        keys = sorted({k for r in have for k in r["params"]})
        varied = [k for k in keys if len({json.dumps(r["params"].get(k)) for r in have}) > 1]
        vary = varied[0] if varied else None
        values = tuple(sorted({r["params"][vary] for r in have}, key=str)) if vary else ()
        w = reg.workloads.get(workload)
        metrics = tuple(w.metrics) if w and w.metrics else ("alloc_free_cycles_per_page", "alloc_cycles_per_page",
                                                             "irqs_off_max_cycles")
        studies.append(Study(workload, f"{workload}" + (f" vs {vary}" if vary else ""), workload, metrics, vary,
                             values))
    return studies
