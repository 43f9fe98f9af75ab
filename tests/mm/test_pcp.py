"""Per-CPU page lists (``mm/pcp.py``): ``zone_batchsize()``, refill with ``batch`` pages exactly when the list is
empty, and a drain of ``batch`` pages exactly when ``pcp->count`` reaches ``high``."""

from __future__ import annotations

from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import GFP_ATOMIC, PAGE_ALLOCATED
from benchframe.mm.pcp import zone_batchsize


def _held(k) -> list[int]:
    return [p for p in range(k.mem.nr_pages) if k.mem.state[p] == PAGE_ALLOCATED]


def test_zone_batchsize_is_the_kernel_formula():
    # 5.13 zone_batchsize(): batch = min(pages / 1024, 1 MiB / PAGE_SIZE) / 4, then
    # rounddown_pow_of_two(batch + batch / 2) - 1.
    def kernel(pages: int) -> int:
        batch = min(pages // 1024, (1 << 20) // 4096) // 4 or 1
        b = batch + batch // 2
        return (1 << (b.bit_length() - 1)) - 1

    # 1 GiB and more: min(pages >> 10, 256) / 4 = 64 -> rounddown_pow_of_two(96) - 1 = 63
    assert zone_batchsize(262144) == 63
    assert zone_batchsize(1 << 22) == 63
    # 64 MiB zone: 16 >> 2 = 4 -> 4 + 2 = 6 -> 4 - 1 = 3
    assert zone_batchsize(16384) == 3
    for pages in (4096, 16384, 65536, 131072, 262144, 1 << 20, 1 << 22, 1 << 24):
        assert zone_batchsize(pages) == kernel(pages)


def test_pcp_refills_exactly_when_empty_with_batch_pages(boot_kernel):
    k = boot_kernel(262144)
    zone = k.zones[0]
    cpu = k.machine.cpus[0]
    pcp = zone.pcp[0]
    assert (pcp.batch, pcp.high) == (63, 6 * 63) and pcp.count == 0
    free0 = zone.nr_free_pages
    first = k.alloc_pages(cpu, GFP_ATOMIC)
    assert first is not None
    assert k.stat.pcp_refills == 1
    assert pcp.count == pcp.batch - 1  # refilled with batch, one handed out
    assert zone.nr_free_pages == free0 - pcp.batch
    # the remaining batch-1 pages come off the list without another refill
    for i in range(pcp.batch - 1):
        assert k.alloc_pages(cpu, GFP_ATOMIC) is not None
        assert k.stat.pcp_refills == 1, f"refilled early, after {i + 2} pages"
    assert pcp.count == 0
    k.alloc_pages(cpu, GFP_ATOMIC)  # empty list: now it refills
    assert k.stat.pcp_refills == 2 and pcp.count == pcp.batch - 1
    assert check_kernel(k, held=_held(k)) == []


def test_pcp_drains_batch_pages_exactly_when_count_reaches_high(boot_kernel):
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
    i, before = drained_at
    assert before + 1 == pcp.high, "the drain came when the count reached high, not before or after"
    assert pcp.count == pcp.high - pcp.batch
    assert k.stat.pcp_drains == 1  # one drain of batch pages
    assert k.stat.pcp_refills == refills
    assert check_kernel(k, held=_held(k)) == []
    # freeing the rest (batch more pages) reaches high once more: a second drain, and every page is back
    for page in pages[i + 1:]:
        k.free_unref_page(cpu, page)
    assert k.stat.pcp_drains == 2 and pcp.count == pcp.high - pcp.batch
    assert check_kernel(k) == []
