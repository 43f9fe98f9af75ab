"""The harness's ``Caller`` for blocks of order > 0 (``alloc_pages(gfp, order)``, ``__free_pages(page, order)``):
the single-page path of every design (``design`` is parametrised by ``conftest.py``), measured apart from
order-0 pages, and held blocks counted whole by the invariant checks."""

from __future__ import annotations

from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import GFP_KERNEL
from benchframe.plugins import get_registry
from benchframe.workloads.context import Harness


def _harness(design: str, cpus: int = 2) -> Harness:
    reg = get_registry(())
    d, options = reg.design_spec(design)
    return Harness(d, options, reg.cost_model(None), KernelConfig.parse([], "5.13"), Topology.uma(cpus=cpus), reg)


def test_blocks_of_order_above_0_are_allocated_freed_and_measured_apart(design):
    h = _harness(design)
    here, there = h.caller(0), h.caller(1)
    free_before = h.kernel.nr_free_pages()
    blocks = [(here.alloc_pages(GFP_KERNEL, order), order) for order in (3, 8, 1, 5)]
    page = here.alloc_pages(GFP_KERNEL, 0)  # order 0 is alloc_page(): the order-0 counters
    m = h.measurement
    assert all(p is not None for p, _ in blocks)
    assert m.high_order_pages_allocated == 8 + 256 + 2 + 32 and m.pages_allocated == 1
    assert m.high_order_alloc_cycles > 0 and m.held_order == {p: o for p, o in blocks}
    assert h.invariant_problems() == []  # the tails of held blocks are held, not lost
    for p, order in blocks:
        there.free_pages_order(p, order)  # freed on the other CPU: straight to the buddy lists
    here.free_pages_order(page, 0)
    assert m.high_order_pages_freed == 298 and m.high_order_free_cycles > 0 and m.pages_freed == 1
    assert m.held_order == {} and not h.held
    assert h.kernel.violations == [] and h.invariant_problems() == []
    assert h.kernel.stat.remote_frees == 298
    pcp = sum(pcp.count for zone in h.kernel.zones for pcp in zone.pcp)
    assert h.kernel.nr_free_pages() + pcp == free_before  # every block merged back


def test_a_held_block_counts_whole_only_with_its_order():
    h = _harness("array", cpus=1)
    page = h.caller(0).alloc_pages(GFP_KERNEL, 3)
    assert check_kernel(h.kernel, h.held, h.measurement.held_order) == []
    lost = check_kernel(h.kernel, h.held)  # as one page, its 7 tails are nowhere
    assert lost == [f"7 page(s) lost: neither free nor held (first pfn {page + 1})"]


def test_freeing_a_block_with_the_wrong_order_is_a_violation_and_frees_nothing():
    h = _harness("array", cpus=1)
    caller = h.caller(0)
    page = caller.alloc_pages(GFP_KERNEL, 3)
    caller.free(page)
    caller.free_pages_order(page, 2)
    assert h.kernel.violations == [f"caller frees pfn {page} as one page, but holds it as order 3",
                                   f"caller frees pfn {page} as order 2, but holds it as order 3"]
    assert h.measurement.held_order == {page: 3} and h.invariant_problems() == []
