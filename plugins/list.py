"""``list``: ``alloc_pages_bulk_list()`` as merged in 5.13 (387ba26fb1cb).

One ``local_irq_save`` section around the loop; per page ``__rmqueue_pcplist`` + ``zone_statistics`` +
``prep_new_page`` inside it; pages go onto the caller's list through ``page->lru``. Returns the number
allocated. Everything is the 5.13 building block; only the shape differs from ``array``.
"""

from __future__ import annotations

from benchframe import hookimpl
from benchframe.api import LIST, BulkAllocator, Design


class BulkList(BulkAllocator):
    shape = LIST


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="list",
        factory=BulkList,
        description="5.13 alloc_pages_bulk_list(): IRQs off around the loop, prep in loop, pages on page->lru",
        models="__alloc_pages_bulk() 5.13 (387ba26fb1cb), list interface",
    )]
