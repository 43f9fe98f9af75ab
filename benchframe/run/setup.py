"""``Setup``: what a command runs on and how, parsed and checked once before anything runs: the testbed (cost
profile, kernel version and config, plugins), the seeds, and where the cells run (``Executor``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchframe.kconfig import DEFAULT_KERNEL, KernelConfig
from benchframe.plugins import get_registry
from benchframe.records import Testbed
from benchframe.run.executors import DEFAULT_CELL_TIMEOUT, check_executor

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchframe.registry import Registry
    from benchframe.remote import TLSFiles


@dataclass(frozen=True)
class Executor:
    """Where cells run: ``kind`` (process, serial or dask), the local ``jobs`` (None: one per core), a Dask
    ``scheduler`` with its ``tls`` files, and each cell's wall-clock ``timeout`` in seconds (None or 0: no
    limit)."""

    kind: str = "process"
    jobs: int | None = None
    scheduler: str | None = None
    tls: TLSFiles | None = None
    timeout: float | None = DEFAULT_CELL_TIMEOUT

    @property
    def local_jobs(self) -> int:
        """Local processes for the work besides the cells (uncached verdicts, the plots): ``jobs`` (default: the
        cores), one with the serial executor."""
        return 1 if self.kind == "serial" else self.jobs or os.cpu_count() or 1

    def check(self) -> None:
        """The one-line errors of these options, before anything is run or written."""
        check_executor(self.jobs, self.kind, self.scheduler, self.timeout, self.tls)


@dataclass(frozen=True)
class Setup:
    """A command's testbed, seeds and executor, checked (``parse``)."""

    testbed: Testbed = field(default_factory=Testbed)
    seeds: tuple[int, ...] = (1,)
    executor: Executor = field(default_factory=Executor)

    @classmethod
    def parse(cls, profile: str | None = None, config: Sequence[str] = (), kernel: str | None = DEFAULT_KERNEL,
              plugins: Sequence[str] = (), seeds: Sequence[int] = (1,), executor: Executor | None = None) -> Setup:
        """Check each part with a one-line error, before anything runs: the plugins load (those that fail are
        the registry's errors), the profile exists, the kernel version and config options are known, the
        executor can be used. The config is kept sorted and the kernel by its name, as runs record them."""
        executor = executor or Executor()
        executor.check()
        get_registry(tuple(plugins)).cost_model(profile)
        kconfig = KernelConfig.parse(list(config), kernel)
        return cls(Testbed(profile, tuple(kconfig.as_list()), kconfig.version.name, tuple(plugins)), tuple(seeds),
                   executor)

    def registry(self) -> Registry:
        """The registry of the testbed's plugins (loaded once per process)."""
        return get_registry(self.testbed.plugins)

    def profile_name(self) -> str:
        """The name of the cost profile the runs are simulated with, as they record it."""
        return self.registry().cost_model(self.testbed.profile).name
