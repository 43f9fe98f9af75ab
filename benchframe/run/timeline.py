"""The kernel timeline (``compare --kernel A,B,...``): one design on each kernel version, the numbers each step of
the pcp's history was argued with on linux-mm -- the single-page cost, the bulk cost per page, the longest
IRQs-off window and the longest zone->lock hold.

Cells (``page_bench04``, the kernel module the 2021 numbers came from; kernel-facts §2.1, §2.2):

* ``single page``: bulk=1, which every bulk API sends down the single-page path (alloc+free cycles per page);
* ``bulk 64``: bulk=64, a page_pool refill (alloc+free cycles per page);
* ``cold bulk 64``: bulk=64 with no warm-up, so the first call refills the pcp from the buddy lists: its
  IRQs-off window and zone->lock hold are those of a 64-page refill (``irqs_off_max_cycles``,
  ``zone_lock_hold_max_cycles``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.kconfig import kernel_version
from benchframe.output import Table
from benchframe.run.spec import RunSpec

if TYPE_CHECKING:
    from benchframe.records import Testbed
    from benchframe.registry import Registry
    from benchframe.results import RunResult

PAGES = 4096  # pages per cell: 64 bulk calls of 64, whole loops at every bulk size
#: (label, page_bench04 parameters, metric)
COLUMNS = (
    ("single page (cycles/page)", {"bulk": 1, "pages": PAGES}, "alloc_free_cycles_per_page"),
    ("bulk 64 (cycles/page)", {"bulk": 64, "pages": PAGES}, "alloc_free_cycles_per_page"),
    ("bulk 64 alloc (cycles/page)", {"bulk": 64, "pages": PAGES}, "alloc_cycles_per_page"),
    ("IRQs-off max, cold bulk 64 (cycles)", {"bulk": 64, "pages": PAGES, "warmup": 0}, "irqs_off_max_cycles"),
    ("zone->lock hold max, cold bulk 64 (cycles)", {"bulk": 64, "pages": PAGES, "warmup": 0},
     "zone_lock_hold_max_cycles"),
    ("invariant violations", {"bulk": 64, "pages": PAGES, "warmup": 0}, "invariant_violations"),
)

#: metrics that count events: their total over the seeds, an integer
COUNTS = frozenset({"invariant_violations"})


def timeline_kernels(text: str, design: str, reg: Registry) -> list[str]:
    """The versions of ``--kernel A,B,...``, each known and one ``design`` runs on (one-line errors)."""
    kernels = [k.strip() for k in text.split(",") if k.strip()]
    record = reg.design_spec(design)[0]
    for name in kernels:
        problem = record.factory.kernel_problem(kernel_version(name))
        if problem:
            raise BenchframeError(f"design {record.name}: {problem}")
    if len(set(kernels)) != len(kernels):
        raise BenchframeError(f"--kernel {text!r} names a version twice")
    return kernels


def timeline_cells(testbed: Testbed, design: str, kernels: list[str], seeds: list[int]) -> list[RunSpec]:
    """Every (kernel, distinct cell parameters, seed) of the timeline, in a stable order."""
    points = list({tuple(sorted(p.items())): p for _, p, _ in COLUMNS}.values())
    return [RunSpec(design=design, workload="page_bench04", params=dict(p), seed=s, profile=testbed.profile,
                    config=testbed.config, plugins=testbed.plugins, kernel=k)
            for k in kernels for p in points for s in seeds]


def timeline_values(kernels: list[str], runs: list[RunResult]) -> dict[str, list[float | None]]:
    """Per column label, its metric on each kernel version (mean over seeds, a count's total; ``None`` where
    nothing ran)."""
    values: dict[str, list[float | None]] = {}
    for label, params, metric in COLUMNS:
        column: list[float | None] = []
        for k in kernels:
            found = [r.metrics.get(metric) for r in runs if r.kernel == k and
                     all(r.params.get(n) == v for n, v in params.items()) and
                     ("warmup" in params or r.params.get("warmup") != 0)]
            got = [float(v) for v in found if v is not None]
            column.append((sum(got) if metric in COUNTS else sum(got) / len(got)) if got else None)
        values[label] = column
    return values


def _shown(value: float | None, metric: str) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if metric in COUNTS else f"{value:.1f}"


def timeline_table(design: str, kernels: list[str], runs: list[RunResult]) -> Table:
    """Per kernel version a row, per column its metric (mean over seeds)."""
    values = timeline_values(kernels, runs)
    rows = [[k, kernel_version(k).pcp_lock] + [_shown(values[label][i], metric) for label, _, metric in COLUMNS]
            for i, k in enumerate(kernels)]
    return Table(f"{design} across kernel versions (page_bench04)",
                 ["kernel", "pcp"] + [label for label, _, _ in COLUMNS], rows, stralign="right")


__all__ = ["COLUMNS", "timeline_cells", "timeline_kernels", "timeline_table", "timeline_values"]
