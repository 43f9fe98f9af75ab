"""``single``: the baseline before 5.13 — one ``alloc_pages()`` per page.

Every page pays the whole single-page path: ``__alloc_pages`` -> ``get_page_from_freelist`` (zonelist walk and
watermark check) -> ``rmqueue_pcplist`` with its own ``local_irq_save``/``restore``. This is what
``svc_alloc_arg()`` did before f6e70aab9dfe (a loop of ``alloc_page(GFP_KERNEL)`` over NULL ``rq_pages`` slots).
"""

from __future__ import annotations

from benchframe import hookimpl
from benchframe.api import ARRAY, Design, DesignImpl, alloc_page_array


class Single(DesignImpl):
    shape = ARRAY
    bulk_api = False  # the callers' pre-5.13 code: one alloc_page() (or alloc_pages_node()) per page

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None) -> int:
        """``for (i = 0; i < nr_pages; i++) if (!page_array[i]) page_array[i] = alloc_page(gfp);`` -- or
        ``alloc_pages_node(preferred_nid, gfp, 0)``, which skips the NUMA policy lookup."""
        k = self.k
        k.stat.bulk_calls += 1
        store = k.prices.array_store
        scan = k.prices.array_scan
        if k.fused_alloc:  # the loop below, alloc_page()'s common case inlined (benchframe.mm.fast_alloc)
            return alloc_page_array(k, cpu, gfp, nr_pages, page_array, preferred_nid, scan, store)
        mempolicy = preferred_nid is None
        populated = 0
        for i in range(max(nr_pages, 0)):
            cpu.charge(scan)
            if page_array[i] is not None:
                populated += 1
                continue
            page = k.alloc_pages(cpu, gfp, 0, preferred_nid, mempolicy=mempolicy)
            if page is None:
                k.stat.partial_returns += 1
                break
            page_array[i] = page
            cpu.charge(store)
            populated += 1
        return populated


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="single",
        factory=Single,
        description="baseline: one alloc_pages() per page (pre-5.13 callers)",
        models="__alloc_pages() per page, 5.13 single-page path",
    )]
