"""``contention``: several CPUs allocating and freeing bursts, a share of the frees done by another CPU.

Each CPU allocates ``bulk`` pages, hands a ``remote_free`` share of them to another CPU and frees the rest
itself; it also frees what other CPUs handed to it. Remote frees complete on the last CPU (as TX completions
land on the CPU that takes the NIC's completion interrupt), which hands its own share to CPU 0. Pages freed on
a CPU go to *that* CPU's pcp list (``free_unref_page()``), so remote frees make one CPU drain to the buddy
allocator while another refills from it, both under ``zone->lock``. CPUs run concurrently
in simulated time; lock waits are simulated, not estimated.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from benchframe.api import MAX_CALLS, MAX_CPUS, MAX_PAGES, OTHER_WORK, Param, Study, Workload
from benchframe.hw.topology import Topology
from benchframe.mm.page import GFP_ATOMIC

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.kconfig import KernelConfig
    from benchframe.workloads.context import RunContext


def _topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    if config.numa:
        return Topology.numa(nodes=2, cpus_per_node=max(1, -(-params["cpus"] // 2)))
    return Topology.uma(cpus=params["cpus"])


def _seeded(p: Mapping[str, Any]) -> bool:
    """Only a share strictly between none and all of the pages of more than one CPU is drawn at random."""
    return p["cpus"] > 1 and 0.0 < p["remote_free"] < 1.0


def run(ctx: RunContext) -> None:
    p = ctx.params
    bulk = p["bulk"]
    cpus = ctx.cpus[:p["cpus"]]
    inbox: list[deque[int]] = [deque() for _ in ctx.cpus]
    remote_share = p["remote_free"] if len(cpus) > 1 else 0.0
    # decide every hand-over up front so the choice does not depend on interleaving
    if _seeded(p):
        rng = ctx.rng
        plan = [[[rng.random() < remote_share for _ in range(bulk)] for _ in range(p["bursts"])] for _ in cpus]
    else:  # none or all of each burst is handed over: nothing to draw
        plan = [[[remote_share >= 1.0] * bulk for _ in range(p["bursts"])] for _ in cpus]

    def task(cpu) -> None:
        caller = ctx.caller(cpu)
        array: list = [None] * bulk
        last = len(cpus) - 1
        nxt = last if cpu.id != last else 0  # remote frees complete on one CPU (the TX-completion CPU)
        for burst in range(p["bursts"]):
            n = caller.alloc_array(GFP_ATOMIC, array, bulk)
            mine = []
            ctx.machine.sync(cpu)
            for i in range(n):
                if plan[cpu.id][burst][i]:
                    inbox[nxt].append(array[i])
                else:
                    mine.append(array[i])
                array[i] = None
            theirs = list(inbox[cpu.id])
            inbox[cpu.id].clear()
            caller.free_pages(mine)
            for page in theirs:
                caller.free(page)
            cpu.charge(p["gap_cycles"], OTHER_WORK)

    ctx.machine.run({cpu: task for cpu in cpus})
    for cpu in cpus:  # what is left in the inboxes is freed after the measurement
        caller = ctx.caller(cpu)
        for page in inbox[cpu.id]:
            caller.free(page)
    seconds = max(cpu.clock for cpu in cpus) / (ctx.costs.clock_ghz * 1e9)
    ctx.record("pages_per_sec", round(ctx.measurement.pages_allocated / seconds) if seconds > 0 else None)
    ctx.record("remote_frees", ctx.kernel.stat.remote_frees)


WORKLOAD = Workload(
    name="contention",
    run=run,
    seeded=_seeded,
    description="N CPUs allocating/freeing bursts, a share freed on a completion CPU (zone->lock contention)",
    params=(
        Param("cpus", 2, "CPUs taking part", minimum=1, maximum=MAX_CPUS),
        Param("bulk", 64, "pages per bulk call", minimum=1, maximum=MAX_PAGES),
        Param("bursts", 200, "bursts per CPU", minimum=1, maximum=MAX_CALLS),
        Param("remote_free", 0.5, "share of each burst freed by the next CPU (0..1)", type=float, minimum=0.0,
              maximum=1.0),
        Param("gap_cycles", 1000, "work between bursts", minimum=0),
    ),
    topology=_topology,
    metrics={
        "pages_per_sec": ("pages/s", "higher", "pages allocated per second of simulated time, all CPUs"),
        "remote_frees": ("pages", "lower", "pages freed on a CPU other than the one that allocated them"),
    },
    studies=(Study("contention", "Scaling with CPUs (half of each burst freed on another CPU)",
                   ("pages_per_sec", "zone_lock_wait_cycles", "alloc_cycles_per_page"), "cpus", (1, 2, 4)),),
)
