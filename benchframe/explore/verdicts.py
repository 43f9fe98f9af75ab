"""Every design's exploration verdicts for the reports and ``benchframe run``, each explored once per model.

``explore`` replays a design's operations once per charge point, too slow to repeat on every ``benchframe run``.
A verdict depends only on the model, the design (with its options), the kernel version and config, so it is
cached on disk, each entry validated before it is trusted (``benchframe.explore.cache``). A verdict is explored
up to the first interleaving that breaks the design (``explore(first_only=True)``: the verdict and the
interleaving ``benchframe explore`` reports first); ``benchframe explore`` lists every one.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.explore.cache import VerdictCache
from benchframe.explore.explorer import explore
from benchframe.plugins import get_registry
from benchframe.records import Testbed
from benchframe.signals import CellTimeout, deadline, describe, init_worker, plugin_exit
from benchframe.verdict import CONTEXTS, Verdict, Verdicts

if TYPE_CHECKING:
    from benchframe.registry import Registry

def explore_verdict(reg: Registry, design_spec: str, context: str, config: tuple[str, ...] = (),
                    kernel: str | None = None, timeout: float | None = None) -> Verdict:
    """The design's verdict against one ``context``, from the cache or explored (and cached)."""
    cache = VerdictCache(reg, config, kernel)
    verdict = cache.load(design_spec, context) or _explored(reg, design_spec, context, config, kernel, timeout)
    cache.store(verdict)
    return verdict


def _explored(reg: Registry, design_spec: str, context: str, config: tuple[str, ...],
              kernel: str | None, timeout: float | None = None) -> Verdict:
    """Explore one pair; a design that raises, calls ``sys.exit()`` or runs past ``timeout`` seconds (the
    runs' ``--cell-timeout``) gets an ERROR verdict naming what it did, like its runs report it."""
    try:
        with deadline(timeout):
            res = explore(design_spec, context, registry=reg, config=config, kernel=kernel, first_only=True)
        verdict = Verdict(design_spec, context, res.verdict, res.reason, res.explored_points, res.refused,
                          len(res.findings), res.stance, tuple(res.covered), tuple(res.not_covered))
    except BenchframeError as exc:
        return Verdict(design_spec, context, "ERROR", str(exc))
    except CellTimeout:
        return Verdict(design_spec, context, "ERROR", f"no verdict within {timeout:g} s (--cell-timeout)")
    except BaseException as exc:  # the plugin's fault: its runs report it by name, the verdict says so
        if isinstance(exc, Exception) or plugin_exit(exc):
            return Verdict(design_spec, context, "ERROR", describe(exc))
        raise  # the user's Ctrl-C
    return verdict


def _explore_in_worker(plugins: tuple[str, ...], design_spec: str, context: str, config: tuple[str, ...],
                       kernel: str | None, timeout: float | None) -> Verdict:
    """One verdict in a worker process (its own registry, the parent's plugins; ``init_worker``: Ctrl-C is the
    parent's, and the worker dies with it)."""
    return _explored(get_registry(plugins), design_spec, context, config, kernel, timeout)


class PendingVerdicts:
    """Every design's verdicts against each context, being explored: those in the cache are read at once, the
    others (with ``jobs`` > 1) start on their own ``jobs`` processes, so they run while the caller runs its cells;
    ``result()`` waits for them (or, with one job, explores them then). Use it as a context manager: leaving
    it early (an error, Ctrl-C) cancels what has not started."""

    def __init__(self, designs: list[str], reg: Registry, testbed: Testbed | None = None, jobs: int = 1,
                 timeout: float | None = None):
        testbed = testbed or Testbed()
        config, kernel, plugins = testbed.config, testbed.kernel, testbed.plugins  # the profile is not the model's
        self.designs = designs
        self.args = (reg, config, kernel, timeout)
        pairs = [(d, c) for d in designs for c in CONTEXTS]
        self.cache = VerdictCache(reg, config, kernel)
        self.found: dict[tuple[str, str], Verdict] = {}
        for p in pairs:
            v = self.cache.load(*p)
            if v is not None:
                self.found[p] = v
        self.todo = [p for p in pairs if p not in self.found]
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[tuple[str, str], Future[Verdict]] = {}
        self.workers: list[multiprocessing.process.BaseProcess] = []
        if jobs > 1 and len(self.todo) > 1:
            before = set(multiprocessing.active_children())
            self.pool = ProcessPoolExecutor(max_workers=min(jobs, len(self.todo)), initializer=init_worker,
                                            initargs=(os.getpid(),))
            self.futures = {p: self.pool.submit(_explore_in_worker, plugins, p[0], p[1], config, kernel, timeout)
                            for p in self.todo}
            self.workers = [w for w in multiprocessing.active_children() if w not in before]  # started by now

    def __enter__(self) -> PendingVerdicts:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close(abandon=exc_type is not None)

    def close(self, abandon: bool = False) -> None:
        """Cancel the explorations not started and let the pool go; ``abandon`` (leaving on an error or Ctrl-C):
        stop the running ones too -- nothing waits for their verdicts."""
        if self.pool is None:
            return
        if abandon:  # the pool finds its workers gone and fails every future (cancelled ones it cannot fail)
            self.pool.shutdown(wait=False)
            for worker in self.workers:
                worker.terminate()
        else:
            for future in self.futures.values():
                future.cancel()
            self.pool.shutdown(wait=False)
        self.pool = None

    def result(self) -> Verdicts:
        reg, config, kernel, timeout = self.args
        for p in self.todo:
            future = self.futures.get(p)
            self.found[p] = future.result() if future else _explored(reg, p[0], p[1], config, kernel, timeout)
            self.cache.store(self.found[p])
        self.close()
        return {d: {c: self.found[(d, c)] for c in CONTEXTS} for d in self.designs}


def design_verdicts(designs: list[str], reg: Registry, testbed: Testbed | None = None, jobs: int = 1,
                    timeout: float | None = None) -> Verdicts:
    """Every design's verdicts against each context (``PendingVerdicts``, waited for) on the testbed's kernel
    version and config: with ``jobs`` > 1 those not cached are explored on that many processes (they load the
    testbed's ``--plugin`` paths). ``timeout``: seconds one design and context may take (the runs'
    ``--cell-timeout``), after which its verdict is ERROR."""
    with PendingVerdicts(designs, reg, testbed, jobs, timeout) as pending:
        return pending.result()
