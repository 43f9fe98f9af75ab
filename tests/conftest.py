"""Shared helpers for the core tests: the default cost model and small simulated kernels."""

from __future__ import annotations

from benchframe.engine import Engine
from benchframe.hw.costs import DEFAULT_PROFILE, builtin_profile_paths, load_profile_file
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.page_alloc import Kernel

COSTS = load_profile_file(builtin_profile_paths()[DEFAULT_PROFILE])


def boot_kernel(normal_pages: int = 4096, cpus: int = 1, preempt_rt: bool = False) -> Kernel:
    """A kernel on a UMA machine with one Normal zone of ``normal_pages`` pages and the 5.13 pcp protocol."""
    config = KernelConfig.parse(["PREEMPT_RT"] if preempt_rt else [])
    return Kernel(Engine(COSTS, preempt_rt=preempt_rt), Topology.uma(cpus=cpus, normal_pages=normal_pages), config)
