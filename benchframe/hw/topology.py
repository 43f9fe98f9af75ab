"""Topology of the simulated machine: NUMA nodes, their CPUs and zones, and the distance table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from benchframe import BenchframeError

MAX_ORDER: Final = 11  # orders 0..10, as in x86-64 kernels of the 5.x era (MAX_ORDER = 11)
PAGEBLOCK_ORDER: Final = 9  # pageblock_order on x86-64 with 2 MiB huge pages
PAGE_SIZE: Final = 4096


@dataclass(frozen=True)
class ZoneSpec:
    """A zone of one node: its name (``DMA32``, ``Normal``) and size in 4 KiB pages."""

    name: str
    pages: int


@dataclass(frozen=True)
class NodeSpec:
    cpus: int
    zones: tuple[ZoneSpec, ...]


@dataclass(frozen=True)
class Topology:
    """Nodes with CPUs and zones, plus the SLIT-style distance table (10 = local)."""

    nodes: tuple[NodeSpec, ...]
    distance: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if not self.nodes:
            raise BenchframeError("topology: needs at least one node")
        if len(self.distance) != len(self.nodes) or any(len(r) != len(self.nodes) for r in self.distance):
            raise BenchframeError("topology: distance table must be nodes x nodes")
        for i, node in enumerate(self.nodes):
            if node.cpus < 0:
                raise BenchframeError(f"topology: node {i} has a negative CPU count")
            for z in node.zones:
                if z.pages < (1 << (MAX_ORDER - 1)):
                    raise BenchframeError(
                        f"topology: zone {z.name} on node {i} has {z.pages} pages; "
                        f"at least {1 << (MAX_ORDER - 1)} (one MAX_ORDER block) are needed"
                    )
        if self.nr_cpus < 1:
            raise BenchframeError("topology: needs at least one CPU")

    @property
    def nr_cpus(self) -> int:
        return sum(n.cpus for n in self.nodes)

    @classmethod
    def uma(cls, cpus: int = 1, normal_pages: int = 262144, dma32_pages: int = 0) -> Topology:
        """One node; a Normal zone of ``normal_pages`` (default 1 GiB) and optionally a DMA32 zone."""
        zones = ((ZoneSpec("DMA32", dma32_pages),) if dma32_pages else ()) + (ZoneSpec("Normal", normal_pages),)
        return cls((NodeSpec(cpus, zones),), ((10,),))

    @classmethod
    def numa(cls, nodes: int = 2, cpus_per_node: int = 1, normal_pages: int = 262144,
             distance: int = 21) -> Topology:
        """``nodes`` nodes, each with ``cpus_per_node`` CPUs and a Normal zone; remote distance 21 (2 sockets)."""
        table = tuple(tuple(10 if i == j else distance for j in range(nodes)) for i in range(nodes))
        return cls(tuple(NodeSpec(cpus_per_node, (ZoneSpec("Normal", normal_pages),)) for _ in range(nodes)), table)
