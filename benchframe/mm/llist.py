"""``include/linux/llist.h``: lock-less NULL-terminated singly linked lists, for designs that keep per-CPU
pages on an ``llist_head`` with an ``llist_node`` overlaid on struct page (``MemMap.next``).

The primitives charge their cost between the read of ``head->first`` and the cmpxchg/xchg that publishes, so a
context that runs in between (an interrupt on this CPU, another CPU in simulated-time order) sees what the
kernel would: ``llist_add`` retries, ``llist_del_first`` by a second consumer can succeed with a stale
``next`` (the ABA problem llist.h warns about), an unsafe splice loses entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

    def llist_add_batch(self, cpu: CPU, pages: list[int]) -> None:
        """``llist_add_batch()``: link the batch privately, then one cmpxchg loop on the head."""
        if not pages:
            return
        nxt = self.next
        for a, b in zip(pages, pages[1:]):
            nxt[a] = b
        last = pages[-1]
        while True:
            self.engine.sync(cpu)
            first = self.first
            nxt[last] = first
            cpu.atomic()
            if self.first == first:
                self.first = pages[0]
                return

    def llist_splice_unsafe(self, cpu: CPU, pages: list[int]) -> None:
        """The unsafe batch free: ``tail->next = head->first; head->first = batch`` without an atomic, so an
        ``llist_add`` that lands in between is lost."""
        if not pages:
            return
        nxt = self.next
        for a, b in zip(pages, pages[1:]):
            nxt[a] = b
        self.engine.sync(cpu)
        nxt[pages[-1]] = self.first
        cpu.charge(self.k.prices.llist_add)
        self.engine.sync(cpu)
        self.first = pages[0]

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

    def llist_del_all(self, cpu: CPU) -> list[int]:
        """``llist_del_all()``: ``xchg(&head->first, NULL)``; returns the chain newest first."""
        self.engine.sync(cpu)
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
