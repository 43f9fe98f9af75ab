"""``array``: ``alloc_pages_bulk_array()`` as merged in 5.13 (0f87d9d30f21 + b08e50dd6448 + ff4b2b4014cb).

``nr_pages`` is the array size; only NULL slots are filled, populated slots are skipped and counted; returns
the number of populated slots — a fully populated array returns its size, not 0 (the 5.13 NFSD regression
fixed by ff4b2b4014cb). Everything else is the 5.13 building block.
"""

from __future__ import annotations

from benchframe import hookimpl
from benchframe.api import ARRAY, BulkAllocator, Design


class BulkArray(BulkAllocator):
    shape = ARRAY


@hookimpl
def benchframe_register_designs():
    return [Design(
        name="array",
        factory=BulkArray,
        description="5.13 alloc_pages_bulk_array(): fills NULL slots, returns populated count",
        models="__alloc_pages_bulk() 5.13 (0f87d9d30f21, ff4b2b4014cb), array interface",
    )]
