"""Fused free paths for the pcp protections ``benchframe.mm.fast.free_pages`` does not inline.

Under the rules of ``benchframe.mm.fast`` (a charge is an addition only while the clock stays below
``cpu.next_event``; every call out of the loop gets the true clock and gives back the clock and ``next_event``):

* ``free_pages_locked``: ``free_unref_page()`` of each page where the design protects the pcp its own way --
  ``preempt_disable()`` (374ad05ab64d), a pcp spinlock, 5.14's ``local_lock`` on PREEMPT_RT -- and commits
  the page as 5.13 (or 5.14) does. Its ``lock``/``unlock`` are called as they are, between them the commit is
  inlined;
* ``llist_free_pages``: the llist designs' ``free_unref_page()`` (``benchframe.mm.llist_pcp``) of each page,
  ``free_pages_prepare()``, the task pinned, ``llist_add()`` onto this CPU's list, ``this_cpu_inc(pcp->count)``,
  unpinned. ``llist_add()`` gives other CPUs their turn first (``Engine.sync``) as the slow path does, and its
  cmpxchg retries when the head moved meanwhile.

Each is used only where the kernel runs exactly the steps it inlines (``commit_fusable`` where
``benchframe.mm.fast.free_fusable`` does not hold, ``benchframe.mm.llist_pcp.llist_free_fusable``) and
``benchframe.mm.fast.fusable`` holds for its CPUs, cache model and interrupt policy; the pages any inlined
step does not cover take the slow path whole. Explore's ``preempt`` context runs on the plain policy: while its
hook is armed every charge reaches ``next_event``, so every page takes the slow path, where the task may be
preempted and migrate; the loops read ``cpu.id`` again after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.hw.cache import CacheModel
from benchframe.hw.cpu import NMI
from benchframe.hw.topology import PAGEBLOCK_ORDER
from benchframe.mm.boot import SECTION_SHIFT
from benchframe.mm.fast import list_add_commit, one_batch
from benchframe.mm.page import PAGE_ALLOCATED, PAGE_PCP
from benchframe.mm.pcp import PcpList, PcpOps
from benchframe.mm.pcp_lock import LocalLockPcp

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchframe.hw.cpu import CPU
    from benchframe.mm.llist import Llist
    from benchframe.mm.llist_pcp import LlistAllocator
    from benchframe.mm.page_alloc import Kernel


def commit_fusable(k: Kernel) -> bool:
    """``free_unref_page_commit()`` is 5.13's, or 5.14's ``local_lock`` one whose drain is ``nr_pcp_free()`` (on
    a kernel without ``nr_pcp_alloc()``: no ``alloc_factor`` to halve), on ``PcpList`` lists."""
    ops = type(k.pcp_ops)
    if ops.list_class is not PcpList:
        return False
    if ops is LocalLockPcp:
        return not k.config.version.pcp_alloc_factor
    return ops.free_commit is PcpOps.free_commit


def free_pages_locked(k: Kernel, cpu: CPU, pages: Sequence[int]) -> None:
    """``Kernel.free_unref_page`` of each page with ``free_pages_prepare()`` and the commit inlined around the
    design's ``lock``/``unlock``. A page the inlined steps do not cover (not allocated, an interrupt that could
    fall due in ``free_pages_prepare()``) takes ``Kernel.free_unref_page`` itself."""
    mem = k.mem
    state, free_mt, pageblock_mt, owner = mem.state, mem.free_mt, mem.pageblock_mt, mem.cpu
    zones, zone_of_section = k.zones, k.zone_of_section
    cache = k.cache
    cid = cpu.id
    prepare = k.free_prepare_cost
    ops = k.pcp_ops
    lock, unlock = ops.lock, ops.unlock
    commit = ops.c_commit
    free_high = one_batch if type(ops).free_commit is PcpOps.free_commit else ops.free_high  # 5.14: nr_pcp_free()
    stat = k.stat
    clock, ne = cpu.clock, cpu.next_event
    for page in pages:
        if state[page] != PAGE_ALLOCATED or clock + prepare >= ne:
            cpu.clock = clock
            k.free_unref_page(cpu, page)
            clock, ne = cpu.clock, cpu.next_event
            cid = cpu.id  # a task preempted in there (benchframe explore) may resume on another CPU
            continue
        zone = zones[zone_of_section[page >> SECTION_SHIFT]]
        mt = pageblock_mt[page >> PAGEBLOCK_ORDER]
        pcp = zone.pcp[cid]
        cpu.clock = clock + prepare
        token = lock(cpu, pcp)
        if token is None:  # the pcp could not be taken: free_one_page() straight to the buddy lists
            stat.pcp_bypassed += 1
            k.free_one_page(cpu, zone, page, mt)
            clock, ne = cpu.clock, cpu.next_event
        else:
            state[page] = PAGE_PCP  # free_unref_page_commit()
            free_mt[page] = mt
            clock, ne = list_add_commit(cache, cpu, pcp.lists[mt], page, commit, cpu.clock, cpu.next_event)
            pcp.count += 1
            cpu.clock = clock
            if pcp.count >= pcp.high:
                k.free_pcppages_bulk(cpu, zone, free_high(pcp), pcp)
            unlock(cpu, token, pcp)
            clock, ne = cpu.clock, cpu.next_event
        stat.pages_freed += 1  # counted as it goes: lock() may let other CPUs run (Engine.sync)
        if owner[page] != cid:
            stat.remote_frees += 1
    cpu.clock = clock


def _llist_add(k: Kernel, cpu: CPU, lst: Llist, page: int, clock: int, ne: float, add: int,
               atomic: int) -> tuple[int, float]:
    """``Llist.llist_add`` at the local ``clock``: other CPUs first (``Engine.sync``), the head read, the page's
    link written, ``add`` cycles and the page's line, the cmpxchg (an ``atomic``), retried if the head moved.
    Returns the clock and ``next_event`` after it."""
    engine = k.engine
    nxt = lst.next
    while True:
        if engine.multi:
            cpu.clock = clock
            engine.sync(cpu)
            clock, ne = cpu.clock, cpu.next_event
        first = lst.first
        nxt[page] = first
        cost = add + CacheModel.touch(k.cache, cpu, page)  # between reading the head and the cmpxchg
        cpu.atomics += 1  # CPU.atomic()'s count
        if clock + cost + atomic < ne:
            clock += cost + atomic
        else:
            cpu.clock = clock
            cpu.charge(cost)
            cpu.charge(atomic)
            clock, ne = cpu.clock, cpu.next_event
        if lst.first == first:
            lst.first = page
            return clock, ne


def llist_free_pages(design: LlistAllocator, cpu: CPU, pages: Sequence[int]) -> None:
    """``LlistAllocator.free_unref_page`` of each page, its charges summed. A page the inlined steps do not
    cover (not allocated, an interrupt that could fall due before the task is pinned) takes it itself."""
    k = design.k
    mem = k.mem
    state, free_mt, pageblock_mt, owner = mem.state, mem.free_mt, mem.pageblock_mt, mem.cpu
    zones, zone_of_section = k.zones, k.zone_of_section
    cid = cpu.id
    ops = design.llist_ops
    rt = k.config.preempt_rt
    pin, unpin = cpu.preempt_half
    before = k.free_prepare_cost + pin  # free_pages_prepare(), pcpu_task_pin()
    commit, add, count = ops.c_commit, k.prices.llist_add, ops.c_count
    atomic = cpu.costs.atomic_rmw
    stat = k.stat
    clock, ne = cpu.clock, cpu.next_event
    for page in pages:
        if state[page] != PAGE_ALLOCATED or clock + before >= ne:
            cpu.clock = clock
            design.free_unref_page(cpu, page)
            clock, ne = cpu.clock, cpu.next_event
            cid = cpu.id  # a task preempted in there (benchframe explore) may resume on another CPU
            continue
        clock += before
        if rt:  # pcpu_task_pin(): migrate_disable() on PREEMPT_RT, preempt_disable() otherwise
            cpu.migrate_disable_count += 1
        else:
            cpu.preempt_count += 1
        zone = zones[zone_of_section[page >> SECTION_SHIFT]]
        mt = pageblock_mt[page >> PAGEBLOCK_ORDER]
        pcp = zone.pcp[cid]
        if clock + commit < ne:
            clock += commit
        else:
            cpu.clock = clock
            cpu.charge(commit)
            clock, ne = cpu.clock, cpu.next_event
        state[page] = PAGE_PCP
        free_mt[page] = mt
        clock, ne = _llist_add(k, cpu, pcp.lists[mt], page, clock, ne, add, atomic)
        if clock + count < ne:  # this_cpu_inc(pcp->count)
            clock += count
        else:
            cpu.clock = clock
            cpu.charge(count)
            clock, ne = cpu.clock, cpu.next_event
        pcp.count += 1
        if pcp.count >= pcp.high and cpu.context != NMI:
            cpu.clock = clock
            ops.drain(cpu, zone, pcp)
            clock, ne = cpu.clock, cpu.next_event
        if rt:  # pcpu_task_unpin()
            cpu.migrate_disable_count -= 1
        else:
            cpu.preempt_count -= 1
        if clock + unpin < ne:
            clock += unpin
        else:
            cpu.clock = clock
            cpu.charge(unpin)
            clock, ne = cpu.clock, cpu.next_event
        stat.pages_freed += 1  # counted as it goes: llist_add() lets other CPUs run
        if owner[page] != cid:
            stat.remote_frees += 1
    cpu.clock = clock


__all__ = ["commit_fusable", "free_pages_locked", "llist_free_pages"]
