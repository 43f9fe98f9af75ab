"""``sunrpc``: ``svc_alloc_arg()`` refilling ``rqstp->rq_pages`` (kernel-facts §8).

An nfsd thread keeps a 259-slot page array (``(sv_max_mesg + 2 * PAGE_SIZE) >> PAGE_SHIFT`` for 1 MiB
messages). Each RPC consumes ``holes`` pages, leaving NULL slots — contiguous or scattered — and the next
``svc_alloc_arg()`` refills them with the 5.13 loop ``for (;;) { filled = alloc_pages_bulk_array(GFP_KERNEL,
pages, rqstp->rq_pages); if (filled == pages) break; ... }``. Array designs rely on skip-populated; list
designs fill the holes from a returned list as Chuck Lever's list version of the patch did (a pass over the
array counting the holes, a second filling them; ``api.Caller``); ``single`` loops ``alloc_page()`` over the
NULL slots as before 5.13. The consumed pages leave through the network stack (``release=network``): they are
freed on another CPU, the one completing the transmit, so the nfsd thread's pcp list is not refilled by them
and its refills go through ``rmqueue_bulk()`` under zone->lock; ``release=local`` frees them on the nfsd
thread's own CPU. Either way the freeing is not part of the figure.

What the hole ``pattern`` changes: where an array design scans the populated slots. 5.13's
``__alloc_pages_bulk()`` skips the leading populated slots before it disables IRQs, and every populated slot
after the first hole inside the IRQs-off loop (``if (page_array && page_array[nr_populated]) { nr_populated++;
continue; }``). Contiguous holes at a random offset leave on average half the array before the first hole;
32 scattered holes leave about 259/33 = 8 slots, so nearly the whole array is scanned with IRQs off. The
cycles per call are the same (the same slots are tested either way); ``irqs_off_cycles_per_call`` is not.
List designs and ``single`` find the holes in the caller with IRQs on: the pattern changes nothing for them,
and the figures say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe.api import MAX_CALLS, MAX_PAGES, Param, Study, Topology, Workload
from benchframe.mm.page import GFP_KERNEL

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from benchframe.kconfig import KernelConfig
    from benchframe.workloads.context import RunContext

STALLS = 16  # iterations without progress before the model gives up (the kernel would wait on)
SLEEP_MS = 500  # schedule_timeout(msecs_to_jiffies(500))


def check(p: Mapping[str, Any]) -> str | None:
    if p["holes"] > p["pages"]:
        return f"holes={p['holes']} is larger than the array (pages={p['pages']})"
    return None


def _topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    cpus = 2 if params["release"] == "network" else 1
    if config.numa:
        return Topology.numa(nodes=2, cpus_per_node=1)
    return Topology.uma(cpus=cpus)


def run(ctx: RunContext) -> None:
    p = ctx.params
    pages = p["pages"]
    caller = ctx.caller(0, frames=("svc_alloc_arg", "svc_free_res_pages"))
    releaser = ctx.caller(1 if p["release"] == "network" else 0, frames=("svc_alloc_arg", "skb_release_data"))
    cpu = ctx.cpus[0]
    rq_pages: list = [None] * pages
    rng = ctx.rng
    retries = 0
    sleeps = 0
    irqs_off = 0

    def svc_alloc_arg() -> int:
        """``for (;;) { filled = alloc_pages_bulk_array(GFP_KERNEL, pages, rq_pages); if (filled == pages)
        break; ... schedule_timeout(msecs_to_jiffies(500)); }`` (5.13), or the later
        ``if (ret > filled) continue;`` form that sleeps only when an iteration made no progress."""
        nonlocal retries, sleeps, irqs_off
        t0 = cpu.clock
        w0 = cpu.irqs_off_windows.mark()
        filled = 0
        stalls = 0
        while True:
            ret = caller.alloc_array(GFP_KERNEL, rq_pages, pages, scans=2)
            if ret == pages:
                break
            retries += 1
            if p["loop"] == "5.13" or ret <= filled:
                sleeps += 1
            stalls = stalls + 1 if ret <= filled else 0
            if stalls >= STALLS:
                break  # no memory: the kernel would sleep on; the model stops and leaves the holes
            filled = ret
        irqs_off += cpu.irqs_off_windows.since(w0)
        return cpu.clock - t0

    svc_alloc_arg()  # the thread's first call fills every slot
    ctx.reset_measurement()
    retries = sleeps = irqs_off = 0
    total = 0
    for _ in range(p["calls"]):
        released: Sequence[int]
        if p["pattern"] == "contiguous":
            start = rng.randrange(pages - p["holes"] + 1)
            released = range(start, start + p["holes"])
        else:
            released = rng.sample(range(pages), p["holes"])
        releaser.free_pages([rq_pages[i] for i in released if rq_pages[i] is not None])
        for i in released:
            rq_pages[i] = None
        total += svc_alloc_arg()
    per_call = total / p["calls"]
    ctx.record("alloc_cycles_per_call", round(per_call, 3))
    ctx.record("irqs_off_cycles_per_call", round(irqs_off / p["calls"], 3))
    ctx.record("us_per_call", round(ctx.costs.ns(per_call) / 1000.0, 4))
    ctx.record("alloc_retries", retries)
    ctx.record("sleeps_per_call", round(sleeps / p["calls"], 4))
    ctx.record("sleep_ms_per_call", round(sleeps * SLEEP_MS / p["calls"], 3))
    releaser.free_pages([pg for pg in rq_pages if pg is not None])


WORKLOAD = Workload(
    name="sunrpc",
    run=run,
    description="svc_alloc_arg(): refill the NULL holes of a 259-slot rq_pages array after each RPC",
    params=(
        Param("pages", 259, "rq_pages slots ((1 MiB + 2 pages) / 4 KiB = 259)", minimum=1, maximum=MAX_PAGES),
        Param("holes", 32, "pages each RPC consumed (NULL slots to refill)", minimum=0, maximum=MAX_PAGES),
        Param("pattern", "contiguous", "where the holes are: one run at a random offset, or anywhere (changes "
              "how many populated slots an array design skips with IRQs off)", type=str,
              choices=("contiguous", "scattered")),
        Param("calls", 200, "RPCs measured", minimum=1, maximum=MAX_CALLS),
        Param("loop", "5.13", "svc_alloc_arg retry loop: 5.13 sleeps whenever the array is short, progress "
              "only when an iteration made no progress", type=str, choices=("5.13", "progress")),
        Param("release", "network", "where the consumed pages are freed: network (another CPU, after "
              "transmit) or local (the nfsd thread's CPU)", type=str, choices=("network", "local")),
    ),
    metrics={
        "alloc_cycles_per_call": ("cycles", "lower", "cycles per svc_alloc_arg() call"),
        "us_per_call": ("us", "lower", "alloc_cycles_per_call in microseconds at the profile's clock"),
        "irqs_off_cycles_per_call": ("cycles", "lower", "cycles per call with IRQs disabled (the populated slots "
                                     "an array design skips inside its IRQs-off loop count here)"),
        "alloc_retries": ("calls", "lower", "svc_alloc_arg() iterations that did not fill the array"),
        "sleeps_per_call": ("sleeps", "lower", "500 ms schedule_timeout() sleeps per svc_alloc_arg() call"),
        "sleep_ms_per_call": ("ms", "lower", "sleeps_per_call * 500 ms: wall time not in us_per_call"),
    },
    check=check,
    studies=(Study("sunrpc", "svc_alloc_arg() refilling 32 holes of a 259-slot rq_pages array: cost per call",
                   ("alloc_cycles_per_call", "irqs_off_cycles_per_call", "us_per_call"), "pattern",
                   ("contiguous", "scattered")),),
    topology=_topology,
)
