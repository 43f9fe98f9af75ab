"""``nmi``: allocation attempted from NMI context while a task allocates in bulk.

The page allocator must not be called from NMI context (``__free_pages()`` kerneldoc: "not in NMI context"),
but nothing stops it. An NMI source (perf, watchdog) fires at Poisson times on the allocating CPU; its handler
tries to allocate one page through the design and frees it again. A design either refuses (``llist`` checks
``in_nmi()``: counted in ``nmi_refused``) or runs its normal path on top of the interrupted one — an NMI that
lands inside an IRQs-off pcp section corrupts the list or deadlocks on ``zone->lock``, which the invariant
checks report. For this workload violations are the result, not a failure of the tool; the NMI counters are
recorded up to the point where a deadlock stopped the run (``bursts_completed`` says how far the task got).
Whether a given run catches a design depends on where the NMIs land: lower ``nmi_interval`` (a stress rate,
far above a perf sampling rate) or other seeds find the windows sooner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.api import LIST, MAX_CALLS, MAX_PAGES, Param, Study, Workload
from benchframe.hw.irq import NMI_KIND, InterruptSource
from benchframe.mm.page import GFP_ATOMIC

if TYPE_CHECKING:
    from benchframe.workloads.context import RunContext


def run(ctx: RunContext) -> None:
    p = ctx.params
    bulk = p["bulk"]
    k = ctx.kernel
    caller = ctx.caller(0)
    cpu = ctx.cpus[0]
    impl = ctx.impl
    attempts = 0
    got = 0
    kept: list[int] = []  # hold=true: the page the previous NMI took, freed by the next one

    def nmi_handler(c) -> None:
        nonlocal attempts, got
        attempts += 1
        if kept:
            impl.free_page(c, kept.pop())
        if ctx.design.shape == LIST:
            lst: list = []
            impl.alloc_bulk(c, GFP_ATOMIC, 1, page_list=lst)
            pages = lst
        else:
            slot: list = [None]
            impl.alloc_bulk(c, GFP_ATOMIC, 1, page_array=slot)
            pages = [pg for pg in slot if pg is not None]
        for page in pages:
            got += 1
            if p["hold"]:
                kept.append(page)
            else:
                impl.free_page(c, page)

    array: list = [None] * bulk
    ctx.machine.add_interrupt(cpu, InterruptSource.poisson("perf-nmi", p["nmi_interval"], nmi_handler,
                                                          seed=ctx.seed, kind=NMI_KIND))
    done = 0
    try:
        for _ in range(p["bursts"]):
            n = caller.alloc_array(GFP_ATOMIC, array, bulk)
            caller.free_pages([pg for pg in array[:n] if pg is not None])
            for i in range(bulk):
                array[i] = None
            done += 1
        for page in kept:  # the last NMI's page, returned after the measurement
            impl.free_page(cpu, page)
    finally:  # a Deadlock ends the run (the runner records it as a violation): keep what was seen until then
        ctx.record("nmi_alloc_attempts", attempts)
        ctx.record("nmi_allocs", got)
        ctx.record("nmi_refused", k.stat.refused)
        ctx.record("bursts_completed", done)


WORKLOAD = Workload(
    name="nmi",
    run=run,
    description="allocation from NMI context during bulk allocations: refused, or corruption found",
    params=(
        Param("bulk", 64, "pages per bulk call of the interrupted task", minimum=1, maximum=MAX_PAGES),
        Param("bursts", 200, "bursts of the task", minimum=1, maximum=MAX_CALLS),
        Param("nmi_interval", 3000, "mean cycles between NMIs (Poisson)", minimum=1),
        Param("hold", False, "the NMI handler keeps its page until its next run instead of freeing it at once",
              type=bool),
    ),
    metrics={
        "nmi_alloc_attempts": ("calls", "lower", "allocations attempted from NMI context"),
        "nmi_allocs": ("pages", "lower", "pages the NMI handler actually got"),
        "nmi_refused": ("calls", "higher", "NMI allocations the design refused cleanly"),
        "bursts_completed": ("bursts", "higher", "task bursts finished before the run ended (a deadlock stops it)"),
    },
    studies=(Study("nmi", "Allocation attempted from NMI context (violations are the finding here)",
                   ("nmi_refused", "nmi_allocs", "invariant_violations")),),
)
