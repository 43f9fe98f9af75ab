"""Issue 2 acceptance, allocator model: buddy split/merge and page conservation under random operation
sequences, ``zone_batchsize()``, pcp refill exactly when empty and drain exactly at ``high``."""

from __future__ import annotations

from conftest import boot_kernel
from hypothesis import given, settings
from hypothesis import strategies as st

from benchframe.hw.topology import MAX_ORDER
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import (
    GFP_ATOMIC,
    MIGRATE_UNMOVABLE,
    PAGE_ALLOCATED,
    PAGE_BUDDY,
    PAGE_PCP,
    PAGE_TAIL,
    STATE_NAMES,
)
from benchframe.mm.pcp import zone_batchsize

# One operation: (kind, order, pick). kind 0: rmqueue_buddy(order); 1: free a held buddy block;
# 2: alloc_pages(order 0, through the pcp); 3: free_unref_page a held order-0 page.
OPS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 10_000)), min_size=1, max_size=80)


def _check_states(k, held: dict[int, tuple[int, str]]) -> list[str]:
    """Every page is in exactly one state (DESIGN §7): buddy heads PAGE_BUDDY, the rest of a free block
    PAGE_TAIL, pcp pages PAGE_PCP, the heads of held blocks PAGE_ALLOCATED."""
    zone = k.zones[0]
    state = k.mem.state
    expect = {}
    for pfn, order, _mt in zone.free_blocks():
        expect[pfn] = PAGE_BUDDY
        for p in range(pfn + 1, pfn + (1 << order)):
            expect[p] = PAGE_TAIL
    for pcp in zone.pcp:
        for lst in pcp.lists:
            for p in lst:
                expect[p] = PAGE_PCP
    for pfn in held:
        expect[pfn] = PAGE_ALLOCATED
    return [f"pfn {p}: {STATE_NAMES[state[p]]}, expected {STATE_NAMES[s]}"
            for p, s in sorted(expect.items()) if state[p] != s]


def _drain_all(k, cpu) -> None:
    """``drain_pages()``: give every pcp page back to the buddy lists."""
    for zone in k.zones:
        for pcp in zone.pcp:
            if pcp.count:
                k.free_pcppages_bulk(cpu, zone, pcp.count, pcp)


@settings(max_examples=60, deadline=None)
@given(ops=OPS, zone_pages=st.sampled_from([4096, 16384]))
def test_random_alloc_free_conserves_pages_and_merges_back(ops, zone_pages):
    k = boot_kernel(zone_pages)
    zone = k.zones[0]
    cpu = k.machine.cpus[0]
    held: dict[int, tuple[int, str]] = {}  # head pfn -> (order, "buddy" | "pcp")
    for kind, order, pick in ops:
        if kind in (1, 3) and held:
            candidates = sorted(p for p, (_, how) in held.items() if (how == "buddy") == (kind == 1))
            if not candidates:
                continue
            pfn = candidates[pick % len(candidates)]
            o, how = held.pop(pfn)
            if how == "buddy":
                flags = k.zone_lock(cpu, zone)
                zone.free_one_page(cpu, pfn, o, k.mem.migratetype(pfn))
                zone.nr_free_pages += 1 << o
                k.zone_unlock(cpu, zone, flags)
            else:
                k.free_unref_page(cpu, pfn)
        elif kind == 0:
            pfn = k.rmqueue_buddy(cpu, zone, order, MIGRATE_UNMOVABLE)
            if pfn is None:
                continue
            assert pfn % (1 << order) == 0, "buddy blocks are naturally aligned"
            held[pfn] = (order, "buddy")
        elif kind == 2:
            pfn = k.alloc_pages(cpu, GFP_ATOMIC, 0)
            if pfn is None:
                continue
            assert pfn not in held
            held[pfn] = (0, "pcp")
        pages = [p for pfn, (o, _) in held.items() for p in range(pfn, pfn + (1 << o))]
        assert len(set(pages)) == len(pages), "a page was handed out twice"
        # check_kernel wants every held page marked allocated; the tails of a held block are PAGE_TAIL
        tails = [p for pfn, (o, _) in held.items() for p in range(pfn + 1, pfn + (1 << o))]
        for p in tails:
            k.mem.state[p] = PAGE_ALLOCATED
        assert check_kernel(k, pages) == []
        for p in tails:
            k.mem.state[p] = PAGE_TAIL
        assert _check_states(k, held) == []
        on_pcp = sum(pcp.count for pcp in zone.pcp)
        assert zone.nr_free_pages + on_pcp + len(pages) == zone.managed_pages
    assert k.violations == []
    # free everything, drain the pcp: the buddy allocator merges back to what boot left
    for pfn, (o, how) in sorted(held.items()):
        if how == "pcp":
            k.free_unref_page(cpu, pfn)
        else:
            zone.free_one_page(cpu, pfn, o, k.mem.migratetype(pfn))
            zone.nr_free_pages += 1 << o
    _drain_all(k, cpu)
    assert check_kernel(k) == []
    assert _check_states(k, {}) == []
    assert zone.nr_free_pages == zone.managed_pages
    assert zone.nr_free[MAX_ORDER - 1] == zone.managed_pages >> (MAX_ORDER - 1)
    assert sum(zone.nr_free[:MAX_ORDER - 1]) == 0


def test_a_merged_page_is_a_buddy_tail_so_a_double_free_is_caught():
    """Regression: ``Zone.free_one_page`` left the freed page's state as it was (allocated) when it merged
    into a lower buddy, so the page looked allocated while inside a free block and freeing it again went
    unnoticed by ``free_unref_page``'s double-free check."""
    k = boot_kernel(4096)
    zone = k.zones[0]
    cpu = k.machine.cpus[0]
    a = k.rmqueue_buddy(cpu, zone, 0, MIGRATE_UNMOVABLE)
    b = k.rmqueue_buddy(cpu, zone, 0, MIGRATE_UNMOVABLE)
    assert {a, b} == {a & ~1, (a & ~1) + 1}, "the second order-0 block is the first one's buddy"
    upper = max(a, b)
    k.free_one_page(cpu, zone, min(a, b), MIGRATE_UNMOVABLE)
    k.free_one_page(cpu, zone, upper, MIGRATE_UNMOVABLE)  # merges into the lower buddy
    assert k.mem.state[upper] == PAGE_TAIL
    assert check_kernel(k) == []
    k.free_unref_page(cpu, upper)
    assert len(k.violations) == 1 and "double free" in k.violations[0]


def test_zone_batchsize_is_the_kernel_formula():
    # 5.13 zone_batchsize(): batch = min(pages / 1024, 1 MiB / PAGE_SIZE) / 4, then
    # rounddown_pow_of_two(batch + batch / 2) - 1.
    def kernel(pages: int) -> int:
        batch = min(pages // 1024, (1 << 20) // 4096) // 4 or 1
        b = batch + batch // 2
        return (1 << (b.bit_length() - 1)) - 1

    assert zone_batchsize(262144) == 63
    for pages in (4096, 16384, 65536, 131072, 262144, 1 << 20, 1 << 24):
        assert zone_batchsize(pages) == kernel(pages)


def test_pcp_refills_exactly_when_empty_with_batch_pages():
    k = boot_kernel(262144)
    zone = k.zones[0]
    cpu = k.machine.cpus[0]
    pcp = zone.pcp[0]
    assert pcp.batch == 63 and pcp.count == 0
    free0 = zone.nr_free_pages
    first = k.alloc_pages(cpu, GFP_ATOMIC)
    assert first is not None
    assert k.stat.pcp_refills == 1
    assert pcp.count == pcp.batch - 1
    assert zone.nr_free_pages == free0 - pcp.batch
    # the remaining batch-1 pages come off the list without another refill
    for i in range(pcp.batch - 1):
        assert k.alloc_pages(cpu, GFP_ATOMIC) is not None
        assert k.stat.pcp_refills == 1, f"refilled early, after {i + 2} pages"
    assert pcp.count == 0
    k.alloc_pages(cpu, GFP_ATOMIC)  # empty list: now it refills
    assert k.stat.pcp_refills == 2 and pcp.count == pcp.batch - 1
    assert check_kernel(k, held=_held(k)) == []


def _held(k) -> list[int]:
    return [p for p in range(k.mem.nr_pages) if k.mem.state[p] == PAGE_ALLOCATED]


def test_pcp_drains_batch_pages_when_count_reaches_high():
    k = boot_kernel(262144)
    zone = k.zones[0]
    cpu = k.machine.cpus[0]
    pcp = zone.pcp[0]
    pages = [k.alloc_pages(cpu, GFP_ATOMIC) for _ in range(pcp.high + pcp.batch)]
    assert None not in pages
    refills = k.stat.pcp_refills
    drained_at = None
    for i, page in enumerate(pages):
        before = pcp.count
        k.free_unref_page(cpu, page)
        if k.stat.pcp_drains:
            drained_at = (i, before)
            break
        assert pcp.count == before + 1
    assert drained_at is not None, "no drain happened"
    _, before = drained_at
    assert before + 1 == pcp.high, "the drain came when the count reached high, not before or after"
    assert pcp.count == pcp.high - pcp.batch
    assert k.stat.pcp_refills == refills
    assert check_kernel(k, held=_held(k)) == []
