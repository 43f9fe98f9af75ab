"""``RunSpec``: everything that determines a run's result, small and picklable so executors can ship it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchframe.kconfig import DEFAULT_KERNEL
from benchframe.records import Testbed

if TYPE_CHECKING:
    from collections.abc import Mapping

#: seeds one command may run per cell: more is hours of identical-looking work, and a typo more often than not
MAX_SEEDS = 1000
#: cells one command may run (each a RunSpec in memory before the first runs)
MAX_CELLS = 10**6


@dataclass(frozen=True)
class RunSpec:
    """One cell: a design (with options), a workload and its parameters, a seed, on a testbed (profile, kernel
    config, kernel version, plugins: flat fields, as the asv suite of every past commit builds them)."""

    design: str  # name, optionally with options: "llist:free=splice"
    workload: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 1
    profile: str | None = None  # registered name or path; None = default
    config: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    kernel: str = DEFAULT_KERNEL  # the kernel version (benchframe.kconfig.KERNELS)
    perf: bool = False  # attribute every cycle to the functions the model mirrors (benchframe.hw.perf)
    #: costs of the profile replaced, ``(name, value)``: a draw of its fitted prices (the model check)
    prices: tuple[tuple[str, float], ...] = ()

    @classmethod
    def on(cls, testbed: Testbed, design: str, workload: str, params: Mapping[str, Any], seed: int) -> RunSpec:
        """The cell of ``design`` on ``workload`` at ``params`` and ``seed`` on ``testbed``."""
        return cls(design=design, workload=workload, params=params, seed=seed, profile=testbed.profile,
                   config=testbed.config, plugins=testbed.plugins, kernel=testbed.kernel)

    @property
    def testbed(self) -> Testbed:
        return Testbed(self.profile, self.config, self.kernel, self.plugins)
