"""The buddy allocator of a zone (``mm/zone.py``): a block freed into a lower buddy becomes a tail of the merged
block, and ``zone_watermark_fast()`` compares free pages with the mark."""

from __future__ import annotations

from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import MIGRATE_UNMOVABLE, PAGE_TAIL


def test_a_merged_page_is_a_buddy_tail_so_a_double_free_is_caught(boot_kernel):
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


def test_watermark_fast_uses_free_pages_against_the_mark(boot_kernel):
    k = boot_kernel(8192)
    zone = k.zones[0]
    low = zone.watermark[1]
    assert zone.zone_watermark_fast(0, zone.nr_free_pages - 1, 0)
    assert not zone.zone_watermark_fast(0, zone.nr_free_pages, 0)
    assert 0 < zone.watermark[0] < low < zone.watermark[2]
