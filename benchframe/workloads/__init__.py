"""Workloads: callers of the bulk API modelled on the kernel. Each module defines ``WORKLOAD``; this package
registers them like a plugin would."""

from __future__ import annotations

from benchframe import hookimpl
from benchframe.workloads import page_bench04

BUILTIN = (page_bench04,)


@hookimpl
def benchframe_register_workloads():
    return [module.WORKLOAD for module in BUILTIN]
