"""Fused fast paths: the allocator's per-page loops with their charges summed in a local clock.

Simulated time can be observed only at a charge: an interrupt falls due (``cpu.next_event``), another CPU takes
its turn (``Engine.sync``, called only by code that touches shared state) or an explore hook runs
(``Interrupts.charge_point``, which holds ``next_event`` at -inf). The loops here are the 5.13 steps of
``mm/pcp.py``, ``mm/bulk.py`` and ``mm/page_alloc.py`` -- same order, same state changes -- with the calls of the
CPU, the cache model and the pcp list inlined and the clock kept in a local: a charge that stays below
``next_event`` is an addition, one that could reach it is made by ``CPU.charge`` with the true clock written
back, and so is every call out of the loop (a refill, a drain, an interrupt controller's ``rearm``). So every
number is the slow path's, byte for byte, and explore sees the same charge points.

They run only where nothing overrides what they inline (``fusable``): the plain ``CPU`` and ``CacheModel`` (so
never with attribution on: ``benchframe.hw.perf`` swaps both), the plain ``Interrupts`` policy (``benchframe
explore`` brings its own, and names the model function each charge point lies in from the task's Python frames,
which a fused loop would rename) and the 5.13 ``PcpOps`` list steps on ``PcpList``. The free loop also needs
the pcp protected by ``local_irq_save()`` and the commit of 5.13 (``PcpOps``) or of 5.14's ``local_lock``
(``LocalLockPcp`` off PREEMPT_RT, where the lock is exactly ``local_irq_save()``): ``free_fusable``.
The IRQ state changes of the free loop ask the controller (``rearm``) only where it could answer something other
than the plain policy's answer for hardirq sources (IRQs off: nothing due; restored: the earliest arrival).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from benchframe.hw.cache import CacheModel
from benchframe.hw.cpu import CPU, INF, SOFTIRQ, TASK
from benchframe.hw.irq import NMI_KIND, Interrupts
from benchframe.hw.topology import PAGEBLOCK_ORDER
from benchframe.mm.boot import SECTION_SHIFT
from benchframe.mm.page import PAGE_ALLOCATED, PAGE_PCP
from benchframe.mm.pcp import PcpList, PcpOps, handed_out_twice
from benchframe.mm.pcp_lock import LocalLockPcp

if TYPE_CHECKING:
    from benchframe.mm.bulk import PageArray
    from benchframe.mm.page_alloc import Kernel
    from benchframe.mm.pcp import PerCpuPages
    from benchframe.mm.zone import Zone


def plain_machine(k: Kernel) -> bool:
    """Nothing overrides what a fused loop inlines of the machine: plain CPUs, cache model and interrupt
    policy (attribution swaps the first two, ``benchframe explore`` the third)."""
    return (type(k.cache) is CacheModel and all(type(cpu) is CPU for cpu in k.machine.cpus)
            and type(k.machine.irq) is Interrupts)


def fusable(k: Kernel) -> bool:
    """The kernel runs the steps these loops inline: a plain machine (``plain_machine``), the 5.13 pcp list
    steps."""
    ops = type(k.pcp_ops)
    return plain_machine(k) and ops.list_class is PcpList and ops.rmqueue_pcplist is PcpOps.rmqueue_pcplist


def free_fusable(k: Kernel) -> bool:
    """``free_unref_page()`` runs what ``free_pages`` inlines: ``local_irq_save()`` around the 5.13 commit, or
    5.14's ``local_lock_irqsave()`` (not on PREEMPT_RT, where it is a sleeping lock) around its own, whose drain
    is ``nr_pcp_free()`` (on a kernel without ``nr_pcp_alloc()``: no ``alloc_factor`` to halve)."""
    ops = type(k.pcp_ops)
    if ops is LocalLockPcp:
        return not k.config.preempt_rt and not k.config.version.pcp_alloc_factor
    return ops.lock is PcpOps.lock and ops.unlock is PcpOps.unlock and ops.free_commit is PcpOps.free_commit


def one_batch(pcp: PerCpuPages) -> int:
    """What 5.13's ``free_unref_page_commit()`` drains at ``pcp->high``: one batch."""
    return pcp.batch


def _charge(cpu: CPU, clock: int, cycles: int) -> tuple[int, float]:
    """A charge that may reach ``next_event``: ``CPU.charge`` from the local ``clock``; the clock and
    ``next_event`` after it."""
    cpu.clock = clock
    cpu.charge(cycles)
    return cpu.clock, cpu.next_event


def _irqs_off(cpu: CPU, clock: int) -> tuple[int, float]:
    """``Interrupts.irqs_off`` after ``local_irq_save()`` at the local ``clock``."""
    cpu.clock = cpu.irqs_off_since = clock
    cpu.irq.irqs_off(cpu)
    return cpu.clock, cpu.next_event


def _irqs_off_plain(cpu: CPU, clock: int) -> tuple[int, float]:
    """``_irqs_off`` where it asks the plain policy about hardirq sources only: none is deliverable."""
    cpu.next_event = INF
    return clock, INF


def _rearm(cpu: CPU, clock: int, since: int) -> tuple[int, float]:
    """``Interrupts.rearm`` after ``local_irq_restore()`` at the local ``clock``."""
    cpu.clock, cpu.irqs_off_since = clock, since
    cpu.irq.rearm(cpu)
    return cpu.clock, cpu.next_event


def _rearm_plain(cpu: CPU, clock: int, since: int) -> tuple[int, float]:
    """``_rearm`` where every source is a hardirq deliverable with IRQs on (``free_pages``' ``plain``):
    ``next_event`` is the earliest pending or next arrival; an overdue one takes the controller's ``rearm``."""
    ne = INF
    for src in cpu.sources:
        due = src.pending_since
        if due is None:
            due = src.next_arrival
        if due < ne:
            ne = due
    cpu.next_event = ne
    if ne <= clock:
        return _rearm(cpu, clock, since)
    return clock, ne


def list_add_commit(cache: CacheModel, cpu: CPU, lst: PcpList, page: Any, cost: int, clock: int,
                    ne: float) -> tuple[int, float]:
    """``list_add(&page->lru, &pcp->lists[migratetype])`` of ``free_unref_page_commit()`` (``PcpList.add_head``)
    at the local ``clock``: ``cost`` and the old first page's line (its ``lru.prev`` is written; a line this CPU
    touched recently is an L1 hit, inlined), then the links. Returns the clock and ``next_event`` after it."""
    q = lst.q
    first = q[0] if q else None
    if first is not None:
        line = cache.line
        v = line[first]
        c1 = cpu.id + 1
        seq = cache.seq[c1 - 1]
        if v & 255 == c1 and seq - (v >> 8) < cache.l1:
            line[first] = seq << 8 | c1
        else:
            cost += CacheModel.touch(cache, cpu, first)
    if clock + cost < ne:
        q.appendleft(page)
        return clock + cost, ne
    clock, ne = _charge(cpu, clock, cost)
    lst.link(cpu, page, first)
    return clock, ne


def take_pages(k: Kernel, cpu: CPU, zone: Zone, pcp: PerCpuPages, mt: int, alloc_flags: int, nr_populated: int,
               nr_pages: int, page_list: list[int] | None, page_array: PageArray | None, per_page: int,
               slot: int, taken: list[int] | None) -> tuple[int, int, bool]:
    """The page loop of ``__alloc_pages_bulk()`` (``BulkAllocator.alloc_bulk``) with 5.13's
    ``__rmqueue_pcplist()`` and ``list_del()`` inlined, the pcp protected: ``per_page`` charged after each page
    (its prep inlined), a populated slot skipped for ``slot``, each page appended to ``taken`` when it is not
    ``None`` (a second prep pass). Returns the populated count, the pages taken, and whether the pcp ran dry
    before ``nr_pages``."""
    lst = pcp.lists[mt]
    q = lst.q
    cache = k.cache
    cid = cpu.id
    state = k.mem.state
    owner = k.mem.cpu
    take = k.pcp_ops.c_take
    nr_account = 0
    clock, ne = cpu.clock, cpu.next_event
    while nr_populated < nr_pages:
        if page_array is not None and page_array[nr_populated] is not None:
            nr_populated += 1  # skip already-populated slots
            if clock + slot < ne:
                clock += slot
            else:
                clock, ne = _charge(cpu, clock, slot)
            continue
        if not q:  # refill an empty list from the buddy allocator
            cpu.clock = clock
            got = k.rmqueue_bulk(cpu, zone, 0, pcp.batch, lst, mt, alloc_flags)
            pcp.count += got  # after the call: an interrupt in the refill may change the count
            clock, ne = cpu.clock, cpu.next_event
            if not q:
                break
        pg: Any = q[0]  # the int object the list holds, stored and used as a key as it is (no new box)
        page: int = pg
        extra = CacheModel.touch2(cache, cpu, page, q[1]) if len(q) > 1 else CacheModel.touch(cache, cpu, page)
        cost = take + extra
        if clock + cost < ne:
            clock += cost
            q.popleft()  # nothing ran between the read of the head and list_del()
        else:
            clock, ne = _charge(cpu, clock, cost)
            lst.unlink(cpu, page)
        pcp.count = pcp.count - 1
        st: int = state[pg]
        if st != PAGE_PCP:
            handed_out_twice(k, cpu, page, lst.name)
        state[pg] = PAGE_ALLOCATED
        nr_account += 1
        owner[pg] = cid
        if taken is not None:
            taken.append(pg)
        if page_list is not None:
            page_list.append(pg)
        elif page_array is not None:
            page_array[nr_populated] = pg
        if clock + per_page < ne:
            clock += per_page
        else:
            clock, ne = _charge(cpu, clock, per_page)
        nr_populated += 1
    else:
        cpu.clock = clock
        return nr_populated, nr_account, False
    cpu.clock = clock
    return nr_populated, nr_account, True


def free_pages(k: Kernel, cpu: CPU, pages: list[int]) -> None:
    """``free_unref_page()`` of each page (5.13, ``local_irq_save`` around the pcp) with
    ``free_unref_page_commit()``, ``list_add()`` and the IRQ state changes inlined. A page the inlined steps
    do not cover (not allocated, IRQs already off, an interrupt that could fall due before the pcp is
    protected) takes ``Kernel.free_unref_page`` itself."""
    mem = k.mem
    state, free_mt, pageblock_mt, owner = mem.state, mem.free_mt, mem.pageblock_mt, mem.cpu
    zones, zone_of_section = k.zones, k.zone_of_section
    cache = k.cache
    cid = cpu.id
    irq = cpu.irq
    before = k.free_prepare_cost + cpu.irq_half[0]  # free_pages_prepare(), then local_irq_save()
    restore = cpu.irq_half[1]
    ops = k.pcp_ops
    commit = ops.c_commit
    free_high = one_batch if type(ops).free_commit is PcpOps.free_commit else ops.free_high  # 5.14: nr_pcp_free()
    windows = cpu.irqs_off_windows
    counts = windows.counts  # Samples.append, inlined: one histogram bucket per window
    sources = cpu.sources
    observed = bool(sources) or irq.charge_point is not None  # rearm() after each IRQ state change
    # the plain policy (``fusable``) asked about hardirq sources only, in a context where they are deliverable
    # once IRQs are on: its answers inlined. Nothing the loop calls changes that (a handler restores the context)
    plain = (irq.charge_point is None and bool(sources) and sources[0].kind != NMI_KIND
             and cpu.context in (TASK, SOFTIRQ) and not (k.machine.irq.preempt_rt and cpu.preempt_count))
    n_windows = total_windows = toggles = freed = remote = 0
    since = cpu.irqs_off_since
    clock, ne = cpu.clock, cpu.next_event
    section_shift = SECTION_SHIFT
    last = -1  # the zone of the page before, whose pcp and lists are at hand
    pcp, lists = zones[0].pcp[cid], zones[0].pcp[cid].lists
    for pg in cast("list[Any]", pages):  # each int object as it is (see take_pages)
        page: int = pg
        st: int = state[pg]
        if st != PAGE_ALLOCATED or not cpu.irqs_on or clock + before >= ne:
            cpu.clock = clock
            k.free_unref_page(cpu, pg)
            clock, ne, since = cpu.clock, cpu.next_event, cpu.irqs_off_since
            cid = cpu.id  # a task preempted in there (benchframe explore) may resume on another CPU
            last = -1
            continue
        clock += before
        cpu.irqs_on = False  # local_irq_save(); IRQs stay off, so nothing moves irqs_off_since until restore
        since = clock
        toggles += 1
        if observed:
            clock, ne = _irqs_off_plain(cpu, clock) if plain else _irqs_off(cpu, clock)
        zi = zone_of_section[page >> section_shift]
        if zi != last:
            last = zi
            pcp = zones[zi].pcp[cid]
            lists = pcp.lists
        mt = pageblock_mt[page >> PAGEBLOCK_ORDER]
        state[pg] = PAGE_PCP  # free_unref_page_commit()
        free_mt[pg] = mt
        cpu.irqs_off_since = since  # what a charge that reaches next_event finds
        clock, ne = list_add_commit(cache, cpu, lists[mt], pg, commit, clock, ne)
        count = pcp.count + 1
        pcp.count = count
        if count >= pcp.high:
            zone = zones[zi]
            cpu.clock, cpu.irqs_off_since = clock, since
            k.free_pcppages_bulk(cpu, zone, free_high(pcp), pcp)
            clock, ne = cpu.clock, cpu.next_event
        if clock + restore < ne:  # local_irq_restore(flags)
            clock += restore
        else:
            cpu.irqs_off_since = since
            clock, ne = _charge(cpu, clock, restore)
        if not cpu.irqs_on:
            cpu.irqs_on = True
            w = clock - since
            key: Any = w  # boxed once
            counts[key] = counts.get(key, 0) + 1
            n_windows += 1
            total_windows += w
            if observed:
                clock, ne = _rearm_plain(cpu, clock, since) if plain else _rearm(cpu, clock, since)
        freed += 1
        o: int = owner[pg]
        if o != cid:
            remote += 1
    cpu.clock = clock
    cpu.irqs_off_since = since
    cpu.irq_toggles += toggles
    windows.n += n_windows
    windows.total += total_windows
    k.stat.pages_freed += freed
    k.stat.remote_frees += remote


__all__ = ["free_fusable", "free_pages", "fusable", "list_add_commit", "one_batch", "plain_machine",
           "take_pages"]
