"""The decision table's columns: what a reviewer asks first, each a metric at one point of one study (its cells
link to that study's table), and the runs each is taken from."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchframe.results import RunResult


@dataclass(frozen=True)
class DecisionCell:
    """A column of the decision table: ``metric`` at one point (``params``) of ``workload``, on the default or
    the PREEMPT_RT kernel, from the table of study ``study`` (its cells link there)."""

    key: str
    header: str
    workload: str
    params: tuple[tuple[str, Any], ...]
    metric: str
    study: str
    rt: bool = False

    def matches(self, run: RunResult) -> bool:
        return (run.workload == self.workload and ("PREEMPT_RT" in run.config) == self.rt and
                all(run.params.get(k) == v for k, v in self.params))


#: what a reviewer asks first, in order: the cost per page, the IRQs-off window and interrupt latency, what
#: contention and a NUMA node at its low watermark do
DECISION_CELLS = (
    DecisionCell("cost8", "cost @8", "page_bench04", (("bulk", 8),), "alloc_free_cycles_per_page", "bulk"),
    DecisionCell("cost64", "cost @64", "page_bench04", (("bulk", 64),), "alloc_free_cycles_per_page", "bulk"),
    DecisionCell("irqsoff64", "IRQs-off @64", "page_bench04", (("bulk", 64),), "irqs_off_max_cycles", "bulk"),
    DecisionCell("p99", "p99 lat @64", "irq_latency", (("bulk", 64),), "irq_latency_p99_cycles", "irq"),
    DecisionCell("p99rt", "p99 lat @64 RT", "irq_latency", (("bulk", 64),), "irq_latency_p99_cycles", "irq_rt",
                 rt=True),
    DecisionCell("lockwait", "zone->lock wait @4 CPUs", "contention", (("cpus", 4),), "zone_lock_wait_cycles",
                 "contention"),
    DecisionCell("pps", "pages/s @4 CPUs", "contention", (("cpus", 4),), "pages_per_sec", "contention"),
    DecisionCell("numa", "NUMA low wmark", "numa", (("spill", False),), "alloc_cycles_per_page", "numa"),
)


def decision_runs(runs: list[RunResult], cell: DecisionCell) -> list[RunResult]:
    """The runs a decision cell is taken from; where other parameters were varied too, those of the most
    frequent setting (its parameters go into the table's note)."""
    have = [r for r in runs if cell.matches(r)]
    if not have:
        return []
    fixed = {k for k, _ in cell.params}

    def others(r: RunResult) -> str:
        return json.dumps({k: v for k, v in r.params.items() if k not in fixed}, sort_keys=True, default=str)

    best = sorted(Counter(others(r) for r in have).items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return [r for r in have if others(r) == best]


def decision_cell(key: str) -> DecisionCell | None:
    """The decision cell called ``key`` (None: not one of ``DECISION_CELLS``)."""
    return next((c for c in DECISION_CELLS if c.key == key), None)
