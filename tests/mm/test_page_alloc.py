"""The allocator's paths (``mm/page_alloc.py``) as a whole: page conservation under random sequences of buddy and
pcp allocations and frees, the single-page paths down to exhaustion, and two CPUs refilling and draining
through ``zone->lock`` in simulated time."""

from __future__ import annotations

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
def test_random_alloc_free_conserves_pages_and_merges_back(boot_kernel, ops, zone_pages):
    """Random buddy allocations of orders 0-5 and pcp allocations, freed in random order: no page handed out
    twice, every page in exactly one state, conservation; freeing everything and draining the pcp merges the
    buddy lists back to what boot left."""
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


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 200)), min_size=1, max_size=40))
def test_single_page_paths_conserve_pages(boot_kernel, ops):
    """alloc_pages()/free_unref_page() runs of up to 200 pages on an 8192-page zone (down to its watermark):
    conservation, no page twice, counts match lists."""
    k = boot_kernel(8192)
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


def _two_cpus_alloc_then_free(boot_kernel, pages_per_cpu: int = 400):
    """Two CPUs each allocate ``pages_per_cpu`` pages at once (refills under zone->lock), then free them all
    (drains under zone->lock). Returns the kernel, the pages each CPU held, and the zone->lock wait and the CPU
    clocks after the allocation phase."""
    k = boot_kernel(262144, cpus=2)
    held: dict[int, list[int]] = {0: [], 1: []}

    def alloc(cpu):
        for _ in range(pages_per_cpu):
            page = k.alloc_pages(cpu, GFP_ATOMIC)
            assert page is not None
            held[cpu.id].append(page)

    def free(cpu):
        for page in held[cpu.id]:
            k.free_unref_page(cpu, page)

    cpus = k.machine.cpus
    k.machine.run({cpus[0]: alloc, cpus[1]: alloc})
    after_alloc = (k.stat.pcp_refills, k.zones[0].lock.contended, k.zones[0].lock.wait_cycles,
                   [c.clock for c in cpus])
    k.machine.run({cpus[0]: free, cpus[1]: free})
    return k, held, after_alloc


def test_two_cpus_refilling_and_draining_contend_on_zone_lock(boot_kernel):
    k, held, (refills, contended, wait, clocks) = _two_cpus_alloc_then_free(boot_kernel)
    assert refills >= 2 * (400 // 63)
    assert contended > 0 and wait > 0
    assert not set(held[0]) & set(held[1])
    assert k.stat.pcp_drains > 0
    assert k.violations == [] and check_kernel(k) == []
    k2, _, after_alloc2 = _two_cpus_alloc_then_free(boot_kernel)
    assert after_alloc2 == (refills, contended, wait, clocks)  # deterministic
    assert (k2.zones[0].lock.wait_cycles, [c.clock for c in k2.machine.cpus]) == \
        (k.zones[0].lock.wait_cycles, [c.clock for c in k.machine.cpus])
