"""``page_bench04``: the prototype-kernel microbenchmark ``page_bench04_bulk`` (kernel-facts §2.1, §2.2).

The module runs one of three tests, each the loop it times (``loops`` divided by ``bulk`` so each runs about
as long; "per elem" is alloc+free cycles per page):

* ``single`` (``single_page_alloc_put``): ``alloc_page(gfp)`` then ``put_page(page)``, one page at a time;
* ``list``: ``INIT_LIST_HEAD(&list)``, ``alloc_pages_bulk_list(gfp, bulk, &list)``, then the free the module
  used when (``free``): ``loop``, today's open-coded ``list_for_each_entry_safe(...) { list_del(&page->lru);
  __free_pages(page, 0); }`` (prototype-kernel 49d224b, 22 March 2021); ``bulk_2021``, the kernel's
  ``free_pages_bulk(&list)`` of the v1-v4 postings before that (kernel ``5.12-v4``: each page to the buddy lists
  under zone->lock, so every call refills the pcp through ``rmqueue_bulk()``); ``bulk_2017``, the 2017
  prototype's ``free_pages_bulk()`` through the pcp (kernel ``4.10-prototype``);
* ``array``: ``alloc_pages_bulk_array(gfp, bulk, array)`` into an array NULLed once before timing, then for
  each page ``put_page(array[j]); array[j] = NULL``.

``test=auto`` runs the test of the design's shape (a list design the list test, an array design the array
test); a design whose API does not match the test pays the conversion a real caller would. ``bulk=1`` calls
the bulk API with one page, which 5.13 serves through its single-page path. ``gfp`` is the module's
``GFP_ATOMIC | __GFP_NORETRY``; ``warmup`` loops run first and are not counted, as the module times a steady
state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.api import LIST, MAX_PAGES, Param, Site, Study, Workload
from benchframe.hw.topology import Topology
from benchframe.mm.page import parse_gfp

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.kconfig import KernelConfig
    from benchframe.workloads.context import Caller, RunContext

TESTS = ("auto", "single", "list", "array")
FREES = ("loop", "bulk_2021", "bulk_2017")
#: the module's function timing each test (attribution's caller frame)
TEST_FUNCTIONS = {"single": "time_single_page_alloc_put", "list": "time_bulk_page_alloc_free_list",
                  "array": "time_bulk_page_alloc_free_array"}
PARAMS = (
    Param("bulk", 64, "pages per bulk call (the single test ignores it)", minimum=1, maximum=MAX_PAGES),
    Param("pages", 16384, "pages allocated (and freed) in the measured loops, rounded up to whole loops",
          minimum=1, maximum=MAX_PAGES),
    Param("test", "auto", "the module's test: single, list or array (auto: the design's shape)", type=str,
          choices=TESTS),
    Param("array_size", 0, "array length of the array test (0: same as bulk; the module's ARRAY_SZ is 128)",
          minimum=0, maximum=MAX_PAGES),
    Param("warmup", 2, "loops run before measuring", minimum=0, maximum=1000),
    Param("gfp", "GFP_ATOMIC|__GFP_NORETRY", "gfp flags, '|'-separated", type=str),
    Param("free", "loop", "how the list test frees: loop (the module today), bulk_2021 (free_pages_bulk() of "
          "v1-v4, kernel 5.12-v4), bulk_2017 (the 2017 prototype's, kernel 4.10-prototype)", type=str,
          choices=FREES),
    Param("zone_pages", 262144, "size of the Normal zone in 4 KiB pages (1 GiB)", minimum=1024,
          maximum=MAX_PAGES),
)


def _topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    if config.numa:
        return Topology.numa(nodes=2, cpus_per_node=1, normal_pages=params["zone_pages"])
    return Topology.uma(cpus=1, normal_pages=params["zone_pages"])


def _single(caller: Caller, gfp: int, pages: int) -> None:
    """``single_page_alloc_put``: alternately one ``alloc_page()`` and one ``put_page()``."""
    for _ in range(pages):
        page = caller.alloc_page(gfp)
        if page is not None:
            caller.free(page)


def _list(caller: Caller, gfp: int, bulk: int, free: str) -> None:
    lst: list[int] = []
    caller.alloc_list(gfp, bulk, lst)
    if free == "bulk_2017":
        caller.free_pages_bulk(lst)
    elif free == "bulk_2021":
        caller.free_pages_bulk_2021(lst)
    else:
        caller.free_list(lst)


def _array(caller: Caller, gfp: int, bulk: int, array: list[int | None]) -> None:
    n = caller.alloc_array(gfp, array, bulk)
    caller.free_pages([page for page in array[:n] if page is not None])
    caller.cpu.charge(caller.kernel.prices.array_store * n, Site.at(*caller.free_frames))  # array[j] = NULL
    if 0 <= n <= len(array):
        array[:n] = [None] * n
    else:  # a count no call could return (the harness has recorded it): as the kernel's loop would go
        for i in range(n):
            array[i] = None


def check(p: Mapping[str, Any]) -> str | None:
    """Combinations that would not run as asked: more pages per call than the run measures, a call larger
    than the array test's array, gfp flags the model does not know."""
    if p["test"] != "single" and p["bulk"] > p["pages"]:
        return (f"bulk={p['bulk']} is larger than pages={p['pages']}: each loop allocates bulk pages, so the "
                f"run would measure {p['bulk']}, not {p['pages']}")
    if p["test"] != "list" and p["array_size"] and p["bulk"] > p["array_size"]:
        return f"bulk={p['bulk']} is larger than the array (array_size={p['array_size']})"
    try:
        parse_gfp(p["gfp"])
    except ValueError as exc:
        return str(exc)
    return None


def run(ctx: RunContext) -> None:
    p = ctx.params
    bulk = p["bulk"]
    test = p["test"] if p["test"] != "auto" else ("list" if ctx.design.shape == LIST else "array")
    size = p["array_size"] or bulk
    if test == "array" and bulk > size:
        raise BenchframeError(f"page_bench04: bulk={bulk} is larger than the array (array_size={size})")
    gfp = parse_gfp(p["gfp"])  # check() has refused what it cannot parse
    zone = ctx.kernel.zonelists[0][0]
    usable = zone.managed_pages - zone.watermark[0]
    if bulk > usable:
        raise BenchframeError(f"page_bench04: bulk={bulk} cannot be met by a zone of {zone.managed_pages} pages "
                              f"({usable} above the min watermark)")
    caller = ctx.caller(0, frames=(TEST_FUNCTIONS[test], TEST_FUNCTIONS[test]))
    array: list[int | None] = [None] * size
    free = p["free"]
    has = ctx.config.version.free_pages_bulk
    if free != "loop" and free != f"bulk_{has}":
        raise BenchframeError(f"page_bench04: free={free} needs the kernel whose free_pages_bulk() it is "
                              f"({'4.10-prototype' if free == 'bulk_2017' else '5.12-v4'}), not "
                              f"{ctx.config.version.name}")
    per_loop = 1 if test == "single" else bulk
    loops = -(-p["pages"] // per_loop)

    def one_loop() -> None:
        if test == "single":
            _single(caller, gfp, 1)
        elif test == "list":
            _list(caller, gfp, bulk, free)
        else:
            _array(caller, gfp, bulk, array)

    for _ in range(p["warmup"] * (bulk if test == "single" else 1)):
        one_loop()
    ctx.reset_measurement()
    for _ in range(loops):
        one_loop()


BULKS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # the bulk study's sizes
#: pages per run of the bulk study: its per-page costs and longest IRQs-off window are identical to those at
#: the default 16384 pages for every design and bulk size (tests/workloads/test_page_bench04.py checks it), for
#: a quarter of the time — what keeps the default compare under a minute on two cores.
BULK_STUDY_PAGES = 4096


WORKLOAD = Workload(
    name="page_bench04",
    run=run,
    seeded=False,  # the module's loops are the same whatever the seed
    description="page_bench04_bulk: the module's single, list or array test (alloc, then free as it does)",
    params=PARAMS,
    topology=_topology,
    check=check,
    headline=("alloc_free_cycles_per_page", "alloc_cycles_per_page", "free_cycles_per_page", "irqs_off_max_cycles",
              "fallbacks", "invariant_violations"),
    studies=(
        Study("bulk", "Cost per page vs bulk size (page_bench04: allocate `bulk`, free one by one)",
              ("alloc_free_cycles_per_page", "alloc_cycles_per_page", "irqs_off_max_cycles"), "bulk", BULKS,
              params={"pages": BULK_STUDY_PAGES}, perf_at=(64,)),
        Study("rt_atomic", "PREEMPT_RT: refills and drains that take zone->lock (a sleeping lock on RT) with IRQs "
              "hard-disabled — the 'local_irq_save(); spin_lock()' sequence RT considers unsafe",
              ("rt_sleeping_lock_irqs_off", "irqs_off_max_cycles"), "bulk", (64, 512), config=("PREEMPT_RT",)),
    ),
)
