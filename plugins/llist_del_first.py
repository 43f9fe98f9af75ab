"""``llist_del_first``: per-CPU page lists as ``llist``s consumed with ``llist_del_first()`` -- the documented
**unsafe** variant of Mel Gorman's llist idea, kept to show what breaks and what it would have cost.

Each allocation takes one page with ``llist_del_first()``: ``entry = head->first; next = entry->next;
cmpxchg(&head->first, entry, next)``. llist.h allows that only with a *single* consumer: "llist_del_first
depends on list->first->next does not changed if list->first is not changed during its operation, but
llist_del_first, llist_add, llist_add (or llist_del_all, llist_add, llist_add) sequence in another consumer may
violate that" (kernel-facts §4.1). On one CPU the task, softirq and hardirq allocators are all consumers of the
same list, and so is the drain (``llist_del_all``): an interrupt that allocates the page the task read as
``entry`` and frees it again (``llist_add``) between the task's read of ``entry->next`` and its cmpxchg makes the
cmpxchg succeed with a stale ``next`` -- a page handed out twice (the ABA problem). Nothing here prevents it;
``benchframe explore --design llist_del_first`` shows the interleaving. Its cost rows are those of an incorrect
design: one atomic per page and no walk, which the safe ``llist`` cannot have.

Everything else (frees to this CPU's list, ``this_cpu`` counters, statistics, drain, NMI refusal) is shared with
``llist`` (``benchframe.mm.llist_pcp``).
"""

from __future__ import annotations

from benchframe.api import NULL, Design, LlistAllocator, LlistPcp, Option, PrivateList, hookimpl

#: how a bulk free reaches the list (``benchframe.mm.llist_pcp.FREE_MODES``)
FREE = Option("free", "per_page", "bulk frees: one llist_add() per page, one llist_add_batch() per list (safe), "
              "or spliced behind the list's last node (unsafe)", choices=("per_page", "batch", "splice"))


class LlistDelFirstPcp(LlistPcp):
    """Consumers use ``llist_del_first()``, one page at a time: unsafe with more than one consumer per list."""

    name = "llist_del_first"

    def rmqueue_pcplist(self, cpu, zone, mt, alloc_flags, pcp):
        """``__rmqueue_pcplist()`` with ``llist_del_first()``; an empty list is refilled with ``pcp->batch``
        pages (``rmqueue_bulk()`` onto a private chain, whose last node it knows) published with one
        ``llist_add_batch()``."""
        k = self.k
        lst = pcp.lists[mt]
        page = lst.llist_del_first(cpu, k.prices.llist_del_first)
        if page == NULL:
            batch: list[int] = []
            n = k.rmqueue_bulk(cpu, zone, 0, pcp.batch, PrivateList(batch), mt, alloc_flags)
            if not n:
                return None
            page = batch.pop(0)
            lst.llist_add_batch(cpu, batch)
            self.count_add(cpu, pcp, n - 1)
        else:
            self.count_add(cpu, pcp, -1)
        return self.take_checked(cpu, page, lst.name)


class LlistDelFirst(LlistAllocator):
    pcp_ops = LlistDelFirstPcp


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="llist_del_first",
        factory=LlistDelFirst,
        description="UNSAFE: per-CPU llists consumed with llist_del_first by task and IRQ allocators alike "
                    "(ABA: a page handed out twice); one atomic per page",
        models="Mel Gorman's llist proposal, linux-mm 2021-03-12, against llist.h's single-consumer rule",
        options=(FREE,),
        pcp_link_bytes=8,
    )]
