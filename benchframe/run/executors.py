"""Running a list of cells on an executor: in-process, a local process pool (``--jobs N``) or a Dask
distributed cluster (``--executor dask``, ``--scheduler tcp://HOST:PORT``).

A cell is a ``RunSpec``; its result is a ``RunResult``, or a ``CellFailure`` when a plugin raised, exited or
hung in it. The simulation is deterministic, so results do not depend on the executor or on how many
workers ran them; callers get them in spec order (``run_specs``) or as they finish (``iter_results``).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.plugins import get_registry
from benchframe.remote import TLSFiles, check_remote, connect
from benchframe.results import CellFailure, RunResult
from benchframe.run.runner import PluginRunError, run_one
from benchframe.signals import CellTimeout, deadline, init_worker

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from benchframe.run.spec import RunSpec

__all__ = ["EXECUTORS", "TLSFiles", "check_executor", "iter_results", "run_cell", "run_cells", "run_specs",
           "seed_groups"]

EXECUTORS = ("process", "serial", "dask")
#: local worker processes at most (each one a Python interpreter with the simulator: about 100 MB)
MAX_JOBS = 256


#: default ``--cell-timeout`` in seconds: the largest cells the parameter bounds allow take minutes; a cell
#: still running after this hangs
DEFAULT_CELL_TIMEOUT = 600.0


#: what a cell gives
Outcome = RunResult | CellFailure


def run_cell(spec: RunSpec, timeout: float | None = None) -> Outcome:
    """Worker entry point: one run, or the failure naming the plugin whose design raised or hung past
    ``timeout`` seconds of wall-clock time. Bad input (a ``BenchframeError``) propagates: the whole command
    fails with it."""
    try:
        with deadline(timeout):
            return run_one(spec)
    except PluginRunError as exc:
        return exc.failure
    except CellTimeout as exc:  # outside the design's and workload's code (the invariant checks, the metrics)
        return CellFailure("", spec.design, spec.workload,
                           f"cell {spec.design} x {spec.workload} {dict(spec.params)} seed {spec.seed}: {exc}")


def check_executor(jobs: int | None, executor: str, scheduler: str | None, timeout: float | None = None,
                   tls: TLSFiles | None = None) -> None:
    """The executor arguments' one-line errors, before anything is run or written."""
    if timeout is not None and not 0 <= timeout < float("inf"):
        raise BenchframeError(f"--cell-timeout must be a number of seconds (0: no limit), not {timeout:g}")
    if executor not in EXECUTORS:
        raise BenchframeError(f"--executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if jobs is not None and jobs < 1:
        raise BenchframeError(f"--jobs must be at least 1, not {jobs}")
    if jobs is not None and jobs > MAX_JOBS:
        raise BenchframeError(f"--jobs {jobs} is over its bound of {MAX_JOBS} local workers")
    if scheduler is not None:
        check_remote(scheduler, tls)
    elif tls is not None and tls.given():
        raise BenchframeError("--tls-ca-file/--tls-cert/--tls-key need a --scheduler tls://HOST:PORT")


def run_cells(specs: list[RunSpec], timeout: float | None = None) -> list[Outcome]:
    """``run_cell`` over a chunk of cells: one Dask task."""
    return [run_cell(spec, timeout) for spec in specs]


def seed_groups(specs: list[RunSpec]) -> list[list[int]]:
    """The cells that are one run: those that differ only in their seed where the workload declares the run
    unseeded (``Workload.seeded``) give the same result, so each group (indices into ``specs``, the first one
    run) is run once."""
    groups: dict[Any, list[int]] = {}
    for i, spec in enumerate(specs):
        key: Any = i
        try:
            workload = get_registry(spec.plugins).workload(spec.workload)
            seeded = workload.uses_seed(workload.resolve_params(spec.params))
        except BenchframeError:
            seeded = True  # an unknown workload or plugin, bad parameters: the run itself reports it
        if not seeded:
            key = (spec.design, spec.workload, json.dumps(dict(spec.params), sort_keys=True, default=str),
                   spec.profile, spec.config, spec.plugins, spec.kernel, spec.prices)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def iter_results(specs: list[RunSpec], jobs: int | None = None, executor: str = "process",
                 scheduler: str | None = None, dask_processes: bool = True,
                 timeout: float | None = DEFAULT_CELL_TIMEOUT,
                 tls: TLSFiles | None = None) -> Iterator[tuple[int, Outcome]]:
    """Yield ``(index, result)`` as cells finish. ``dask_processes=False`` makes the LocalCluster's workers
    threads of this process (faster to start; each cell's greenlets live in its worker thread). A cell still
    running after ``timeout`` seconds (``None``: no limit) is that cell's error. ``tls``: the certificate files
    of a ``tls://`` scheduler. Cells that differ only in the seed of a workload that does not use it
    (``seed_groups``) are run once; each gets that result under its own seed."""
    check_executor(jobs, executor, scheduler, timeout, tls)
    groups = seed_groups(specs)
    for j, result in _iter_unique([specs[g[0]] for g in groups], jobs, executor, scheduler, dask_processes,
                                  timeout, tls):
        for i in groups[j]:
            yield i, (result.model_copy(update={"seed": specs[i].seed}, deep=True) if isinstance(result, RunResult)
                      else result)


def _iter_unique(specs: list[RunSpec], jobs: int | None, executor: str, scheduler: str | None,
                 dask_processes: bool, timeout: float | None,
                 tls: TLSFiles | None) -> Iterator[tuple[int, Outcome]]:
    if scheduler and executor != "dask":
        executor = "dask"
    jobs = jobs or os.cpu_count() or 1
    if not specs:  # e.g. a resumed sweep with nothing left: no pool, no cluster
        return
    if executor == "serial" or (executor == "process" and (jobs == 1 or len(specs) < 2)):
        for i, spec in enumerate(specs):
            yield i, run_cell(spec, timeout)
        return
    if executor == "process":
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs, initializer=init_worker, initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(run_cell, spec, timeout): i for i, spec in enumerate(specs)}
            try:
                for fut in as_completed(futures):
                    yield futures[fut], fut.result()
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
        return
    yield from _dask(specs, jobs, scheduler, dask_processes, timeout, tls)


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while worker processes are started: an ignored signal stays ignored across exec, and
    Python then installs no KeyboardInterrupt handler, so the LocalCluster's workers leave Ctrl-C to this
    process. (A Ctrl-C during those seconds is lost: press it again.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


#: at most this many cells per Dask task (fewer when there are few cells per worker)
DASK_CHUNK = 8


def _dask(specs: list[RunSpec], jobs: int, scheduler: str | None, processes: bool = True,
          timeout: float | None = None, tls: TLSFiles | None = None) -> Iterator[tuple[int, Outcome]]:
    """Cells on a Dask cluster: ``scheduler``'s, or a LocalCluster of ``jobs`` single-threaded workers.

    Each task runs a small chunk of cells with ``run_cells`` (pure functions of frozen, picklable ``RunSpec``s;
    one task per cell spent as much time in Dask as in the simulation); the workers build their own registry
    from ``spec.plugins``. ``pure=False`` gives every task its own key, so equal specs are still separate
    results in spec order. An interrupted sweep loses at most the chunks in flight."""
    try:
        from dask.distributed import CancelledError, Client, LocalCluster, as_completed
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise BenchframeError("--executor dask needs dask.distributed: pip install 'benchframe[dask]'") from None
    cluster = None
    try:
        if scheduler:
            client = connect(scheduler, tls)
        else:
            # silence_logs: the workers' shutdown chatter (a heartbeat racing the scheduler's close) is not
            # the user's business; a failing cell still surfaces through fut.result()
            try:
                with warnings.catch_warnings(), sigint_ignored():  # "Port 8787 is already in use": fine
                    warnings.simplefilter("ignore", UserWarning)
                    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=processes,
                                           dashboard_address=None, silence_logs=logging.CRITICAL)
            except (OSError, RuntimeError, TimeoutError) as exc:
                raise BenchframeError(f"--executor dask: cannot start a LocalCluster: {exc}") from None
            client = Client(cluster)
        with client:
            workers = max(1, sum(client.nthreads().values()))
            size = max(1, min(DASK_CHUNK, len(specs) // (4 * workers)))
            starts = range(0, len(specs), size)
            futures = client.map(run_cells, [specs[i:i + size] for i in starts], timeout=timeout, pure=False)
            first = {f.key: i for f, i in zip(futures, starts)}
            try:
                for fut, results in as_completed(futures, with_results=True):  # results fetched in batches
                    for j, result in enumerate(results):
                        yield first[fut.key] + j, result
            except (OSError, KilledWorker, CancelledError) as exc:  # the cluster, not a cell, failed
                where = scheduler or "LocalCluster"
                raise BenchframeError(f"dask cluster {where} failed: {type(exc).__name__}: {exc}") from None
    finally:
        if cluster is not None:
            cluster.close()


def run_specs(specs: list[RunSpec], jobs: int | None = None, executor: str = "process",
              scheduler: str | None = None, progress: Callable[[int], object] | None = None,
              on_result: Callable[[int, Outcome], None] | None = None,
              timeout: float | None = DEFAULT_CELL_TIMEOUT, tls: TLSFiles | None = None) -> list[Outcome]:
    """Run every cell; results in spec order whatever the executor.

    ``on_result(index, result)`` is called in the parent process as each cell finishes (in completion order),
    e.g. to save it at once; ``progress(1)`` likewise, for a progress bar."""
    out: list[Outcome | None] = [None] * len(specs)
    for i, result in iter_results(specs, jobs, executor, scheduler, timeout=timeout, tls=tls):
        out[i] = result
        if on_result:
            on_result(i, result)
        if progress:
            progress(1)
    return out  # type: ignore[return-value]
