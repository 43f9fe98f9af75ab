"""``page_bench04``: the prototype-kernel microbenchmark ``page_bench04_bulk`` (kernel-facts §2.1).

Each loop allocates ``bulk`` order-0 pages with ``GFP_ATOMIC | __GFP_NORETRY`` into a NULLed array (one bulk
call; ``bulk=1`` is the single-page path) and frees them one by one, open-coded. The figure of merit is
alloc+free cycles per page. ``warmup`` loops run first and are not counted, as the kernel module times a
steady state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.api import Param, Workload
from benchframe.hw.topology import Topology
from benchframe.mm.page import parse_gfp

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.kconfig import KernelConfig
    from benchframe.workloads.context import RunContext

PARAMS = (
    Param("bulk", 64, "pages per bulk call", minimum=1),
    Param("pages", 16384, "pages allocated (and freed) in the measured loops, rounded up to whole loops",
          minimum=1),
    Param("array_size", 0, "array length (0: same as bulk; the kernel module uses 128)", minimum=0),
    Param("warmup", 2, "loops run before measuring", minimum=0),
    Param("gfp", "GFP_ATOMIC|__GFP_NORETRY", "gfp flags, '|'-separated", type=str),
    Param("zone_pages", 262144, "size of the Normal zone in 4 KiB pages (1 GiB)", minimum=1024),
)


def _topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    if config.numa:
        return Topology.numa(nodes=2, cpus_per_node=1, normal_pages=params["zone_pages"])
    return Topology.uma(cpus=1, normal_pages=params["zone_pages"])


def run(ctx: RunContext) -> None:
    p = ctx.params
    bulk = p["bulk"]
    size = p["array_size"] or bulk
    if bulk > size:
        raise BenchframeError(f"page_bench04: bulk={bulk} is larger than the array (array_size={size})")
    try:
        gfp = parse_gfp(p["gfp"])
    except ValueError as exc:
        raise BenchframeError(f"page_bench04: {exc}") from None
    zone = ctx.kernel.zonelists[0][0]
    usable = zone.managed_pages - zone.watermark[0]
    if bulk > usable:
        raise BenchframeError(f"page_bench04: bulk={bulk} cannot be met by a zone of {zone.managed_pages} pages "
                              f"({usable} above the min watermark)")
    caller = ctx.caller(0)
    array: list = [None] * size
    loops = -(-p["pages"] // bulk)

    def one_loop() -> None:
        n = caller.alloc_array(gfp, array, bulk)
        caller.free_pages([page for page in array[:n] if page is not None])
        for i in range(n):
            array[i] = None

    for _ in range(p["warmup"]):
        one_loop()
    ctx.reset_measurement()
    for _ in range(loops):
        one_loop()


WORKLOAD = Workload(
    name="page_bench04",
    run=run,
    description="page_bench04_bulk: allocate `bulk` pages in one call, free them one by one",
    params=PARAMS,
    topology=_topology,
)
