"""Per-CPU page lists (``struct per_cpu_pages``) and the functions that move pages between them and the buddy
allocator: ``rmqueue_bulk()``, ``free_pcppages_bulk()``, ``__rmqueue_pcplist()``, ``free_unref_page_commit()``.

``PcpOps`` is the *building block* a design swaps: how a pcp list is protected (``lock``/``unlock``), how a page
is taken off it and put back. The default is the 5.13 kernel's: IRQs disabled with ``local_irq_save``, lists
are ``list_head``s. A design overrides only what its kernel patch changed.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from benchframe.hw.topology import PAGEBLOCK_ORDER
from benchframe.mm.page import MIGRATE_PCPTYPES, PAGE_ALLOCATED, PAGE_PCP, STATE_NAMES
from benchframe.mm.symbols import ksym

if TYPE_CHECKING:
    from collections.abc import Iterator

    from benchframe.hw.cpu import CPU
    from benchframe.mm.page_alloc import Kernel
    from benchframe.mm.zone import Zone


class TailList(Protocol):
    """What ``rmqueue_bulk()`` fills: a list it can add pages to the tail of."""

    def add_tail(self, page: int) -> None: ...


#: include/linux/mmzone.h since 44042b449872 (kernel-facts §3.4): orders up to PAGE_ALLOC_COSTLY_ORDER get a
#: list per migrate type, THP (pageblock_order) one list of its own
PAGE_ALLOC_COSTLY_ORDER = 3
NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1)
NR_PCP_LISTS = NR_LOWORDER_PCP_LISTS + 1


def pcp_allowed_order(order: int) -> bool:
    """``pcp_allowed_order()`` (44042b449872): cheap orders and THP may live on the pcp lists."""
    return order <= PAGE_ALLOC_COSTLY_ORDER or order == PAGEBLOCK_ORDER


def order_to_pindex(mt: int, order: int) -> int:
    """``order_to_pindex()``: order-0 lists keep the 5.13 index (the migrate type); THP has the last list."""
    if order > PAGE_ALLOC_COSTLY_ORDER:
        return NR_LOWORDER_PCP_LISTS
    return MIGRATE_PCPTYPES * order + mt


def pindex_to_order(pindex: int) -> int:
    """``pindex_to_order()``: the order of the blocks on pcp list ``pindex``."""
    return PAGEBLOCK_ORDER if pindex == NR_LOWORDER_PCP_LISTS else pindex // MIGRATE_PCPTYPES


def zone_batchsize(managed_pages: int, page_size: int = 4096, cap_bytes: int = 1024 * 1024) -> int:
    """``zone_batchsize()``: about a quarter of a ``cap_bytes``-sized chunk of the zone (1 MiB in 5.13, 512 KiB
    in 4.10), kept below 2^n - 1 to avoid cache aliasing. 63 for zones of 1 GiB or more with 4 KiB pages on
    5.13, 31 on 4.10 (kernel-facts §1.2, §2.4)."""
    batch = managed_pages // 1024
    if batch * page_size > cap_bytes:
        batch = cap_bytes // page_size
    batch //= 4
    if batch < 1:
        batch = 1
    b = batch + batch // 2
    return (1 << (b.bit_length() - 1)) - 1  # rounddown_pow_of_two(b) - 1


def pcp_high(batch: int) -> int:
    """``pageset_set_batch()`` (5.12/5.13 default): ``high = 6 * zone_batchsize()`` (the batch itself is
    clamped to at least 1, so a zone too small for a batch frees every page straight back)."""
    return 6 * batch


class PcpList:
    """A ``struct list_head`` of pages on a pcp (left end = head). Operations are *not* atomic: the model
    charges their cost between reading the head and writing the links, so an interrupt that touches the same
    list in between corrupts it as it would in the kernel; the corruption is recorded as a violation."""

    __slots__ = ("q", "k", "name")

    def __init__(self, k: Kernel, name: str):
        self.q: deque[int] = deque()
        self.k = k
        self.name = name

    def __len__(self) -> int:
        return len(self.q)

    def __iter__(self) -> Iterator[int]:
        return iter(self.q)

    def del_first(self, cpu: CPU, cost: int) -> int:
        """``page = list_first_entry(list); list_del(&page->lru)``; ``cost`` is spent between the two, with the
        struct pages list_del() writes: the page and the next one (``next->prev``)."""
        q = self.q
        page = q[0]
        cache = self.k.cache
        cpu.charge(cost + (cache.touch2(cpu, page, q[1]) if len(q) > 1 else cache.touch(cpu, page)))
        self.unlink(cpu, page)
        return page

    def unlink(self, cpu: CPU, page: int) -> None:
        """The write half of ``del_first``: ``page`` was first when the cost began; what ran meanwhile (an
        interrupt on this CPU) decides what the ``list_del()`` does."""
        q = self.q
        if q and q[0] == page:
            q.popleft()
        elif page in q:
            q.remove(page)  # entries were added in front meanwhile: list_del of a linked entry is fine
        else:
            self.k.violation(f"list_del corruption: pfn {page} was already unlinked from {self.name} "
                             f"(CPU{cpu.id}, {cpu.context})")

    def add_head(self, cpu: CPU, page: int, cost: int) -> None:
        """``list_add(&page->lru, list)``; reads ``head->next``, spends ``cost`` (with the old first page's
        ``lru.prev`` it writes; the page's own line the caller has just touched), then writes the links."""
        q = self.q
        first = q[0] if q else None
        cpu.charge(cost + (self.k.cache.touch(cpu, first) if first is not None else 0))
        self.link(cpu, page, first)

    def link(self, cpu: CPU, page: int, first: int | None) -> None:
        """The write half of ``add_head``: ``first`` was the head's ``next`` when the cost began."""
        q = self.q
        now = q[0] if q else None
        if now != first:
            if first is None or first in q:
                # Entries added in between are unlinked by our stale write to head->next: lost.
                while q and q[0] != first:
                    lost = q.popleft()
                    self.k.violation(f"list_add corruption: pfn {lost} lost from {self.name} "
                                     f"(CPU{cpu.id}, {cpu.context})")
            else:
                # Our stale next was taken off the list meanwhile: we link it back in while it is in use.
                q.appendleft(first)
                self.k.violation(f"list_add corruption: pfn {first} relinked into {self.name} after it was "
                                 f"handed out (CPU{cpu.id}, {cpu.context})")
        q.appendleft(page)

    def add_tail(self, page: int) -> None:
        self.q.append(page)

    def del_last(self) -> int:
        return self.q.pop()


class PerCpuPages:
    """``struct per_cpu_pages``: ``count``, ``high``, ``batch`` and one list per pcp migrate type; from 6.7 the
    bounds ``high_min``/``high_max`` that auto-tuning moves ``high`` between (equal where it is not tuned),
    ``free_count`` and ``flags``."""

    __slots__ = ("cpu", "zone", "count", "high", "batch", "lists", "free_factor", "alloc_factor", "lock",
                 "high_min", "high_max", "free_count", "flags")

    def __init__(self, cpu: int, zone: Zone, batch: int, high: int, lists: list[Any], high_max: int | None = None):
        self.cpu = cpu
        self.zone = zone
        self.count = 0
        self.batch = batch
        # 6.7+ starts pcp->high at 0 and clamps it into [high_min, high_max] at first use: high_min, as here
        self.high = high
        self.high_min = high
        self.high_max = high if high_max is None else high_max
        self.lists = lists  # one list_class of the design's PcpOps per pcp migrate type (PcpList, Llist, ...)
        self.free_factor = 0  # 5.14: doubles the drain batch on consecutive frees (nr_pcp_free())
        self.alloc_factor = 0  # ~6.7: doubles the refill batch on consecutive refills (nr_pcp_alloc())
        self.free_count = 0  # 6.7+: pages freed since the last allocations halved it (nr_pcp_free(), nr_pcp_high())
        self.flags = 0  # 6.7+: PCPF_* (benchframe.mm.pcp_high)
        self.lock: Any = None  # 6.0+: the pcp's own spinlock_t (4b23a68f9536), set by the design's PcpOps


class PcpOps:
    """How the per-CPU lists are protected and used: the 5.13 kernel (``local_irq_save``, ``list_head``).

    Subclass and override to model another protection scheme (``local_lock``, lock-less ``llist``, the 6.0
    pcp spinlock). ``lock`` returns a token for ``unlock``, or ``None`` when the lock could not be taken (a
    trylock design), in which case the caller falls back to the buddy path.
    """

    name = "irqsave"
    list_class: type[Any] = PcpList  # the list a pcp keeps per migrate type
    #: 6.0+ rmqueue(): when the pcp yields nothing, try the buddy lists directly (5.13 returns NULL)
    fallthrough_to_buddy = False

    def __init__(self, k: Kernel):
        self.k = k
        prices = k.prices
        self.c_take = prices.take  # __rmqueue_pcplist() taking one page
        self.c_commit = prices.free_commit  # free_unref_page_commit()
        self.c_stats = prices.stats  # PGALLOC + zone_statistics() for one update (5.13)
        self.s_stats = prices.stats_site  # the NUMA counters' two __inc_numa_state() calls of their own

    @property
    def nr_lists(self) -> int:
        """The lists of a ``per_cpu_pages``: one per migrate type, per order and THP once high orders live on
        the pcp (44042b449872)."""
        return NR_PCP_LISTS if self.k.config.version.pcp_high_order else MIGRATE_PCPTYPES

    def init_pcp(self, pcp: PerCpuPages) -> None:
        """Set up what the protection scheme keeps in ``struct per_cpu_pages`` (nothing in 5.13)."""

    def new_list(self, cpu: int, zone: Zone, mt: int) -> Any:
        return self.list_class(self.k, f"pcp[cpu{cpu}][{zone.name}][mt{mt}]")

    def pcp_high(self, zone: Zone, batch: int, local_cpus: int) -> int:
        """``pcp->high`` of a zone's pagesets: 5.13's ``pageset_set_batch()``, six batches (``batch`` is
        ``zone_batchsize()`` before clamping)."""
        return pcp_high(batch)

    def pcp_high_max(self, zone: Zone, batch: int, local_cpus: int) -> int:
        """The most ``pcp->high`` may grow to (6.7's ``high_max``): ``pcp_high()``, where it is not tuned."""
        return self.pcp_high(zone, batch, local_cpus)

    def rmqueue_pcplist_prepare(self, pcp: PerCpuPages) -> None:
        """What ``rmqueue_pcplist()`` does to the pcp before taking a page (nothing in 5.13)."""

    # -- protection ----------------------------------------------------------------------------------
    def lock(self, cpu: CPU, pcp: PerCpuPages | None = None) -> Any:
        """5.13: ``local_irq_save(flags)``; the token ``unlock`` gets back (``None``: not taken)."""
        return cpu.local_irq_save()

    def unlock(self, cpu: CPU, token: Any, pcp: PerCpuPages | None = None) -> None:
        cpu.local_irq_restore(token)

    # -- taking and returning pages ------------------------------------------------------------------
    @ksym("__rmqueue_pcplist")
    def rmqueue_pcplist(self, cpu: CPU, zone: Zone, mt: int, alloc_flags: int, pcp: PerCpuPages) -> int | None:
        """``__rmqueue_pcplist()`` (5.13): refill an empty list with ``pcp->batch`` pages from the buddy
        allocator, then take the first page."""
        k = self.k
        lst = pcp.lists[mt]
        if not lst:
            got = k.rmqueue_bulk(cpu, zone, 0, pcp.batch, lst, mt, alloc_flags)
            pcp.count += got  # C: the call, then one add to pcp->count (not a load held across the call)
            if not lst:
                return None
        page: int = lst.del_first(cpu, self.c_take)
        pcp.count -= 1
        state = k.mem.state
        if state[page] != PAGE_PCP:  # check_new_pcp(): only a corrupted list gets here
            handed_out_twice(k, cpu, page, lst.name)
        state[page] = PAGE_ALLOCATED
        return page

    def refill_batch(self, zone: Zone, pcp: PerCpuPages, order: int) -> int:
        """How many blocks an empty list is refilled with: ``pcp->batch``, scaled down by the order
        (``max(batch >> order, 2)``, 44042b449872's ``__rmqueue_pcplist()``)."""
        batch = pcp.batch
        if order and batch > 1:
            batch = max(batch >> order, 2)
        return batch

    @ksym("__rmqueue_pcplist")
    def rmqueue_pcplist_order(self, cpu: CPU, zone: Zone, order: int, mt: int, alloc_flags: int,
                              pcp: PerCpuPages) -> int | None:
        """``__rmqueue_pcplist()`` of a block of ``order`` > 0 (44042b449872): the list of that order and
        migrate type, refilled with ``refill_batch()`` blocks; ``pcp->count`` counts pages."""
        k = self.k
        lst = pcp.lists[order_to_pindex(mt, order)]
        if not lst:
            got = k.rmqueue_bulk(cpu, zone, order, self.refill_batch(zone, pcp, order), lst, mt, alloc_flags)
            pcp.count += got << order
            if not lst:
                return None
        page: int = lst.del_first(cpu, self.c_take)
        pcp.count -= 1 << order
        state = k.mem.state
        if state[page] != PAGE_PCP:
            k.violation(f"page handed out twice: pfn {page} taken from {lst.name} while "
                        f"{STATE_NAMES[state[page]]} (CPU{cpu.id}, {cpu.context})")
        state[page] = PAGE_ALLOCATED
        return page

    def free_high(self, pcp: PerCpuPages) -> int:
        """How many pages a free that reached ``pcp->high`` drains (5.13: one batch)."""
        return pcp.batch

    @ksym("free_unref_page_commit")
    def free_commit(self, cpu: CPU, zone: Zone, page: int, mt: int) -> None:
        """``free_unref_page_commit()`` (5.13, without the adaptive ``free_factor``): add the page to this CPU's
        list and drain ``batch`` pages to the buddy allocator when ``count >= high``."""
        k = self.k
        pcp = zone.pcp[cpu.id]
        k.mem.state[page] = PAGE_PCP
        k.mem.free_mt[page] = mt  # set_pcppage_migratetype(): what free_pcppages_bulk() uses
        pcp.lists[mt].add_head(cpu, page, self.c_commit)
        pcp.count += 1
        if pcp.count >= pcp.high:
            k.free_pcppages_bulk(cpu, zone, pcp.batch, pcp)

    @ksym("free_unref_page_commit")
    def free_commit_order(self, cpu: CPU, zone: Zone, page: int, mt: int, order: int) -> None:
        """``free_unref_page_commit()`` of a block of ``order`` (44042b449872): on its order's list, counting
        ``1 << order`` pages; at ``high`` a drain of ``free_high()`` pages."""
        k = self.k
        pcp = zone.pcp[cpu.id]
        k.mem.state[page] = PAGE_PCP
        k.mem.free_mt[page] = mt
        pcp.lists[order_to_pindex(mt, order)].add_head(cpu, page, self.c_commit)
        pcp.count += 1 << order
        self.commit_high(cpu, zone, pcp, order)

    def commit_high(self, cpu: CPU, zone: Zone, pcp: PerCpuPages, order: int) -> None:
        """The end of ``free_unref_page_commit()`` once the block is on its list: at ``high`` a drain of
        ``free_high()`` pages."""
        if pcp.count >= pcp.high:
            self.k.free_pcppages_bulk(cpu, zone, self.free_high(pcp), pcp)


def handed_out_twice(k: Kernel, cpu: CPU, page: int, where: str) -> None:
    """``check_new_pcp()`` failed: ``page`` came off the list ``where`` while not free on a pcp."""
    k.violation(f"page handed out twice: pfn {page} taken from {where} while "
                f"{STATE_NAMES[k.mem.state[page]]} (CPU{cpu.id}, {cpu.context})")


__all__ = ["PcpOps", "PcpList", "PerCpuPages", "zone_batchsize", "pcp_high", "MIGRATE_PCPTYPES", "NR_PCP_LISTS",
           "PAGE_ALLOC_COSTLY_ORDER", "order_to_pindex", "pindex_to_order", "pcp_allowed_order"]
