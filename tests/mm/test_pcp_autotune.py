"""pcp->high auto-tuning (6.7+, modelled on 6.14): ``high`` between ``high_min`` and ``high_max``, raised by
``nr_pcp_alloc()`` and by ``nr_pcp_high()`` on the free path, lowered while the zone is below its high watermark;
``nr_pcp_free()`` drains the pages freed in a row. 6.0 keeps ``high`` fixed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from benchframe.hw.topology import Topology
from benchframe.kconfig import KERNELS, KernelConfig
from benchframe.mm.pcp_high import (
    MIN_PERCPU_PAGELIST_HIGH_FRACTION,
    PCP_BATCH_SCALE_MAX,
    nr_pcp_alloc,
    nr_pcp_free,
    nr_pcp_high,
)
from benchframe.mm.zone import WMARK_HIGH, WMARK_LOW, ZONE_BELOW_HIGH
from benchframe.plugins import get_registry
from benchframe.workloads.context import Harness

GFP_KERNEL = 0
PAGES = 262144  # 1 GiB: batch 63


@pytest.fixture(scope="module")
def registry():
    return get_registry()


def kernel(registry, version: str, pages: int = PAGES):
    rec, options = registry.design_spec("single")
    h = Harness(rec, options, registry.cost_model(None), KernelConfig.parse([], version),
                Topology.uma(cpus=1, normal_pages=pages), registry)
    return h, h.kernel, h.kernel.zones[-1], h.kernel.zones[-1].pcp[0], h.machine.cpus[0]


def pcp(count=0, high=1000, high_min=1000, high_max=30000, batch=63, free_count=0, alloc_factor=0):
    return SimpleNamespace(count=count, high=high, high_min=high_min, high_max=high_max, batch=batch,
                           free_count=free_count, alloc_factor=alloc_factor, flags=0)


def test_only_6_14_tunes_pcp_high():
    assert KERNELS["6.14"].pcp_high_autotune and "mm/page_alloc.c (6.7+)" in KERNELS["6.14"].source
    assert not any(KERNELS[v].pcp_high_autotune for v in ("5.13", "5.14", "6.0", "6.2"))


def test_6_14_high_spans_zone_highsize_of_the_low_watermark_to_an_eighth_of_the_zone(registry):
    _, _, zone, p, _ = kernel(registry, "6.14")
    assert p.high_min == zone.watermark[WMARK_LOW] == p.high  # one CPU; high starts at 0, clamped to high_min
    assert p.high_max == PAGES // MIN_PERCPU_PAGELIST_HIGH_FRACTION
    _, _, zone0, p0, _ = kernel(registry, "6.0")
    assert p0.high == p0.high_min == p0.high_max == zone0.watermark[WMARK_LOW]


def test_nr_pcp_alloc_raises_high_by_the_batch_up_to_high_max_on_6_14_only(registry):
    _, k, _, p, cpu = kernel(registry, "6.14")
    highs = [p.high]
    for _ in range(4000):
        assert k.alloc_pages(cpu, GFP_KERNEL) is not None
        if p.high != highs[-1]:
            highs.append(p.high)
    # each refill raised it by its batch (batch << alloc_factor before the factor grew), up to high_max
    assert highs[1] == highs[0] + p.batch and highs[2] == highs[1] + 2 * p.batch
    assert highs == sorted(highs) and len(highs) > 3 and highs[-1] <= p.high_max
    _, k0, _, p0, cpu0 = kernel(registry, "6.0")
    high = p0.high
    for _ in range(1000):
        k0.alloc_pages(cpu0, GFP_KERNEL)
    assert k0.stat.pcp_refills > 1 and p0.high == high
    capped = pcp(high=29990)
    nr_pcp_alloc(capped, SimpleNamespace(flags=0), 0)
    assert capped.high == capped.high_max


def test_a_free_at_high_drains_free_count_and_raises_high_to_hold_free_count_plus_a_batch(registry):
    _, k, zone, p, cpu = kernel(registry, "6.14")
    pages = [k.alloc_pages(cpu, GFP_KERNEL) for _ in range(3000)]
    k.free_pcppages_bulk(cpu, zone, p.count, p)  # an empty pcp with high back at high_min
    p.high, p.free_count, drains = p.high_min, 0, k.stat.pcp_drains
    for page in pages:
        before = (p.count, p.free_count, p.high)
        k.free_unref_page(cpu, page)
        if k.stat.pcp_drains > drains:
            break
    count, free_count, high = before
    assert count + 1 == high == p.high_min  # the drain came at high
    free_count += 1
    assert p.high == free_count + p.batch > high  # raised, for the next frees, to hold what was freed in a row
    assert p.count == count + 1 - min(max(free_count, p.batch), high - p.batch)  # nr_pcp_free() of free_count
    _, k0, zone0, p0, cpu0 = kernel(registry, "6.0")  # 6.0: high stays, the drain is 5.14's nr_pcp_free()
    held = [k0.alloc_pages(cpu0, GFP_KERNEL) for _ in range(3000)]
    k0.free_pcppages_bulk(cpu0, zone0, p0.count, p0)
    for page in held:
        k0.free_unref_page(cpu0, page)
    assert p0.high == p0.high_min and p0.count < p0.high


def test_nr_pcp_high_raises_to_free_count_plus_batch_only_when_the_count_reached_it():
    zone = SimpleNamespace(flags=0)
    p = pcp(count=999, free_count=1500)
    assert nr_pcp_high(p, zone, 63, False) == 1000 and p.high == 1000
    p = pcp(count=1000, free_count=1500)
    assert nr_pcp_high(p, zone, 63, False) == 1000 and p.high == 1563
    p = pcp(count=1000, free_count=1500, high_max=1200)
    nr_pcp_high(p, zone, 63, False)
    assert p.high == 1200
    fixed = pcp(count=1000, free_count=1500, high_max=1000)  # high_min == high_max: not tuned
    assert nr_pcp_high(fixed, zone, 63, False) == 1000 and fixed.high == 1000


def test_zone_below_high_lowers_pcp_high_and_drains_down_to_high_min():
    zone = SimpleNamespace(flags=ZONE_BELOW_HIGH)
    p = pcp(count=1500, high=5000, free_count=300)
    assert nr_pcp_high(p, zone, 63, False) == 1500  # drains now: the count is over high_min
    assert p.high == 5000 - 300
    p = pcp(count=10, high=1050, free_count=0)
    assert nr_pcp_high(p, zone, 63, False) == 1000 and p.high == 1000  # at least a batch off, not below high_min
    p = pcp(high=1000)
    nr_pcp_alloc(p, zone, 0)
    assert p.high == 1000  # no raise on a refill either


def test_get_page_from_freelist_flags_a_zone_below_its_high_watermark_and_the_pcp_shrinks(registry):
    _, k, zone, p, cpu = kernel(registry, "6.14", pages=65536)
    while zone.nr_free_pages > zone.watermark[WMARK_HIGH] + 1024:
        assert k.alloc_pages(cpu, GFP_KERNEL, 10) is not None  # straight from the buddy lists
    assert not zone.flags & ZONE_BELOW_HIGH
    pages = []
    while not zone.flags & ZONE_BELOW_HIGH:
        pages.append(k.alloc_pages(cpu, GFP_KERNEL))
    high = p.high
    assert high > p.high_min  # the refills before raised it
    k.free_unref_page(cpu, pages[0])
    assert p.high == max(high - max(p.free_count, p.batch), p.high_min) < high


def test_free_high_drains_and_lowers_high_after_high_order_frees_in_a_row():
    p = pcp(count=2500, high=3000, free_count=100)
    assert nr_pcp_high(p, SimpleNamespace(flags=0), 63, True) == 0
    assert p.high == max(3000 - (63 << PCP_BATCH_SCALE_MAX), 1000)
    assert nr_pcp_free(p, 63, 0, True) == min(2500, 63 << PCP_BATCH_SCALE_MAX)


def test_nr_pcp_free_drains_the_pages_freed_in_a_row_within_a_batch_and_high_minus_a_batch():
    assert nr_pcp_free(pcp(free_count=500), 63, 1000, False) == 500
    assert nr_pcp_free(pcp(free_count=10), 63, 1000, False) == 63
    assert nr_pcp_free(pcp(free_count=5000), 63, 1000, False) == 1000 - 63
    assert nr_pcp_free(pcp(free_count=500), 63, 40, False) == 1  # high below a batch: a boot pageset
