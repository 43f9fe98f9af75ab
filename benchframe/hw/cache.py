"""Cache state of the lines the allocator touches: what a touch costs beyond an L1 hit.

Body work is priced as L1 hits (``page_access``, ``data_access``); this model adds what a line that is *not*
in this CPU's L1 costs. Two kinds of lines:

* **struct page lines** (one 64-byte line per pfn). The allocator writes a struct page whenever it touches one
  (list links, flags, refcount), so a touch moves the line into the touching CPU's caches, modified. Each CPU
  counts the lines it touches; the distance since a line's last touch by the same CPU says where it still is:
  within ``l1_lines`` an L1 hit (nothing extra), within ``l2_lines`` an L2 hit, within ``l3_lines`` an L3
  hit, beyond that DRAM (local or remote by the page's node). A line another CPU touched last comes from that
  CPU's cache (``cache_transfer``) while it is still recent there, else from L3 or DRAM. A line never touched
  since boot is in DRAM.
* **shared lines** (a zone's ``vm_stat[NR_FREE_PAGES]``, read by every watermark check, written when a refill or
  drain folds its count): a read after another CPU's write costs a transfer; reads by several CPUs share.

The recency counters approximate LRU stack distance: a CPU's counter advances once per line that comes into its
L1 (a touch that is not an L1 hit), and an L1 hit moves the line to the front without advancing it -- so the
distance of a line is about the number of other lines that came into L1 since its last touch. Simplified
further: L3 capacity is compared against one CPU's counter (not the sum of all
CPUs' traffic), and hardware prefetching is not modelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mypy_extensions import mypyc_attr

if TYPE_CHECKING:
    from benchframe.hw.costs import CostModel
    from benchframe.hw.cpu import CPU

NO_CPU: Final = -1


#: CPUs the cache model can track (a line's owner is a byte; two values are reserved)
MAX_CPUS = 254


@mypyc_attr(allow_interpreted_subclasses=True)  # benchframe.hw.perf subclasses it
class CacheModel:
    """The struct page lines of ``nr_pages`` pages (``node_of_page[pfn]``: the node their memory is on) and the
    shared lines registered later, as seen by ``nr_cpus`` CPUs (``cpu_node[cpu]``).

    A struct page line's state is one int: ``stamp << 8 | (cpu + 1)`` (0: never touched), the CPU that touched
    it last and that CPU's counter then -- one list lookup on the hot path."""

    __slots__ = ("line", "node_of_page", "seq", "cpu_node", "l1", "l2", "l3", "x_l2", "x_l3", "x_transfer",
                 "x_dram", "x_remote", "fill_buffers", "shared_version", "shared_writer", "shared_seen",
                 "misses")

    def __init__(self, costs: CostModel, nr_pages: int, node_of_page: bytearray, cpu_node: list[int]):
        if len(cpu_node) > MAX_CPUS:
            raise ValueError(f"the cache model tracks at most {MAX_CPUS} CPUs")
        self.line = [0] * nr_pages
        self.node_of_page = node_of_page
        self.cpu_node = cpu_node
        self.seq = [0] * len(cpu_node)
        self.l1, self.l2, self.l3 = costs.l1_lines, costs.l2_lines, costs.l3_lines
        hit = costs.l1_hit
        self.x_l2 = max(0, costs.l2_hit - hit)
        self.x_l3 = max(0, costs.l3_hit - hit)
        self.x_transfer = max(0, costs.cache_transfer - hit)
        self.x_dram = max(0, costs.dram_local - hit)
        self.x_remote = max(0, costs.dram_remote - hit)
        self.fill_buffers = max(1, costs.fill_buffers)
        self.shared_version: list[int] = []
        self.shared_writer: list[int] = []
        self.shared_seen: list[list[int]] = [[] for _ in cpu_node]  # per CPU: each shared line's version when read

    # -- struct page lines ---------------------------------------------------------------------------------
    def touch(self, cpu: CPU, pfn: int) -> int:
        """``cpu`` touches (and writes) the struct page of ``pfn``: the cycles beyond an L1 hit."""
        c = cpu.id
        seq = self.seq[c]
        v = self.line[pfn]
        owner = (v & 255) - 1
        if owner == c:
            distance = seq - (v >> 8)
            if distance < self.l1:
                self.line[pfn] = seq << 8 | (c + 1)
                return 0  # an L1 hit: to the front, the counter stays
            if distance < self.l2:
                extra = self.x_l2
            elif distance < self.l3:
                extra = self.x_l3
            else:
                extra = self._dram(c, pfn)
        elif owner == NO_CPU:
            extra = self._dram(c, pfn)
        else:
            distance = self.seq[owner] - (v >> 8)
            extra = self.x_transfer if distance < self.l2 else (self.x_l3 if distance < self.l3 else
                                                                  self._dram(c, pfn))
        seq += 1
        self.seq[c] = seq
        self.line[pfn] = seq << 8 | (c + 1)
        return extra

    def touch2(self, cpu: CPU, pfn: int, other: int) -> int:
        """The two lines one list operation writes (a page and its neighbour), in one call: ``touch()`` of
        each, its fast path (an L1 hit) inlined -- the hottest call of the model."""
        line = self.line
        c1 = cpu.id + 1
        seq = self.seq[c1 - 1]
        l1 = self.l1
        v = line[pfn]
        if v & 255 == c1 and seq - (v >> 8) < l1:
            line[pfn] = seq << 8 | c1
            extra = 0
        else:
            extra = CacheModel.touch(self, cpu, pfn)
            seq = self.seq[c1 - 1]
        v = line[other]
        if v & 255 == c1 and seq - (v >> 8) < l1:
            line[other] = seq << 8 | c1
            return extra
        return extra + CacheModel.touch(self, cpu, other)

    def prefetch(self, cpu: CPU, pfn: int) -> int:
        """``prefetch()`` of a struct page line: its miss overlaps with the work that follows, so only a
        ``fill_buffers``-th of it is paid."""
        return CacheModel.touch(self, cpu, pfn) // self.fill_buffers

    def _dram(self, c: int, pfn: int) -> int:
        return self.x_dram if self.node_of_page[pfn] == self.cpu_node[c] else self.x_remote

    def walk(self, cpu: CPU, pfns: list[int], dependent: bool) -> int:
        """Touch each page of a caller's list (``dependent``: each address comes from the previous line, so the
        misses add up) or array (independent addresses: up to ``fill_buffers`` misses overlap)."""
        line = self.line
        c1 = cpu.id + 1
        l1 = self.l1
        touch = CacheModel.touch
        total = misses = 0
        for pfn in pfns:
            v = line[pfn]
            seq = self.seq[c1 - 1]
            if v & 255 == c1 and seq - (v >> 8) < l1:  # touch()'s fast path, inlined: an L1 hit
                line[pfn] = seq << 8 | c1
                continue
            extra = touch(self, cpu, pfn)
            if extra:
                total += extra
                misses += 1
        if dependent or not total:
            return total
        return -(-total // min(misses, self.fill_buffers))

    # -- shared lines --------------------------------------------------------------------------------------
    def shared_line(self) -> int:
        """A new shared line (e.g. a zone's NR_FREE_PAGES counter); its id."""
        self.shared_version.append(0)
        self.shared_writer.append(NO_CPU)
        for seen in self.shared_seen:
            seen.append(-1)
        return len(self.shared_version) - 1

    def read_shared(self, cpu: CPU, line: int) -> int:
        """``cpu`` reads a shared line: a transfer if another CPU wrote it since this CPU last read it."""
        seen = self.shared_seen[cpu.id]
        version = self.shared_version[line]
        if seen[line] == version:
            return 0
        seen[line] = version
        writer = self.shared_writer[line]
        return self.x_transfer if writer not in (NO_CPU, cpu.id) else 0

    def write_shared(self, cpu: CPU, line: int) -> int:
        """``cpu`` writes a shared line: a transfer if another CPU wrote it since this CPU last had it."""
        extra = CacheModel.read_shared(self, cpu, line)
        self.shared_version[line] += 1
        self.shared_writer[line] = cpu.id
        self.shared_seen[cpu.id][line] = self.shared_version[line]
        return extra
