"""Adversarial callers: what an interrupt handler, a task that preempts another, or a second CPU asks of the
allocator when it is chosen to hurt -- sized from the state of the per-CPU list at the moment it runs.

A fixed handler size (one page, 64 pages) finds the bugs that any size finds. The ones it misses depend on the
state the interrupted code saw: a ``pcp->count`` read before IRQs are disabled is stale only if the handler
leaves the list with fewer pages than the count said -- exactly the pages on the list (it empties the list
without a refill), one more (empties it and refills), one fewer (leaves one); a refill batch is the size at
which ``rmqueue_bulk()`` runs on an empty list; and enough frees to reach ``pcp->high`` make the handler drain
the list under the interrupted code (``free_pcppages_bulk()``). ``benchframe explore`` and the conformance
kit's state machine draw from the same ``MOVES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchframe.mm.page import GFP_ATOMIC, gfp_migratetype

if TYPE_CHECKING:
    from benchframe.mm.pcp import PerCpuPages

ALLOC = "alloc"
FREE = "free"
ALLOC_FREE = "alloc, free the first"  # llist.h's ABA: a page taken and given back (llist_del_first, llist_add)
#: the size rules, simplest first; the state-dependent ones read the pcp at the moment the caller runs
FIXED = "fixed"
COUNT = "pcp->count"
COUNT_MORE = "pcp->count + 1"
COUNT_LESS = "pcp->count - 1"
BATCH = "pcp->batch"
HIGH = "up to pcp->high"


@dataclass(frozen=True)
class PcpState:
    """What an adversary reads of the per-CPU list it is about to hit."""

    count: int  # pcp->count
    listed: int  # the pages on the list the allocation takes from (its migrate type)
    batch: int
    high: int

    @classmethod
    def of(cls, pcp: PerCpuPages) -> PcpState:
        lst = pcp.lists[gfp_migratetype(GFP_ATOMIC)]
        return cls(pcp.count, len(lst), pcp.batch, pcp.high)


@dataclass(frozen=True)
class Move:
    """One thing an adversary does: allocate (a bulk call), free pages it holds, or allocate and free the first
    page again; how many is ``fixed`` or follows ``rule`` from the state it finds."""

    kind: str
    rule: str = FIXED
    fixed: int = 0

    def size(self, state: PcpState) -> int:
        """The number of pages for ``state`` (0: nothing to do there, e.g. one fewer than an empty list)."""
        if self.rule == FIXED:
            return self.fixed
        if self.rule == HIGH:  # free_unref_page_commit() drains once count >= high after the add
            return max(1, state.high - state.count)
        return max(0, {COUNT: state.count, COUNT_MORE: state.count + 1, COUNT_LESS: state.count - 1,
                       BATCH: state.batch}[self.rule])

    @property
    def name(self) -> str:
        what = f"{self.fixed}" if self.rule == FIXED else self.rule
        if self.kind == ALLOC:
            return f"alloc {what}" if self.rule == FIXED and self.fixed < 4 else f"alloc_bulk({what})"
        if self.kind == FREE:
            return f"free {what}"
        return f"alloc {what}, free the first"

    @property
    def stateful(self) -> bool:
        return self.rule != FIXED


#: every move, simplest first (the first that breaks a design is the one reported): today's fixed sizes, then
#: the sizes read from the state
MOVES: tuple[Move, ...] = (
    Move(ALLOC, fixed=1),
    Move(FREE, fixed=1),
    Move(ALLOC_FREE, fixed=2),
    Move(ALLOC, fixed=4),
    Move(ALLOC, COUNT),
    Move(ALLOC, COUNT_LESS),
    Move(ALLOC, COUNT_MORE),
    Move(ALLOC, BATCH),
    Move(FREE, HIGH),
    Move(ALLOC, fixed=64),  # a page_pool refill (PP_ALLOC_CACHE_REFILL): takes the whole warm list
)


def spare_pages(high: int) -> int:
    """Pages an adversary must hold to free its way up to ``pcp->high`` from an empty list."""
    return high + 1


__all__ = ["ALLOC", "ALLOC_FREE", "FREE", "MOVES", "Move", "PcpState", "spare_pages"]
