"""Shared helpers for the core tests: the default cost model and small simulated kernels."""

from __future__ import annotations

import pytest

from benchframe.hw.costs import DEFAULT_PROFILE, builtin_profile_paths, load_profile_file
from benchframe.hw.machine import Machine
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.page_alloc import Kernel

COSTS = load_profile_file(builtin_profile_paths()[DEFAULT_PROFILE])


def boot_kernel(normal_pages: int = 4096, cpus: int = 1, preempt_rt: bool = False) -> Kernel:
    """A kernel on a UMA machine with one Normal zone of ``normal_pages`` pages and the 5.13 pcp protocol."""
    config = KernelConfig.parse(["PREEMPT_RT"] if preempt_rt else [])
    return Kernel(Machine(COSTS, Topology.uma(cpus=cpus, normal_pages=normal_pages), preempt_rt), config)


# A design plugin whose alloc_bulk raises: the plugin's fault, reported by name with exit 1 (not bad input).
RAISER = (
    "from benchframe import hookimpl\nfrom benchframe.api import ARRAY, BulkAllocator, Design\n"
    "class R(BulkAllocator):\n    shape = ARRAY\n"
    "    def alloc_bulk(self, *a, **k):\n        raise ValueError('broken')\n"
    "@hookimpl\ndef benchframe_register_designs():\n"
    "    return [Design(name='raiser', factory=R, description='x')]\n")


@pytest.fixture
def raiser_plugin(tmp_path):
    """Path of a plugin file registering design ``raiser``, whose alloc_bulk raises ValueError('broken')."""
    path = tmp_path / "raiser.py"
    path.write_text(RAISER)
    return path
