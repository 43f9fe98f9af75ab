"""``include/linux/llist.h``: lock-less NULL-terminated singly linked lists, for designs that keep per-CPU
pages on an ``llist_head`` with an ``llist_node`` overlaid on struct page (``MemMap.next``).

The primitives charge their cost between the read of ``head->first`` and the cmpxchg/xchg that publishes, so a
context that runs in between (an interrupt on this CPU, another CPU in simulated-time order) sees what the
kernel would: ``llist_add`` retries, ``llist_del_first`` by a second consumer can succeed with a stale
``next`` (the ABA problem llist.h warns about), an unsafe tail splice loses entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe.hw.frames import symbol
from benchframe.mm.symbols import ksym

if TYPE_CHECKING:
    from collections.abc import Iterator

    from benchframe.hw.cpu import CPU
    from benchframe.mm.page_alloc import Kernel

NULL = -1


class Llist:
    """``struct llist_head``; ``next`` is the per-page ``llist_node`` (``MemMap.next``)."""

    __slots__ = ("first", "next", "k", "name", "engine")

    def __init__(self, k: Kernel, name: str):
        self.first = NULL
        self.next = k.mem.next
        self.k = k
        self.name = name
        self.engine = k.engine

    def __iter__(self) -> Iterator[int]:
        seen = 0
        limit = self.k.mem.nr_pages
        node = self.first
        while node != NULL and seen <= limit:
            yield node
            node = self.next[node]
            seen += 1

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return self.first != NULL

    @ksym("llist_add")
    def llist_add(self, cpu: CPU, page: int) -> None:
        """``llist_add()``: ``do { first = head->first; node->next = first; } while (!try_cmpxchg(...))``; the
        page's line is written (a transfer when another CPU had it), the head's cmpxchg is an atomic."""
        nxt = self.next
        k = self.k
        while True:
            self.engine.sync(cpu)
            first = self.first
            nxt[page] = first
            cpu.charge(k.prices.llist_add + k.cache.touch(cpu, page))  # between reading the head and the cmpxchg
            cpu.atomic()
            if self.first == first:
                self.first = page
                return

    @ksym("llist_add_batch")
    def llist_add_batch(self, cpu: CPU, pages: list[int]) -> None:
        """``llist_add_batch(first, last, head)``: the batch is a private chain (its links are the caller's),
        then one cmpxchg loop on the head, as ``llist_add``. Safe against any consumer (llist.h)."""
        if not pages:
            return
        nxt = self.next
        k = self.k
        for a, b in zip(pages, pages[1:]):
            nxt[a] = b
        last = pages[-1]
        while True:
            self.engine.sync(cpu)
            first = self.first
            nxt[last] = first
            cpu.charge(k.prices.llist_add)  # between reading the head and the cmpxchg
            cpu.atomic()
            if self.first == first:
                self.first = pages[0]
                return

    @symbol("llist_splice_tail_unsafe", inline=True)  # no such kernel function: the design's own splice
    def llist_splice_tail_unsafe(self, cpu: CPU, pages: list[int]) -> None:
        """The unsafe splice: link a batch behind the list's *last* node (``list_splice_tail()`` on a list with no
        tail pointer), as the pcp lists put cold pages at the tail. The walk to the last node reads the list as it
        is; the link is a plain store into that node. A consumer that takes the last node in between
        (``llist_del_all`` by an interrupt, another CPU) leaves the batch linked behind a page that is no longer
        on the list: the batch is lost. llist.h has no such operation for that reason."""
        if not pages:
            return
        nxt = self.next
        k = self.k
        for a, b in zip(pages, pages[1:]):
            nxt[a] = b
        nxt[pages[-1]] = NULL
        self.engine.sync(cpu)
        walked = list(self)
        tail = walked[-1] if walked else NULL
        # the walk: node after node, each a dependent load of the previous node's next
        cpu.charge(k.prices.llist_next * (len(walked) + 1) + k.cache.walk(cpu, walked, dependent=True))
        self.engine.sync(cpu)
        if tail == NULL:
            self.first = pages[0]  # an empty list: head->first = batch, a plain store
        else:
            nxt[tail] = pages[0]  # tail->next = batch, a plain store

    @ksym("llist_del_first")
    def llist_del_first(self, cpu: CPU, cost: int) -> int:
        """``llist_del_first()``: ``entry = head->first; next = entry->next; cmpxchg(&head->first, entry, next)``.
        Safe only with a single consumer: another consumer between the read and the cmpxchg can make the
        cmpxchg succeed with a stale ``next`` (ABA)."""
        nxt = self.next
        while True:
            self.engine.sync(cpu)
            entry = self.first
            if entry == NULL:
                return NULL
            following = nxt[entry]
            cpu.charge(cost + self.k.cache.touch(cpu, entry))  # between reading entry->next and the cmpxchg
            cpu.atomic()
            if self.first == entry:
                self.first = following
                return entry

    @ksym("llist_del_all")
    def llist_del_all(self, cpu: CPU) -> list[int]:
        """``llist_del_all()``: ``xchg(&head->first, NULL)``; returns the chain newest first. Safe with any
        number of concurrent consumers that use only ``llist_del_all`` (llist.h's lock table). Walking the
        detached chain is the caller's work (``prices.llist_next`` per node)."""
        self.engine.sync(cpu)
        cpu.charge(self.k.prices.llist_del_all)
        cpu.atomic()
        node, self.first = self.first, NULL
        out: list[int] = []
        limit = self.k.mem.nr_pages
        while node != NULL and len(out) <= limit:
            out.append(node)
            node = self.next[node]
        return out


class PrivateList:
    """A private list for ``rmqueue_bulk()`` to fill before the batch is published with ``llist_add_batch``."""

    __slots__ = ("pages",)

    def __init__(self, pages: list[int]):
        self.pages = pages

    def add_tail(self, page: int) -> None:
        self.pages.append(page)
