"""What a workload programs against, and the one harness every driver of a design shares.

* ``Harness`` (``benchframe.workloads.harness``) boots a simulated machine and kernel that run one design and
  checks the DESIGN §7 invariants, including the design's own (its plugins' ``benchframe_check_invariants``
  hooks). Runs, ``benchframe explore`` and the conformance kit all drive a design through it.
* ``Caller`` (``benchframe.workloads.caller``, its state and checks in ``benchframe.workloads.hands``) is one
  kernel caller of the bulk API on one CPU (the page_pool, ``svc_alloc_arg()``, a benchmark loop): it pays for
  the conversion a real caller would make between the design's shape and its own, keeps the pages in the
  caller's hands, adds what it spent to the ``Measurement``, and records a violation when a call returns a wrong
  count, hands a page out twice or leaves the IRQ/preempt state unbalanced.
* ``RunContext``, defined here, is what a workload's ``run(ctx)`` gets: a ``Harness`` with the workload's
  parameters, a seeded RNG and ``record()`` for the workload's own metrics.

``Harness``, ``Caller`` and ``DesignContractError`` are re-exported here, where workloads, plugins and tests import
them from.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.metrics import metric
from benchframe.workloads.caller import Caller
from benchframe.workloads.hands import DesignContractError
from benchframe.workloads.harness import Harness

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.hw.costs import CostModel
    from benchframe.hw.topology import Topology
    from benchframe.kconfig import KernelConfig
    from benchframe.records import Design, Workload
    from benchframe.registry import Registry

__all__ = ["Caller", "DesignContractError", "Harness", "RunContext", "WorkloadContractError"]


class WorkloadContractError(Exception):
    """A workload used what it declared it does not (the seed of a ``seeded=False`` workload)."""


class RunContext(Harness):
    """What a workload's ``run(ctx)`` works with: the booted machine and kernel (``ctx.machine``,
    ``ctx.kernel``, ``ctx.cpus``), the design (``ctx.impl``), its parameters (``ctx.params``), a seeded RNG
    (``ctx.rng``), callers (``ctx.caller(cpu)``), what they measured (``ctx.measurement``) and ``record()``
    for the workload's own metrics."""

    def __init__(self, design: Design, options: Mapping[str, Any], workload: Workload, params: dict[str, Any],
                 seed: int, costs: CostModel, config: KernelConfig, topology: Topology,
                 registry: Registry | None = None, perf: bool = False):
        super().__init__(design, options, costs, config, topology, registry, perf=perf)
        self.workload = workload
        self.params = params
        self._seed = seed
        self._rng = random.Random(seed)
        self.extra: dict[str, Any] = {}

    @property
    def seed(self) -> int:
        """The run's seed (a run its workload declares unseeded may not read it: ``Workload.seeded``)."""
        self._check_seeded("ctx.seed")
        return self._seed

    @property
    def rng(self) -> random.Random:
        """A ``random.Random`` seeded with the run's seed (not for a run declared unseeded: ``Workload.seeded``)."""
        self._check_seeded("ctx.rng")
        return self._rng

    def _check_seeded(self, what: str) -> None:
        if not self.workload.uses_seed(self.params):
            shown = "" if self.workload.seeded is False else " with these parameters"
            raise WorkloadContractError(f"workload {self.workload.name} is declared seeded=False{shown} but reads "
                                        f"{what}: its runs would differ by seed, yet one run stands for every seed")

    def record(self, name: str, value: Any) -> None:
        """Record one of the workload's own metrics (declared in ``Workload.metrics``)."""
        if metric(name, self.workload) is None:
            raise BenchframeError(f"workload {self.workload.name} records undeclared metric {name!r}")
        self.extra[name] = value
