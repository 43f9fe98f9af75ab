"""``twopass``: "prep new pages with IRQs enabled", the v3-v5 postings of the bulk allocator (Mar 2021).

Pages are taken off the pcp list with IRQs disabled; ``prep_new_page()`` runs in a second pass over the
caller's list after ``local_irq_restore()``, shortening the IRQs-off window by the prep cost at the price of a
list walk. Because the second pass preps *the whole list*, the caller's list must be empty on entry — the
limitation that made v6 drop the idea ("limited how the API could be used (e.g. list must be empty)").
"""

from __future__ import annotations

from benchframe import BenchframeError, hookimpl
from benchframe.api import LIST, BulkAllocator, Design


class TwoPass(BulkAllocator):
    shape = LIST
    prep_in_loop = False

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None) -> int:
        if page_list and not self.version.bulk_list_must_be_empty:  # v3/v4 as posted refuse it themselves
            raise BenchframeError(
                f"twopass: the caller's list must be empty on entry (it holds {len(page_list)} pages); the "
                "second pass preps every page on it")
        return super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array,
                                  preferred_nid=preferred_nid)

    def prep(self, cpu, page, gfp) -> None:
        """Second pass: ``list_for_each_entry(page, page_list, lru) prep_new_page(page, 0, gfp, 0);`` -- each
        step a dependent load of the next struct page, which the first pass touched before."""
        k = self.k
        cpu.charge(k.prices.list_next + k.cache.touch(cpu, page))
        super().prep(cpu, page, gfp)


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="twopass",
        factory=TwoPass,
        description="v3-v5: pages taken with IRQs off, prep_new_page() in a second pass with IRQs on",
        models="[PATCH 0/5 v3] Prep new pages with IRQs enabled (lore 20210311114935.11379)",
        constraints="list must be empty on entry",
    )]
