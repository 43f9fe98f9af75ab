"""Workloads: callers of the bulk API modelled on the kernel. Each module defines ``WORKLOAD``; this package
registers them like a plugin would."""

from __future__ import annotations

from benchframe import hookimpl
from benchframe.workloads import (
    contention,
    irq_latency,
    nmi,
    numa,
    page_bench04,
    page_pool,
    pagealloc,
    sunrpc,
    trace,
)

BUILTIN = (page_bench04, pagealloc, page_pool, sunrpc, irq_latency, contention, numa, nmi, trace)


@hookimpl
def benchframe_register_workloads():
    return [module.WORKLOAD for module in BUILTIN]
