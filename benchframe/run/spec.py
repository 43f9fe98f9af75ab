"""``RunSpec``: everything that determines a run's result, small and picklable so executors can ship it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

#: seeds one command may run per cell: more is hours of identical-looking work, and a typo more often than not
MAX_SEEDS = 1000
#: cells one command may run (each a RunSpec in memory before the first runs)
MAX_CELLS = 10**6


@dataclass(frozen=True)
class RunSpec:
    """One cell: a design (with options), a workload and its parameters, a seed, a profile and config."""

    design: str  # name, optionally with options: "llist:free=splice"
    workload: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 1
    profile: str | None = None  # registered name or path; None = default
    config: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    kernel: str = "5.13"  # the kernel version (benchframe.kconfig.KERNELS)
    perf: bool = False  # attribute every cycle to the functions the model mirrors (benchframe.hw.perf)
