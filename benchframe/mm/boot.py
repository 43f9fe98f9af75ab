"""Boot: the memory map, zones, watermarks, zonelists and per-CPU pagesets of a freshly booted kernel, in the
order ``mm_init()`` / ``build_all_zonelists()`` / ``setup_per_cpu_pageset()`` set them up (5.13)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from benchframe.hw.locks import SpinLock
from benchframe.hw.topology import MAX_ORDER, Topology
from benchframe.mm.page import MemMap
from benchframe.mm.pcp import PerCpuPages, zone_batchsize
from benchframe.mm.zone import Zone, min_free_kbytes

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.hw.machine import Machine
    from benchframe.mm.pcp import PcpOps
    from benchframe.mm.prices import Prices

SECTION_SHIFT: Final = MAX_ORDER - 1  # zones are aligned to MAX_ORDER blocks; page_zone() looks up by block


class MemoryLayout:
    """``mem_map`` and the zones laid out in pfn order, each starting on a MAX_ORDER boundary, every page free
    (``free_area_init()`` + ``memblock_free_all()``); the machine's cache model gets the struct page lines."""

    def __init__(self, machine: Machine, prices: Prices):
        topology = machine.topology
        total = 0
        layout = []
        for nid, node in enumerate(topology.nodes):
            for zidx, spec in enumerate(node.zones):
                layout.append((nid, zidx, spec, total))
                total += -(-spec.pages // (1 << SECTION_SHIFT)) << SECTION_SHIFT
        self.mem = MemMap(total)
        node_of_page = bytearray(total)
        for nid, _zidx, spec, start in layout:
            node_of_page[start:start + spec.pages] = bytes([nid]) * spec.pages
        self.cache = cache = machine.attach_memory(total, node_of_page)
        self.zones: list[Zone] = []
        self.node_zones: list[list[Zone]] = [[] for _ in topology.nodes]
        self.zone_of_section = bytearray(total >> SECTION_SHIFT)
        for nid, zidx, spec, start in layout:
            name = spec.name if len(topology.nodes) == 1 else f"{spec.name}@node{nid}"
            lock = SpinLock(f"zone->lock[{name}]", machine)
            zone = machine.instrument(Zone)(name, nid, zidx, start, spec.pages, self.mem, lock, cache,
                                            prices.expand_step, prices.merge_step, prices.empty_order)
            for sec in range(start >> SECTION_SHIFT, -(-(start + spec.pages) // (1 << SECTION_SHIFT))):
                self.zone_of_section[sec] = len(self.zones)
            zone.init_free()
            self.zones.append(zone)
            self.node_zones[nid].append(zone)


def setup_per_zone_wmarks(zones: list[Zone]) -> None:
    """``setup_per_zone_wmarks()``: split ``min_free_kbytes`` over zones by size."""
    lowmem = sum(z.managed_pages for z in zones)
    min_pages = min_free_kbytes(lowmem * 4) // 4
    for zone in zones:
        zone.setup_watermarks(min_pages * zone.managed_pages // lowmem)


def build_zonelists(topology: Topology, node_zones: list[list[Zone]]) -> list[list[Zone]]:
    """``build_zonelists()``: per node, its own zones highest first, then the other nodes' by distance."""
    zonelists = []
    nodes = range(len(topology.nodes))
    for nid in nodes:
        distance = topology.distance[nid]
        order = sorted(nodes, key=lambda n: (distance[n], n))
        zonelists.append([z for n in order for z in reversed(node_zones[n])])
    return zonelists


def setup_zone_pagesets(zones: list[Zone], cpus: list[CPU], pcp_ops: PcpOps, batch_cap_bytes: int) -> None:
    """``setup_zone_pageset()``: a ``per_cpu_pages`` per zone and CPU, batch and high from the zone size (6.7+:
    ``zone_set_pageset_high_and_batch()``'s high_min and high_max)."""
    for zone in zones:
        raw = zone_batchsize(zone.managed_pages, cap_bytes=batch_cap_bytes)  # 0 for tiny zones: clamped
        batch = max(1, raw)
        local = sum(1 for cpu in cpus if cpu.node == zone.node)
        high = pcp_ops.pcp_high(zone, raw, local)
        high_max = pcp_ops.pcp_high_max(zone, raw, local)  # 6.7+: high_min is ``high``; else the same
        zone.pcp = [PerCpuPages(cpu.id, zone, batch, high,
                                [pcp_ops.new_list(cpu.id, zone, mt) for mt in range(pcp_ops.nr_lists)], high_max)
                    for cpu in cpus]
        for pcp in zone.pcp:
            pcp_ops.init_pcp(pcp)
