"""``pcp->high`` and the pcp batches of the 6.7+ kernels: Huang Ying's "PCP high auto-tuning" series (6.7), in
mm/page_alloc.c (6.7+), derived from the code -- ``zone_highsize()``, ``nr_pcp_alloc()``, ``nr_pcp_high()``,
``nr_pcp_free()`` -- as pure functions of ``struct per_cpu_pages`` and ``struct zone``; the pcp ops
(``benchframe.mm.pcp_lock``) call them where the kernel does.

``pcp->high`` moves between ``high_min`` (``zone_highsize()`` of the zone's low watermark, 5.14's ``high``) and
``high_max`` (``zone_managed_pages / MIN_PERCPU_PAGELIST_HIGH_FRACTION``, split over the zone's CPUs): a refill
raises it by the refill's batch, a free at ``high`` raises it to hold the pages freed in a row (``free_count``);
it shrinks while the zone is below its high watermark (``ZONE_BELOW_HIGH``) and when high-order pages are freed
in a row (``free_high``). Where ``high_min == high_max`` (no tuning) the functions keep ``high`` as it is.

Not modelled: ``decay_pcp_high()``, run from vmstat's per-second refresh (a replay's simulated time stays far
below a second), the ``ZONE_RECLAIM_ACTIVE`` branch of ``nr_pcp_high()`` (the model has no reclaim), and
``PCPF_FREE_HIGH_BATCH``, which the kernel sets from the CPU's cache size (left unset).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.mm.zone import WMARK_LOW, ZONE_BELOW_HIGH

if TYPE_CHECKING:
    from benchframe.mm.pcp import PerCpuPages
    from benchframe.mm.zone import Zone

#: CONFIG_PCP_BATCH_SCALE_MAX's default: the cap of ``pcp->alloc_factor`` (mm/Kconfig, ~6.7; kernel-facts §1.2
#: names the cap, the default 5 is read from the Kconfig entry)
PCP_BATCH_SCALE_MAX = 5
#: MIN_PERCPU_PAGELIST_HIGH_FRACTION (mm/page_alloc.c, 6.7+): high_max is this fraction of the zone
MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8
#: ``per_cpu_pages.flags`` (6.7+): the previous free was of a high order (free_high detection); batch the
#: high-order drain (set from the CPU's cache size, which the model leaves unset)
PCPF_PREV_FREE_HIGH_ORDER = 1 << 0
PCPF_FREE_HIGH_BATCH = 1 << 1


def clamp(val: int, lo: int, hi: int) -> int:
    """The kernel's ``clamp()``: ``min(max(val, lo), hi)`` (``hi`` wins when the bounds cross)."""
    return min(max(val, lo), hi)


def zone_highsize(zone: Zone, batch: int, nr_split_cpus: int, high_fraction: int = 0) -> int:
    """``zone_highsize()`` (5.14; the fraction from 6.7): the zone's low watermark (``high_fraction`` 0) or
    ``zone_managed_pages / high_fraction``, split over the zone's local CPUs, at least ``batch << 2`` (``batch``
    is ``zone_batchsize()``, at least 1)."""
    total = zone.managed_pages // high_fraction if high_fraction else zone.watermark[WMARK_LOW]
    return max(total // max(1, nr_split_cpus), max(1, batch) << 2)


def nr_pcp_alloc(pcp: PerCpuPages, zone: Zone, order: int) -> int:
    """``nr_pcp_alloc()``: the blocks a refill of an empty list takes. ``pcp->high`` is clamped into
    [high_min, high_max] and, where it is tuned and the zone is not below its high watermark, raised by the batch
    up to high_max; an order-0 refill is ``batch << alloc_factor`` capped by ``high - count - batch`` (at least
    one batch), the factor growing on each refill that fits up to ``PCP_BATCH_SCALE_MAX``; then
    ``max(batch >> order, 2)``."""
    base = pcp.batch
    high = pcp.high = clamp(pcp.high, pcp.high_min, pcp.high_max)
    if high < base:  # PCP disabled, or a boot pageset
        return 1
    batch = base if order else base << pcp.alloc_factor
    if pcp.high_min != pcp.high_max and not zone.flags & ZONE_BELOW_HIGH:
        high = pcp.high = min(high + batch, pcp.high_max)  # a larger high avoids the next refill
    if not order:
        most = max(high - pcp.count - base, base)
        if batch <= most and pcp.alloc_factor < PCP_BATCH_SCALE_MAX:
            pcp.alloc_factor += 1
        batch = min(batch, most)
    if batch > 1:
        batch = max(batch >> order, 2)
    return batch


def nr_pcp_high(pcp: PerCpuPages, zone: Zone, batch: int, free_high: bool) -> int:
    """``nr_pcp_high()``: the count a free drains at, with ``pcp->high`` tuned: lowered by
    ``batch << PCP_BATCH_SCALE_MAX`` on a free_high (which drains at once), by ``free_count`` while the zone is
    below its high watermark (draining down to high_min), raised to hold ``free_count + batch`` when the count
    reached it (this free still drains at the old high)."""
    high = pcp.high = clamp(pcp.high, pcp.high_min, pcp.high_max)
    if not high:
        return 0
    if free_high:
        pcp.high = max(high - (batch << PCP_BATCH_SCALE_MAX), pcp.high_min)
        return 0
    if pcp.high_min == pcp.high_max:
        return high
    if zone.flags & ZONE_BELOW_HIGH:
        pcp.high = max(high - max(pcp.free_count, batch), pcp.high_min)
        high = max(pcp.count, pcp.high_min)
    elif pcp.count >= high:
        need_high = pcp.free_count + batch
        if pcp.high < need_high:  # pcp->high should be large enough to hold batch freed pages
            pcp.high = clamp(need_high, pcp.high_min, pcp.high_max)
    return high


def nr_pcp_free(pcp: PerCpuPages, batch: int, high: int, free_high: bool) -> int:
    """``nr_pcp_free()``: a free_high drains up to ``batch << PCP_BATCH_SCALE_MAX`` pages; otherwise the pages
    freed in a row (``free_count``), at least a batch and leaving at least a batch below ``high``."""
    if free_high:
        return min(pcp.count, batch << PCP_BATCH_SCALE_MAX)
    if high < batch:
        return 1
    return clamp(pcp.free_count, batch, high - batch)


__all__ = ["MIN_PERCPU_PAGELIST_HIGH_FRACTION", "PCPF_FREE_HIGH_BATCH", "PCPF_PREV_FREE_HIGH_ORDER",
           "PCP_BATCH_SCALE_MAX", "clamp", "nr_pcp_alloc", "nr_pcp_free", "nr_pcp_high", "zone_highsize"]
