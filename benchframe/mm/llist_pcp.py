"""Per-CPU page lists as lock-less ``llist``s (Mel Gorman, linux-mm 2021-03-12): the parts every llist design
shares, whichever way it consumes the lists.

"it's not clear to me why per-cpu lists need to be locked at all because potentially it could use a lock-free
llist with some struct page overloading ... splicing a batch of free pages with llist would be unsafe so batch
free might exchange IRQ disabling overhead with multiple atomics." Never implemented in the kernel. What every
llist design here does:

* each pcp list is an ``llist_head``; pages are linked through an 8-byte ``llist_node`` overlaid on struct page;
  nothing disables IRQs around the lists (``zone->lock`` is still taken with ``spin_lock_irqsave()``, since the
  buddy lists and NR_FREE_PAGES need IRQs off);
* a free goes to *this* CPU's list with ``llist_add()`` (a producer: safe against every consumer, from any
  context), as ``free_unref_page()`` frees to the local pcp; a bulk free is one ``llist_add()`` per page
  (``free=per_page``: the "multiple atomics"), one ``llist_add_batch()`` (``free=batch``: safe, llist.h), or the
  unsafe splice of a batch behind the list's last node (``free=splice``, see ``Llist.llist_splice_tail_unsafe``);
* ``pcp->count`` is a per-CPU counter changed with ``this_cpu_add/sub`` (one x86 instruction that an interrupt
  cannot split; no atomic);
* every pcp operation -- an allocation from its detach to its put-back, a free from ``llist_add`` to the count --
  runs with the task pinned to its CPU (``pcpu_task_pin()``: ``preempt_disable()``, ``migrate_disable()`` on
  PREEMPT_RT), as 6.0's pcp spinlock does: a task preempted there could otherwise resume on another CPU and
  apply its ``this_cpu`` count update to that CPU (``benchframe explore --context preempt`` shows it);
* PGALLOC and the NUMA statistics are the plain per-CPU event counters of f19298b9516c (the same series), which
  "the bulk page allocator can then do stat updates in bulk with IRQs enabled": once per bulk call, IRQs on. 5.13's
  ``zone_statistics()`` needs IRQs off; a design that never disables them cannot use it;
* the drain when ``count >= high`` detaches each list with ``llist_del_all()``, puts the newest pages back with one
  ``llist_add_batch()`` and frees the ``batch`` oldest to the buddy lists under ``zone->lock``;
* NMI: allocation is refused (0 / NULL): the page allocator is not to be called from NMI, and a refill would spin
  on a ``zone->lock`` its own CPU may hold. A free from NMI is one ``llist_add()`` (x86 has NMI-safe cmpxchg) and
  leaves the drain to the next free outside NMI.

How a design *takes* pages off its list (``PcpOps.rmqueue_pcplist``) is what makes it safe or not: llist.h allows
``llist_del_first`` only with a single consumer, ``llist_del_all`` with any number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.hw.frames import symbol
from benchframe.hw.topology import PAGEBLOCK_ORDER
from benchframe.mm.bulk import LIST, BulkAllocator
from benchframe.mm.fast import plain_machine
from benchframe.mm.fast_free import llist_free_pages
from benchframe.mm.llist import NULL, Llist
from benchframe.mm.page import PAGE_ALLOCATED, PAGE_PCP, STATE_NAMES
from benchframe.mm.pcp import PcpOps
from benchframe.mm.symbols import at, ksym

if TYPE_CHECKING:
    from benchframe.hw.cpu import CPU
    from benchframe.mm.page_alloc import Kernel
    from benchframe.mm.pcp import PerCpuPages
    from benchframe.mm.zone import Zone

FREE_MODES = ("per_page", "batch", "splice")


class LlistPcp(PcpOps):
    """The per-CPU list protocol every llist design shares (the module docstring); a design supplies
    ``rmqueue_pcplist``, its consumer."""

    name = "llist"
    list_class = Llist

    def __init__(self, k: Kernel):
        super().__init__(k)
        prices = k.prices
        self.c_stats = prices.stats_5_14  # f19298b9516c's per-CPU event counters: legal with IRQs on
        self.s_stats = _STATS_5_14
        self.c_commit = prices.llist_free_commit
        self.c_count = prices.pcp_count_this_cpu
        self.c_next = prices.llist_next

    # -- protection: the task pinned to its CPU, no allocation from NMI ------------------------------------
    def pin(self, cpu: CPU) -> None:
        """``pcpu_task_pin()`` (6.0, 01b44456a7aa; kernel-facts §3.3): ``preempt_disable()`` on !PREEMPT_RT ("faster
        than migrate_disable"), ``migrate_disable()`` on PREEMPT_RT. Without it a task preempted in the middle of
        a pcp operation -- with a detached list in hand, between ``llist_add()`` and ``this_cpu_inc(pcp->count)``
        -- may resume on another CPU and apply its ``this_cpu`` update to that CPU's count."""
        if self.k.config.preempt_rt:
            cpu.migrate_disable()
        else:
            cpu.preempt_disable()

    def unpin(self, cpu: CPU) -> None:
        if self.k.config.preempt_rt:
            cpu.migrate_enable()
        else:
            cpu.preempt_enable()

    def lock(self, cpu: CPU, pcp: PerCpuPages | None = None) -> Any:
        """No lock: the task is pinned (``pin``) for the pcp operation; NMIs are refused."""
        if cpu.in_nmi():
            self.k.stat.refused += 1
            return None
        self.pin(cpu)
        return True

    def unlock(self, cpu: CPU, token: Any, pcp: PerCpuPages | None = None) -> None:
        self.unpin(cpu)

    # -- counters --------------------------------------------------------------------------------------
    def count_add(self, cpu: CPU, pcp: PerCpuPages, n: int) -> None:
        """``this_cpu_add(pcp->count, n)`` (negative ``n``: ``this_cpu_sub``): the count of the CPU the code runs
        on *now* -- ``pcp``'s own while the task is pinned."""
        cpu.charge(self.c_count, _THIS_CPU_ADD)
        pcp.zone.pcp[cpu.id].count += n

    def take_checked(self, cpu: CPU, page: int, where: str) -> int:
        """A page leaves a pcp list for the caller: ``check_new_pcp()`` only fails on a corrupted list."""
        k = self.k
        state = k.mem.state
        if state[page] != PAGE_PCP:
            k.violation(f"page handed out twice: pfn {page} taken from {where} while "
                        f"{STATE_NAMES[state[page]]} (CPU{cpu.id}, {cpu.context})")
        state[page] = PAGE_ALLOCATED
        return page

    # -- freeing -----------------------------------------------------------------------------------------
    def free_commit(self, cpu: CPU, zone: Zone, page: int, mt: int) -> None:
        """``free_unref_page_commit()``, pinned: ``llist_add()`` onto this CPU's list, ``this_cpu_inc(pcp->count)``,
        and the drain at ``high`` (not from NMI: it takes ``zone->lock``)."""
        k = self.k
        self.pin(cpu)
        pcp = zone.pcp[cpu.id]  # this_cpu_ptr(), once pinned
        cpu.charge(self.c_commit)
        k.mem.state[page] = PAGE_PCP
        k.mem.free_mt[page] = mt
        pcp.lists[mt].llist_add(cpu, page)
        self.count_add(cpu, pcp, 1)
        if pcp.count >= pcp.high and not cpu.in_nmi():
            self.drain(cpu, zone, pcp)
        self.unpin(cpu)

    @ksym("free_pcppages_bulk")
    def drain(self, cpu: CPU, zone: Zone, pcp: PerCpuPages) -> None:
        """``free_pcppages_bulk()`` for llists: detach each non-empty list (``llist_del_all``), walk it, put the
        newest pages back with one ``llist_add_batch()`` and free the ``batch`` oldest (the chain's tail, the
        coldest) to the buddy lists under ``zone->lock``. Another consumer meanwhile finds the list short, never
        a page twice."""
        k = self.k
        prices = k.prices
        cache = k.cache
        cpu.charge(prices.llist_drain)
        budget = pcp.batch
        freed: list[int] = []
        for lst in pcp.lists:
            if budget <= len(freed):
                break
            if lst.first == NULL:  # llist_empty()
                continue
            chain = lst.llist_del_all(cpu)
            cut = max(len(chain) - (budget - len(freed)), 0)
            keep, take = chain[:cut], chain[cut:]
            cpu.charge(self.c_next * len(keep) + cache.walk(cpu, keep, dependent=True))  # to the cut
            lst.llist_add_batch(cpu, keep)
            cpu.charge(prices.llist_drain_page * len(take) + cache.walk(cpu, take, dependent=True))
            freed += take
        if not freed:
            return
        self.count_add(cpu, pcp, -len(freed))
        mem = k.mem
        flags = k.zone_lock(cpu, zone)
        for page in freed:
            cpu.charge(prices.free_one_page, prices.free_one_page_site)
            zone.free_one_page(cpu, page, 0, mem.free_mt[page])
        zone.nr_free_pages += len(freed)
        cpu.charge(cache.write_shared(cpu, zone.vmstat_line))
        k.zone_unlock(cpu, zone, flags)
        k.stat.pcp_drains += 1


class LlistAllocator(BulkAllocator):
    """``__alloc_pages_bulk()`` (list API, as Mel kept it: "pages returned to the bulk allocator user can still be
    a doubly linked list") on llist pcp lists: no IRQ disabling, statistics once per call, frees to this CPU's
    list. ``pcp_ops`` (the consumer) is the design's."""

    #: ``benchframe explore``: an allocation from NMI is refused (so the NMI verdict must be SAFE)
    explore_stances = {"nmi": "refuses"}
    shape = LIST
    pcp_ops: type[PcpOps] = LlistPcp
    account_per_page = False  # f19298b9516c's counters, once per call with IRQs on

    def __init__(self, k: Kernel, **options: Any):
        super().__init__(k, **options)
        free = options.get("free", "per_page")
        if free not in FREE_MODES:
            raise BenchframeError(f"design option free={free!r}: must be one of {', '.join(FREE_MODES)}")
        self.free_mode = free
        assert isinstance(k.pcp_ops, LlistPcp)  # the kernel was booted with this design's pcp protocol
        self.llist_ops: LlistPcp = k.pcp_ops
        #: the free path's steps are the ones ``benchframe.mm.fast_free.llist_free_pages`` inlines
        self.fused_free = plain_machine(k) and llist_free_fusable(k) and \
            all(getattr(type(self), name) is getattr(LlistAllocator, name)
                for name in ("free_page", "free_unref_page", "_prepare", "_freed"))

    def alloc_bulk(self, cpu: CPU, gfp: int, nr_pages: int, page_list: list[int] | None = None,
                   page_array: list[int | None] | None = None, preferred_nid: int | None = None) -> int:
        if cpu.in_nmi():
            self.k.stat.refused += 1
            return 0
        return super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array,
                                  preferred_nid=preferred_nid)

    def _prepare(self, cpu: CPU, page: int) -> bool:
        """``free_pages_prepare()`` of one page; False (a violation) if it is not allocated."""
        k = self.k
        if k.mem.state[page] != PAGE_ALLOCATED:
            k.violation(f"double free: pfn {page} freed while {STATE_NAMES[k.mem.state[page]]} "
                        f"(CPU{cpu.id}, {cpu.context})")
            return False
        cpu.charge(k.free_prepare_cost, k.prices.free_prepare_site)
        return True

    def _freed(self, cpu: CPU, page: int) -> None:
        stat = self.k.stat
        stat.pages_freed += 1
        if self.k.mem.cpu[page] != cpu.id:
            stat.remote_frees += 1

    def free_page(self, cpu: CPU, page: int) -> None:
        """``free_unref_page()`` of a page: its steps summed where nothing overrides them (``fused_free``)."""
        if self.fused_free:
            llist_free_pages(self, cpu, (page,))
        else:
            self.free_unref_page(cpu, page)

    @ksym("free_unref_page")
    def free_unref_page(self, cpu: CPU, page: int) -> None:
        """``free_unref_page()``: ``free_pages_prepare()``, then ``llist_add()`` onto this CPU's list."""
        if not self._prepare(cpu, page):
            return
        k = self.k
        mem = k.mem
        self.llist_ops.free_commit(cpu, k.page_zone(page), page, mem.pageblock_mt[page >> PAGEBLOCK_ORDER])
        self._freed(cpu, page)

    def free_bulk(self, cpu: CPU, pages: list[int]) -> None:
        """``free=per_page``: one ``llist_add()`` per page. ``batch``/``splice``: the pages are prepared and
        linked privately per (zone, migrate type), then published with one ``llist_add_batch()`` (safe) or
        spliced behind the list's last node (unsafe)."""
        if self.free_mode != "per_page":
            self.free_pages_batched(cpu, pages)
        elif self.fused_free:
            llist_free_pages(self, cpu, pages)
        else:
            for page in pages:
                self.free_page(cpu, page)

    @symbol("llist_free_pages_bulk")  # the design's own bulk free: no such kernel function
    def free_pages_batched(self, cpu: CPU, pages: list[int]) -> None:
        """``free=batch|splice``: prepare and link the pages privately, publish them per list at once."""
        k = self.k
        mem = k.mem
        ops = self.llist_ops
        groups: dict[tuple[int, int, int], list[int]] = {}
        for page in pages:
            if not self._prepare(cpu, page):
                continue
            zone = k.page_zone(page)
            mt = mem.pageblock_mt[page >> PAGEBLOCK_ORDER]
            cpu.charge(ops.c_commit + k.prices.llist_next)  # the commit's work; linking the page privately
            mem.state[page] = PAGE_PCP
            mem.free_mt[page] = mt
            groups.setdefault((zone.node, zone.zone_idx, mt), []).append(page)
            self._freed(cpu, page)
        for (node, zidx, mt), batch in groups.items():
            zone = k.node_zones[node][zidx]
            ops.pin(cpu)
            pcp = zone.pcp[cpu.id]
            lst = pcp.lists[mt]
            if self.free_mode == "batch":
                lst.llist_add_batch(cpu, batch)
            else:
                lst.llist_splice_tail_unsafe(cpu, batch)
            ops.count_add(cpu, pcp, len(batch))
            if pcp.count >= pcp.high and not cpu.in_nmi():
                ops.drain(cpu, zone, pcp)
            ops.unpin(cpu)


def llist_free_fusable(k: Kernel) -> bool:
    """``free_unref_page()`` runs ``LlistPcp``'s steps on ``Llist`` lists, pinning as the kernel's config says:
    what ``benchframe.mm.fast_free.llist_free_pages`` inlines."""
    ops = type(k.pcp_ops)
    return (issubclass(ops, LlistPcp) and ops.list_class is Llist
            and all(getattr(ops, name) is getattr(LlistPcp, name)
                    for name in ("free_commit", "pin", "unpin", "count_add", "drain"))
            and all(cpu.preempt_rt == k.config.preempt_rt for cpu in k.machine.cpus))


_THIS_CPU_ADD = at("this_cpu_add")
_STATS_5_14 = at("zone_statistics")

__all__ = ["FREE_MODES", "LlistAllocator", "LlistPcp"]
