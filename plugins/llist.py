"""``llist``: Mel Gorman's idea from the 2021 thread -- per-CPU page lists as lock-less ``llist``s -- as llist.h
allows it to be built: the **safe** variant.

Who consumes a pcp list: the task, softirq and hardirq allocators of its CPU (an interrupt handler that allocates
runs in the middle of the task's allocation), and the drain. llist.h: "If there are multiple producers and
multiple consumers, llist_add can be used in producers and llist_del_all can be used in consumers. They can work
simultaneously without lock. But llist_del_first can not be used here" (kernel-facts §4.1). So every consumer
here uses ``llist_del_all()`` only:

* an allocation (a bulk call, or one page) detaches the whole list with one ``xchg`` (``llist_del_all``), takes
  the pages it needs off the private chain (a ``node->next`` load each), refills the chain from the buddy lists
  when it runs out, and puts the rest back with **one** ``llist_add_batch()`` (a cmpxchg) -- after walking the
  remainder to its last node, since an llist has no tail pointer. Per call: two atomics and a walk as long as
  what is left on the list; no IRQ disabling. The task is pinned to its CPU from the detach to the put-back
  (``pcpu_task_pin()``: ``preempt_disable()``, ``migrate_disable()`` on PREEMPT_RT; priced at the profile's
  ``preempt_disable_enable``): a task preempted with the list detached and migrated would otherwise put it back
  on its first CPU's list and ``this_cpu_sub()`` the pages it took from the second CPU's count;
* an interrupt handler that allocates meanwhile finds the list empty (or holding what was freed since), refills
  from the buddy lists and puts its own remainder back: the pcp is emptier for a while, never a page twice;
* frees, ``pcp->count``, statistics, the drain and the NMI rules are shared with every llist design
  (``benchframe.mm.llist_pcp``): ``llist_add`` to this CPU's list, ``this_cpu_add`` on the count, f19298b9516c's
  per-CPU event counters once per call, NMI allocations refused.

``llist_del_first`` is the documented unsafe variant (``llist_del_first``); ``free=splice`` splices a bulk free
behind the list's last node, the unsafe splice (``benchframe explore`` shows both).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from benchframe.api import NULL, Design, LlistAllocator, LlistPcp, Option, PrivateList, hookimpl

if TYPE_CHECKING:
    from benchframe.api import CPU, Kernel, PerCpuPages


#: how a bulk free reaches the list (``benchframe.mm.llist_pcp.FREE_MODES``)
FREE = Option("free", "per_page", "bulk frees: one llist_add() per page, one llist_add_batch() per list (safe), "
              "or spliced behind the list's last node (unsafe)", choices=("per_page", "batch", "splice"))


class Detached:
    """One allocation in progress on a CPU: its pcp, the chains it detached (per migrate type), how many it
    took."""

    __slots__ = ("pcp", "chains", "taken")

    def __init__(self, pcp: PerCpuPages | None) -> None:
        self.pcp = pcp
        self.chains: dict[int, deque[int]] = {}
        self.taken = 0


class LlistDelAllPcp(LlistPcp):
    """Consumers use ``llist_del_all()`` only: detach, take, put the rest back with ``llist_add_batch()``."""

    name = "llist_del_all"

    def __init__(self, k: Kernel):
        super().__init__(k)
        # per task (the CPU object its code runs with), the allocations in progress: an interrupt's allocation
        # nests inside the task's on the same CPU
        self.calls: dict[CPU, list[Detached]] = {}

    def lock(self, cpu: CPU, pcp: PerCpuPages | None = None) -> Any:
        """Pin the task (``LlistPcp.lock``), then take this CPU's pcp (``this_cpu_ptr()``, once pinned)."""
        if super().lock(cpu, pcp) is None:
            return None
        call = Detached(pcp.zone.pcp[cpu.id] if pcp is not None else None)
        self.calls.setdefault(cpu, []).append(call)
        return call

    def unlock(self, cpu: CPU, token: Any, pcp: PerCpuPages | None = None) -> None:
        """Put what is left back with one ``llist_add_batch()`` per list (after the walk to its last node),
        ``this_cpu_sub(pcp->count, taken)``, then unpin."""
        calls = self.calls.get(cpu, [])
        assert calls and calls[-1] is token, "pcp lock/unlock not nested"
        calls.pop()
        pcp = token.pcp
        if pcp is not None:
            cache = self.k.cache
            for mt, rest in token.chains.items():
                if rest:
                    left = list(rest)
                    cpu.charge(self.c_next * len(left) + cache.walk(cpu, left, dependent=True))
                    pcp.lists[mt].llist_add_batch(cpu, left)
            if token.taken:
                self.count_add(cpu, pcp, -token.taken)
        super().unlock(cpu, token, pcp)

    def rmqueue_pcplist(self, cpu, zone, mt, alloc_flags, pcp):
        """``__rmqueue_pcplist()``: the first page of this call's detached chain; on the first need the list is
        detached (``llist_del_all``), when the chain runs out it is refilled with ``pcp->batch`` pages from the
        buddy lists (``rmqueue_bulk()`` onto the private chain)."""
        k = self.k
        call = self.calls[cpu][-1]
        if call.pcp is None:
            call.pcp = pcp
        pcp = call.pcp  # this CPU's, taken once the task was pinned; unlock() puts the rest back there
        lst = pcp.lists[mt]
        chain = call.chains.get(mt)
        if chain is None:
            cpu.charge(k.prices.llist_empty)
            chain = call.chains[mt] = deque(lst.llist_del_all(cpu) if lst.first != NULL else ())
        if not chain:
            batch: list[int] = []
            n = k.rmqueue_bulk(cpu, zone, 0, pcp.batch, PrivateList(batch), mt, alloc_flags)
            if not n:
                return None
            chain.extend(batch)
            self.count_add(cpu, pcp, n)
        page = chain.popleft()
        cpu.charge(k.prices.llist_take + k.cache.touch(cpu, page))
        call.taken += 1
        return self.take_checked(cpu, page, lst.name)


class Llist(LlistAllocator):
    pcp_ops = LlistDelAllPcp


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="llist",
        factory=Llist,
        description="per-CPU lock-less llists, consumers only llist_del_all (safe): no IRQ disabling, two "
                    "atomics and a walk per call; frees to the local list; refuses NMI allocs",
        models="Mel Gorman's llist proposal, linux-mm 2021-03-12 (never merged), under llist.h's consumer rules",
        options=(FREE,),
        pcp_link_bytes=8,
    )]
