"""``irq_latency``: "will the realtime people get upset about the irqs-off latency?" (Andrew Morton, 2021).

A task allocates bursts of ``bulk`` pages into an array and frees them one by one, in a loop, while a device
raises interrupts at Poisson-distributed times (mean interval ``irq_interval`` cycles, seeded by the run's
seed). Each handler does ``handler_cycles`` of work. The standard metrics give the interrupt latency
(arrival to handler start) and the IRQs-disabled windows; under ``--config PREEMPT_RT`` handlers are threads
that run as soon as the task is preemptible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.api import MAX_CALLS, MAX_PAGES, OTHER_WORK, Param, Study, Workload
from benchframe.hw.irq import InterruptSource
from benchframe.mm.page import GFP_ATOMIC

if TYPE_CHECKING:
    from benchframe.workloads.context import RunContext


def run(ctx: RunContext) -> None:
    p = ctx.params
    bulk = p["bulk"]
    caller = ctx.caller(0)
    cpu = ctx.cpus[0]
    work = p["handler_cycles"]
    array: list = [None] * bulk

    def one_burst() -> None:
        n = caller.alloc_array(GFP_ATOMIC, array, bulk)
        caller.free_pages([pg for pg in array[:n] if pg is not None])
        for i in range(bulk):
            array[i] = None
        cpu.charge(p["gap_cycles"], OTHER_WORK)  # the task's own work between bursts

    for _ in range(p["warmup"]):
        one_burst()
    ctx.machine.add_interrupt(cpu, InterruptSource.poisson(
        "eth0", p["irq_interval"], lambda c: c.charge(work), seed=ctx.seed))
    ctx.reset_measurement()
    for _ in range(p["bursts"]):
        one_burst()


WORKLOAD = Workload(
    name="irq_latency",
    run=run,
    description="bursts of `bulk` page allocations while device interrupts arrive (Poisson)",
    params=(
        Param("bulk", 64, "pages per bulk call", minimum=1, maximum=MAX_PAGES),
        Param("bursts", 300, "bursts measured", minimum=1, maximum=MAX_CALLS),
        Param("warmup", 4, "bursts before measuring", minimum=0, maximum=MAX_CALLS),
        Param("irq_interval", 20000, "mean cycles between interrupts (Poisson)", minimum=1),
        Param("handler_cycles", 500, "work done by each interrupt handler", minimum=0),
        Param("gap_cycles", 2000, "task work between bursts", minimum=0),
    ),
    headline=("irq_latency_samples", "irq_latency_p50_cycles", "irq_latency_p99_cycles", "irq_latency_max_cycles",
              "irqs_off_max_cycles", "invariant_violations"),
    studies=(
        Study("irq", "IRQs-off window and interrupt latency vs bulk (\"will the realtime people get upset?\")",
              ("irqs_off_max_cycles", "irq_latency_p99_cycles", "irq_latency_max_cycles"), "bulk", (8, 64, 256)),
        Study("irq_rt", "The same under PREEMPT_RT (local_lock becomes a sleeping lock, handlers are threads)",
              ("irqs_off_max_cycles", "irq_latency_p99_cycles", "irq_latency_max_cycles"), "bulk", (8, 64, 256),
              config=("PREEMPT_RT",)),
    ),
)
