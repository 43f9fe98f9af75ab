"""What plugin authors import: the records a plugin registers and the building blocks a design is made of.

A design plugin::

    from benchframe.api import ARRAY, BulkAllocator, Design, hookimpl

    class Mine(BulkAllocator):        # __alloc_pages_bulk() as merged in 5.13; override what your patch changes
        shape = ARRAY

    @hookimpl
    def benchframe_register_designs():
        return [Design(name="mine", factory=Mine, description="...")]

A workload plugin registers a ``Workload`` whose ``run(ctx)`` gets a ``RunContext`` (documented in
``benchframe.workloads.context``). The hooks are documented in ``benchframe.hookspecs``.
"""

from __future__ import annotations

from benchframe import BenchframeError, hookimpl
from benchframe.hw.cpu import CPU
from benchframe.hw.frames import IDLE, OTHER_WORK, Frame, Site, symbol
from benchframe.hw.irq import IRQ, NMI_KIND, InterruptSource
from benchframe.hw.locks import SpinLock
from benchframe.hw.topology import Topology
from benchframe.mm.bulk import ARRAY, LIST, BulkAllocator, DesignImpl
from benchframe.mm.fast_alloc import alloc_page_array
from benchframe.mm.llist import NULL, Llist, PrivateList
from benchframe.mm.llist_pcp import LlistAllocator, LlistPcp
from benchframe.mm.page_alloc import Kernel
from benchframe.mm.pcp import PcpList, PcpOps, PerCpuPages
from benchframe.mm.pcp_lock import LocalLockPcp, PcpSpinLock
from benchframe.mm.work import Work
from benchframe.records import (
    MAX_CALLS,
    MAX_CPUS,
    MAX_PAGES,
    SHAPES,
    Design,
    Option,
    Param,
    ProfileSource,
    Study,
    Workload,
)
from benchframe.results import RunResult

__all__ = [
    "ARRAY", "CPU", "IDLE", "IRQ", "LIST", "MAX_CALLS", "MAX_CPUS", "MAX_PAGES", "NMI_KIND", "NULL", "OTHER_WORK",
    "SHAPES", "Frame", "Site", "symbol",
    "BenchframeError", "BulkAllocator", "Design", "DesignImpl", "InterruptSource", "Kernel", "Llist",
    "LlistAllocator", "LlistPcp", "LocalLockPcp", "Option", "Param", "PcpList", "PcpOps", "PcpSpinLock",
    "PerCpuPages", "PrivateList",
    "ProfileSource", "RunResult", "SpinLock", "Study", "Topology", "Work", "Workload", "alloc_page_array",
    "hookimpl",
]
