"""The allocator model: buddy split/merge, page conservation, pcp refill/drain at batch/high."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from benchframe.hw.costs import DEFAULT_PROFILE, builtin_profile_paths, load_profile_file
from benchframe.hw.machine import Machine
from benchframe.hw.topology import MAX_ORDER, Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import GFP_ATOMIC, MIGRATE_UNMOVABLE, PAGE_ALLOCATED
from benchframe.mm.page_alloc import Kernel
from benchframe.mm.pcp import zone_batchsize

COSTS = load_profile_file(builtin_profile_paths()[DEFAULT_PROFILE])


def boot(pages: int = 4096, cpus: int = 1) -> Kernel:
    return Kernel(Machine(COSTS, Topology.uma(cpus=cpus, normal_pages=pages)), KernelConfig())


def test_zone_batchsize_matches_the_kernel_formula():
    # 1 GiB and more: min(pages >> 10, 256) / 4 = 64 -> rounddown_pow_of_two(96) - 1 = 63
    assert zone_batchsize(262144) == 63
    assert zone_batchsize(1 << 22) == 63
    # 64 MiB zone: 16 >> 2 = 4 -> 4 + 2 = 6 -> 4 - 1 = 3
    assert zone_batchsize(16384) == 3


def test_boot_puts_every_page_in_max_order_blocks():
    k = boot(8192)
    zone = k.zones[0]
    assert zone.nr_free_pages == 8192
    assert zone.nr_free[MAX_ORDER - 1] == 8192 >> (MAX_ORDER - 1)
    assert check_kernel(k) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.integers(0, 1000)), min_size=1, max_size=60))
def test_buddy_split_merge_conserves_pages(ops):
    """Random higher-order allocations and frees through the buddy lists keep every page accounted for,
    and freeing everything merges back to MAX_ORDER-1 blocks."""
    k = boot(4096)
    zone = k.zones[0]
    cpu = k.machine.cpus[0]
    held: dict[int, int] = {}
    for order, free, pick in ops:
        if free and held:
            pfn = sorted(held)[pick % len(held)]
            o = held.pop(pfn)
            for p in range(pfn, pfn + (1 << o)):
                k.mem.state[p] = 0
            flags = k.zone_lock(cpu, zone)
            zone.free_one_page(cpu, pfn, o, MIGRATE_UNMOVABLE)
            zone.nr_free_pages += 1 << o
            k.zone_unlock(cpu, zone, flags)
        else:
            pfn = k.rmqueue_buddy(cpu, zone, order, MIGRATE_UNMOVABLE)
            if pfn is None:
                continue
            assert pfn % (1 << order) == 0  # buddy blocks are naturally aligned
            assert all(not (pfn <= h < pfn + (1 << order)) for h in held)
            held[pfn] = order
        pages = [p for pfn, o in held.items() for p in range(pfn, pfn + (1 << o))]
        for p in pages:
            k.mem.state[p] = PAGE_ALLOCATED
        assert check_kernel(k, pages) == []
        assert zone.nr_free_pages + len(pages) == zone.managed_pages
    for pfn, o in sorted(held.items()):
        for p in range(pfn, pfn + (1 << o)):
            k.mem.state[p] = 0
        zone.free_one_page(cpu, pfn, o, MIGRATE_UNMOVABLE)
        zone.nr_free_pages += 1 << o
    assert check_kernel(k) == []
    assert zone.nr_free[MAX_ORDER - 1] == zone.managed_pages >> (MAX_ORDER - 1)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 200)), min_size=1, max_size=40))
def test_single_page_paths_conserve_pages(ops):
    """alloc_pages()/free_unref_page() sequences: conservation, no page twice, counts match lists."""
    k = boot(8192)
    cpu = k.machine.cpus[0]
    held: list[int] = []
    for free, n in ops:
        for _ in range(n):
            if free and held:
                k.free_unref_page(cpu, held.pop())
            elif not free:
                page = k.alloc_pages(cpu, GFP_ATOMIC)
                if page is not None:
                    assert page not in held
                    held.append(page)
        assert check_kernel(k, held) == []
    assert k.violations == []


def test_pcp_refills_batch_pages_when_empty_and_drains_batch_at_high():
    k = boot(262144)
    cpu = k.machine.cpus[0]
    zone = k.zones[0]
    pcp = zone.pcp[0]
    assert (pcp.batch, pcp.high) == (63, 6 * 63)
    first = k.alloc_pages(cpu, GFP_ATOMIC)
    assert k.stat.pcp_refills == 1
    assert pcp.count == pcp.batch - 1  # refilled with batch, one handed out
    pages = [first] + [k.alloc_pages(cpu, GFP_ATOMIC) for _ in range(pcp.batch - 1)]
    assert pcp.count == 0 and k.stat.pcp_refills == 1  # no refill until the list is empty
    pages.append(k.alloc_pages(cpu, GFP_ATOMIC))
    assert k.stat.pcp_refills == 2
    # free until count reaches high: exactly then batch pages go back to the buddy lists
    more = [k.alloc_pages(cpu, GFP_ATOMIC) for _ in range(pcp.high + 10)]
    pages += more
    for page in pages:
        k.free_unref_page(cpu, page)
    assert k.stat.pcp_drains >= 1
    assert pcp.count < pcp.high
    assert check_kernel(k) == []


def test_drain_happens_exactly_at_high():
    k = boot(262144)
    cpu = k.machine.cpus[0]
    pcp = k.zones[0].pcp[0]
    pages = [k.alloc_pages(cpu, GFP_ATOMIC) for _ in range(pcp.high)]
    counts = []
    for page in pages:
        k.free_unref_page(cpu, page)
        counts.append(pcp.count)
    # the free that makes count == high drains batch pages: count drops to high - batch
    i = next(j for j in range(1, len(counts)) if counts[j] < counts[j - 1])
    assert counts[i - 1] == pcp.high - 1
    assert counts[i] == pcp.high - pcp.batch
    assert k.stat.pcp_drains == 1


def test_watermark_fast_uses_free_pages_against_the_mark():
    k = boot(8192)
    zone = k.zones[0]
    low = zone.watermark[1]
    assert zone.zone_watermark_fast(0, zone.nr_free_pages - 1, 0)
    assert not zone.zone_watermark_fast(0, zone.nr_free_pages, 0)
    assert 0 < zone.watermark[0] < low < zone.watermark[2]
