"""Boot (``mm/boot.py``): every page of a zone starts free, in ``MAX_ORDER - 1`` blocks."""

from __future__ import annotations

from benchframe.hw.topology import MAX_ORDER
from benchframe.mm.invariants import check_kernel


def test_boot_puts_every_page_in_max_order_blocks(boot_kernel):
    k = boot_kernel(8192)
    zone = k.zones[0]
    assert zone.nr_free_pages == 8192
    assert zone.nr_free[MAX_ORDER - 1] == 8192 >> (MAX_ORDER - 1)
    assert check_kernel(k) == []
