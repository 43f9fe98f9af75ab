"""Every design's re-entrancy verdicts for the reports and ``benchframe run``, each explored once per model.

``explore`` replays a design's operations once per charge point (0.2-1 s per design and context), too slow to
repeat on every ``benchframe run``. A verdict depends only on the model, the design (with its options), the
kernel version and config, so it is kept on disk under ``$BENCHFRAME_CACHE_DIR`` (default
``$XDG_CACHE_HOME/benchframe`` or ``~/.cache/benchframe``), keyed by those and by a digest of the model's
source (benchframe's own files, the design's modules and the version of every plugin distribution): any edit
of the model explores again. ``BENCHFRAME_CACHE_DIR=off`` explores every time; a cache that cannot be written
is not an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError, __version__
from benchframe.explore.evidence import model_files
from benchframe.explore.explorer import CONTEXTS, explore
from benchframe.io import write_atomic
from benchframe.plugins import get_registry
from benchframe.records import Testbed
from benchframe.results import Verdict, Verdicts
from benchframe.signals import CellTimeout, deadline, describe, init_worker, plugin_exit

if TYPE_CHECKING:
    from benchframe.registry import Registry

def cache_dir() -> Path | None:
    raw = os.environ.get("BENCHFRAME_CACHE_DIR", "")
    if raw.lower() in ("off", "0", "none"):
        return None
    if raw:
        return Path(raw)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "benchframe"


@functools.lru_cache(maxsize=1)
def model_digest() -> str:
    """A digest of benchframe's own source (and version): any edit of the model changes it."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _key(reg: Registry, design_spec: str, context: str, config: tuple[str, ...], kernel: str | None) -> str:
    design, options = reg.design_spec(design_spec)
    h = hashlib.sha256(model_digest().encode())
    for f in sorted(model_files(design)):
        try:
            h.update(Path(f).read_bytes())
        except OSError:
            h.update(f.encode())
    dists = sorted({(p.dist, p.version) for p in reg.plugins})
    h.update(json.dumps([design.name, sorted(options.items()), context, sorted(config), kernel, dists],
                        default=str).encode())
    return h.hexdigest()[:32]


def _cache_path(reg: Registry, design_spec: str, context: str, config: tuple[str, ...],
                kernel: str | None) -> Path | None:
    folder = cache_dir()
    return folder / "explore" / f"{_key(reg, design_spec, context, config, kernel)}.json" if folder else None


def _cached(path: Path | None) -> Verdict | None:
    if path is None or not path.is_file():
        return None
    try:
        return Verdict.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None  # a damaged entry: explore again


def _store(path: Path | None, verdict: Verdict) -> None:
    if path is None or verdict.verdict == "ERROR":
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(verdict.as_dict(), sort_keys=True) + "\n")
    except (OSError, BenchframeError):
        pass  # a read-only home: explore again next time


def _explored(reg: Registry, design_spec: str, context: str, config: tuple[str, ...],
              kernel: str | None, timeout: float | None = None) -> Verdict:
    """Explore one pair; a design that raises, calls ``sys.exit()`` or runs past ``timeout`` seconds (the
    runs' ``--cell-timeout``) gets an ERROR verdict naming what it did, like its runs report it."""
    try:
        with deadline(timeout):
            res = explore(design_spec, context, registry=reg, config=config, kernel=kernel)
        verdict = Verdict(design_spec, context, res.verdict, res.reason, res.explored_points, res.refused,
                          len(res.findings))
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
        self.paths = {p: _cache_path(reg, p[0], p[1], config, kernel) for p in pairs}
        self.found: dict[tuple[str, str], Verdict] = {}
        for p in pairs:
            v = _cached(self.paths[p])
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
            _store(self.paths[p], self.found[p])
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
