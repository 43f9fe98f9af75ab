"""``page_pool``: a driver's NAPI poll refilling its page_pool cache, as ``__page_pool_alloc_pages_slow()``
does since 5.13 (be5dba25b4b2; kernel-facts §7).

One CPU runs the NAPI poll in softirq context and takes one page per received packet from the 128-entry
``pool->alloc.cache``; when the cache is empty it refills ``PP_ALLOC_CACHE_REFILL`` (64) pages through the
design: array designs fill the (memset-to-NULL) cache directly, list designs pay for walking the returned list
into it (``api.Caller``). Pages leave as with XDP_REDIRECT: each is freed ``free_delay`` packets later (TX
completion), and a ``remote_free`` share of them on another CPU (then the run has two CPUs and the pages
cross between them in simulated-time order).

Packets per second: ``clock / (other_cycles + alloc_cycles_per_packet)`` where ``other_cycles`` is the rest
of the per-packet work (driver, XDP program, redirect), a parameter; ``budget_cycles`` is the line-rate budget
(10 Gbit/s at 64 B = 67.2 ns = 241 cycles at 3.6 GHz, kernel-facts §6.1) against which the allocation share is
reported.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from benchframe.api import Param, Workload
from benchframe.hw.cpu import SOFTIRQ
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.page import __GFP_NOWARN, GFP_ATOMIC
from benchframe.workloads.context import RunContext

PP_ALLOC_CACHE_SIZE = 128
PP_ALLOC_CACHE_REFILL = 64
IDLE_QUANTUM = 500  # cycles the freeing CPU idles between looks at its queue


def _topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    return Topology.uma(cpus=2 if params["remote_free"] > 0 else 1)


def run(ctx: RunContext) -> None:
    p = ctx.params
    gfp = GFP_ATOMIC | __GFP_NOWARN
    refill = p["refill"]
    rx = ctx.cpus[0]
    caller = ctx.caller(rx)
    remote = ctx.caller(ctx.cpus[1]) if len(ctx.cpus) > 1 else None
    cache: list[int] = []  # pool->alloc.cache[0 .. count)
    slots: list = [None] * refill
    in_flight: deque[int] = deque()  # pages redirected, not yet freed
    to_remote: deque[tuple[float, int]] = deque()  # (time handed over, page)
    rng = ctx.rng
    state = {"done": False, "alloc": 0}

    def napi_poll(cpu) -> None:
        saved = cpu.context
        cpu.context = SOFTIRQ
        for packet in range(p["warmup"] + p["packets"]):
            if packet == p["warmup"]:
                ctx.reset_measurement()
                state["alloc"] = 0
            if not cache:
                t0 = cpu.clock
                for i in range(refill):  # memset(&pool->alloc.cache, 0, sizeof(void *) * bulk)
                    slots[i] = None
                n = caller.alloc_array(gfp, slots, refill)
                cache.extend(reversed([pg for pg in slots[:n] if pg is not None]))
                state["alloc"] += cpu.clock - t0
                if not cache:
                    continue  # allocation failure: drop the packet
            page = cache.pop()  # pool->alloc.cache[--pool->alloc.count]
            in_flight.append(page)
            if len(in_flight) > p["free_delay"]:
                done = in_flight.popleft()
                if remote is not None and rng.random() < p["remote_free"]:
                    ctx.machine.sync(cpu)
                    to_remote.append((cpu.clock, done))
                else:
                    caller.free(done)
        cpu.context = saved
        for page in in_flight:
            caller.free(page)
        in_flight.clear()
        state["done"] = True

    def tx_completion(cpu) -> None:
        while True:
            ctx.machine.sync(cpu)
            while to_remote and to_remote[0][0] <= cpu.clock:
                remote.free(to_remote.popleft()[1])
            if state["done"] and not to_remote:
                return
            cpu.charge(IDLE_QUANTUM)

    if remote is None:
        ctx.machine.run({rx: napi_poll})
    else:
        ctx.machine.run({rx: napi_poll, ctx.cpus[1]: tx_completion})
    for page in cache:  # page_pool_destroy(): return the cached pages
        caller.free(page)
    packets = p["packets"]
    per_packet = state["alloc"] / packets
    ctx.record("alloc_cycles_per_packet", round(per_packet, 3))
    ctx.record("packets_per_sec", round(ctx.costs.clock_ghz * 1e9 / (p["other_cycles"] + per_packet)))
    ctx.record("alloc_share_of_budget_pct", round(100.0 * per_packet / p["budget_cycles"], 3))


WORKLOAD = Workload(
    name="page_pool",
    run=run,
    description="NAPI softirq page_pool: one page per packet from a 128-entry cache, refilled 64 at a time",
    params=(
        Param("packets", 16384, "packets received (measured)", minimum=1),
        Param("warmup", 256, "packets received before measuring", minimum=0),
        Param("refill", PP_ALLOC_CACHE_REFILL, "pages per refill (PP_ALLOC_CACHE_REFILL)", minimum=1),
        Param("free_delay", 64, "packets between a page's use and its free (TX completion)", minimum=0),
        Param("remote_free", 0.0, "share of pages freed on another CPU (0..1)", type=float, minimum=0.0),
        Param("other_cycles", 200, "per-packet cycles outside page allocation (driver, XDP, redirect)",
              minimum=0),
        Param("budget_cycles", 241, "per-packet cycle budget (10G@64B at 3.6 GHz = 241)", minimum=1),
    ),
    topology=_topology,
    metrics={
        "alloc_cycles_per_packet": ("cycles", "lower", "cycles per packet spent refilling the page_pool cache"),
        "packets_per_sec": ("pps", "higher", "clock / (other_cycles + alloc_cycles_per_packet)"),
        "alloc_share_of_budget_pct": ("%", "lower", "alloc_cycles_per_packet as a share of budget_cycles"),
    },
)
