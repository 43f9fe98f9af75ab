"""``llist``: Mel Gorman's idea from the 2021 thread — per-CPU page lists as lock-less ``llist``s.

"it's not clear to me why per-cpu lists need to be locked at all because potentially it could use a lock-free
llist with some struct page overloading ... splicing a batch of free pages with llist would be unsafe so batch
free might exchange IRQ disabling overhead with multiple atomics." Never implemented in the kernel; this is the
design as described:

* each pcp list is an ``llist_head``; pages are linked through an 8-byte ``llist_node`` overlaid on struct page;
* allocation never disables IRQs: ``llist_del_first()`` (a cmpxchg loop) by the owning CPU, the single
  consumer; ``pcp->count`` is an atomic;
* frees go to the list of the CPU that allocated the page, from any CPU, with ``llist_add()`` (producers are
  safe concurrently); a batch free is one ``llist_add()`` per page (option ``free=per_page``), or — the unsafe
  variant — a batch spliced onto the head with a non-atomic tail update (``free=splice``);
* refill: ``rmqueue_bulk()`` under ``zone->lock`` (irqsave: IRQs are on here) then one ``llist_add_batch()``;
  drain when ``count >= high``: ``llist_del_all()`` (xchg), ``batch`` pages to the buddy lists, the rest back;
* **NMI**: allocation from NMI context is refused (returns 0 / NULL): an NMI consumer would be a second
  ``llist_del_first`` consumer, which llist.h forbids. Frees (``llist_add``) are NMI-safe on x86.

An interrupt handler that allocates on the same CPU is a second consumer as well; nothing here prevents it —
``benchframe explore --design llist --context irq`` shows what that does.
"""

from __future__ import annotations

from benchframe import hookimpl
from benchframe.api import LIST, BulkAllocator, Design, Option
from benchframe.mm.llist import NULL, Llist, PrivateList
from benchframe.mm.page import PAGE_ALLOCATED, PAGE_PCP, STATE_NAMES
from benchframe.mm.pcp import PcpOps


class LlistPcp(PcpOps):
    """Per-CPU lists as llists: no lock, atomics instead."""

    name = "llist"
    list_class = Llist

    def __init__(self, k):
        super().__init__(k)
        self.c_take = k.prices.llist_del_first  # llist_del_first() instead of __rmqueue_pcplist()'s list_del

    def lock(self, cpu, pcp=None):
        if cpu.in_nmi():  # a second llist_del_first consumer: refuse
            self.k.stat.refused += 1
            return None
        return True

    def unlock(self, cpu, token, pcp=None) -> None:
        return None

    def rmqueue_pcplist(self, cpu, zone, mt, alloc_flags, pcp):
        k = self.k
        lst = pcp.lists[mt]
        page = lst.llist_del_first(cpu, self.c_take)
        if page == NULL:
            batch: list[int] = []
            holder = PrivateList(batch)
            n = k.rmqueue_bulk(cpu, zone, 0, pcp.batch, holder, mt, alloc_flags)
            if not n:
                return None
            page = batch.pop(0)
            lst.llist_add_batch(cpu, batch)
            cpu.atomic()  # atomic_add(n - 1, &pcp->count)
            pcp.count += n - 1
        else:
            cpu.atomic()  # atomic_dec(&pcp->count)
            pcp.count -= 1
        state = k.mem.state
        if state[page] != PAGE_PCP:
            k.violation(f"page handed out twice: pfn {page} taken from {lst.name} while "
                        f"{STATE_NAMES[state[page]]} (CPU{cpu.id}, {cpu.context})")
        state[page] = PAGE_ALLOCATED
        return page

    def free_commit(self, cpu, zone, page, mt) -> None:
        self.free_to(cpu, zone, page, mt, cpu.id)

    def free_to(self, cpu, zone, page: int, mt: int, owner: int) -> None:
        """``llist_add()`` onto ``owner``'s list; the owner drains when it is over ``high``."""
        k = self.k
        pcp = zone.pcp[owner]
        k.mem.state[page] = PAGE_PCP
        pcp.lists[mt].llist_add(cpu, page)
        cpu.atomic()  # atomic_inc(&pcp->count)
        pcp.count += 1
        if owner == cpu.id and pcp.count >= pcp.high:
            self.drain(cpu, zone, pcp)

    def drain(self, cpu, zone, pcp) -> None:
        """``llist_del_all()`` each list, free ``batch`` pages to the buddy lists, put the rest back."""
        k = self.k
        mem = k.mem
        budget = pcp.batch
        flags = k.zone_lock(cpu, zone)
        per_page = k.prices.free_one_page
        touch = k.cache.touch
        freed = 0
        keep = []
        for lst in pcp.lists:
            chain = lst.llist_del_all(cpu)
            take, rest = chain[-budget + freed:] if budget > freed else [], chain
            if take:
                rest = chain[:len(chain) - len(take)]
            for page in take:  # the oldest pages (tail of the chain)
                cpu.charge(per_page + touch(cpu, page))
                zone.free_one_page(cpu, page, 0, mem.pageblock_mt[page >> 9])
            freed += len(take)
            keep.append((lst, rest))
        zone.nr_free_pages += freed
        k.zone_unlock(cpu, zone, flags)
        for lst, rest in keep:
            lst.llist_add_batch(cpu, rest)
        cpu.atomic()  # atomic_sub(freed, &pcp->count)
        pcp.count -= freed
        k.stat.pcp_drains += 1


class LlistDesign(BulkAllocator):
    shape = LIST
    pcp_ops = LlistPcp

    def __init__(self, k, **options):
        super().__init__(k, **options)
        assert isinstance(k.pcp_ops, LlistPcp)  # the kernel was booted with this design's pcp protocol
        self.llist_ops: LlistPcp = k.pcp_ops

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None) -> int:
        if cpu.in_nmi():
            self.k.stat.refused += 1
            return 0
        return super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array,
                                  preferred_nid=preferred_nid)

    def free_page(self, cpu, page: int) -> None:
        """``free_unref_page()`` with llist: free_pages_prepare, then ``llist_add()`` to the owner's list."""
        k = self.k
        mem = k.mem
        if mem.state[page] != PAGE_ALLOCATED:
            k.violation(f"double free: pfn {page} freed while {STATE_NAMES[mem.state[page]]}")
            return
        cpu.charge(k.free_prepare_cost)
        zone = k.page_zone(page)
        owner = mem.cpu[page] if mem.cpu[page] >= 0 else cpu.id
        self.llist_ops.free_to(cpu, zone, page, mem.pageblock_mt[page >> 9], owner)
        k.stat.pages_freed += 1
        if owner != cpu.id:
            k.stat.remote_frees += 1

    def free_bulk(self, cpu, pages: list[int]) -> None:
        if self.options.get("free") != "splice":
            return super().free_bulk(cpu, pages)
        k = self.k
        mem = k.mem
        groups: dict[tuple, list[int]] = {}
        for page in pages:
            if mem.state[page] != PAGE_ALLOCATED:
                k.violation(f"double free: pfn {page} freed while {STATE_NAMES[mem.state[page]]}")
                continue
            cpu.charge(k.free_prepare_cost)
            owner = mem.cpu[page] if mem.cpu[page] >= 0 else cpu.id
            zone = k.page_zone(page)
            groups.setdefault((zone.zone_idx, zone.node, owner, mem.pageblock_mt[page >> 9]), []).append(page)
            mem.state[page] = PAGE_PCP
        for (zidx, node, owner, mt), batch in groups.items():
            zone = k.node_zones[node][zidx]
            pcp = zone.pcp[owner]
            pcp.lists[mt].llist_splice_unsafe(cpu, batch)
            cpu.atomic()
            pcp.count += len(batch)
            k.stat.pages_freed += len(batch)


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="llist",
        factory=LlistDesign,
        description="per-CPU lock-less llists: no IRQ disabling, atomics; frees from any CPU; refuses NMI allocs",
        models="Mel Gorman's llist proposal, linux-mm 2021-03-12 (never merged)",
        options=(Option("free", "per_page", "how a batch of frees reaches the lists: one llist_add() per page, "
                        "or spliced on with a non-atomic tail update", choices=("per_page", "splice")),),
        pcp_link_bytes=8,
    )]
