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
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.explore.cache import VerdictCache
from benchframe.explore.explorer import CONTEXTS, explore
from benchframe.interrupts import CellTimeout, deadline, describe, init_worker, plugin_exit
from benchframe.plugins import get_registry

if TYPE_CHECKING:
    from benchframe.registry import Registry

#: the contexts against which an UNSAFE verdict disqualifies a design's costs: an interrupt on the same CPU
#: (allocating from a hardirq is allowed: GFP_ATOMIC), a second CPU and preemption; not an NMI, from which no
#: page allocator may allocate (the single-page path itself is UNSAFE there)
DISQUALIFYING = ("irq", "smp", "preempt")
#: how the reports say it
DISQUALIFYING_TEXT = "against an IRQ on the same CPU, an operation on another CPU or preemption"
UNSAFE_MARK = "[UNSAFE]"


@dataclass(frozen=True)
class Verdict:
    """One design's verdict against one context: ``SAFE``, ``UNSAFE`` or ``ERROR`` (explore could not run it),
    the reason (the simplest failing case, or what a SAFE design refuses), the extent of the search (what it
    covered and not), and the stance the design declares there (``benchframe.explore.stance``)."""

    design: str
    context: str
    verdict: str
    reason: str
    explored_points: int = 0
    refused: int = 0
    failing_pairs: int = 0
    stance: str = "safe"
    covered: tuple[str, ...] = field(default_factory=tuple)
    not_covered: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["covered"], out["not_covered"] = list(self.covered), list(self.not_covered)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k in ("covered", "not_covered"):
            if k in kw:
                kw[k] = tuple(kw[k])
        return cls(**kw)

    @classmethod
    def checked(cls, d: Any) -> Verdict | None:
        """``from_dict`` of a dict with every field of its type, else None."""
        if not isinstance(d, dict) or set(d) != {f.name for f in fields(cls)}:
            return None
        texts = ("design", "context", "verdict", "reason", "stance")
        if not all(isinstance(d[k], str) for k in texts):
            return None
        if not all(type(d[k]) is int and d[k] >= 0 for k in ("explored_points", "refused", "failing_pairs")):
            return None
        if not all(isinstance(d[k], list) and all(isinstance(x, str) for x in d[k]) for k in ("covered",
                                                                                             "not_covered")):
            return None
        return cls.from_dict(d)

    @property
    def accepted(self) -> bool:
        """An UNSAFE verdict the design declares (``stance`` "unsafe"), or not UNSAFE."""
        return self.verdict != "UNSAFE" or self.stance == "unsafe"


#: per design, its verdicts by context
Verdicts = dict[str, dict[str, Verdict]]


def unsafe(verdicts: dict[str, Verdict] | None) -> bool:
    """Whether the verdicts disqualify the design's costs: UNSAFE against an interrupt on the same CPU or
    another CPU."""
    per = verdicts or {}
    return any(per[c].verdict == "UNSAFE" for c in DISQUALIFYING if c in per)


def marked(design: str, verdicts: Verdicts | None) -> str:
    """``llist [UNSAFE]`` for a design explore found unsafe against an interrupt, else the name."""
    return f"{design} {UNSAFE_MARK}" if unsafe((verdicts or {}).get(design)) else design


def explore_verdict(reg: Registry, design_spec: str, context: str, config: tuple[str, ...] = (),
                    kernel: str | None = None, timeout: float | None = None) -> Verdict:
    """The design's verdict against ``context``, from the cache or explored (and cached)."""
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

    def __init__(self, designs: list[str], reg: Registry, config: tuple[str, ...] = (), kernel: str | None = None,
                 plugins: tuple[str, ...] = (), jobs: int = 1, timeout: float | None = None):
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


def design_verdicts(designs: list[str], reg: Registry, config: tuple[str, ...] = (),
                    kernel: str | None = None, plugins: tuple[str, ...] = (), jobs: int = 1,
                    timeout: float | None = None) -> Verdicts:
    """Every design's verdicts against each context (``PendingVerdicts``, waited for): with ``jobs`` > 1 those
    not cached are explored on that many processes (``plugins``: the ``--plugin`` paths the workers load).
    ``timeout``: seconds one design and context may take (the runs' ``--cell-timeout``), after which its
    verdict is ERROR."""
    with PendingVerdicts(designs, reg, config, kernel, plugins, jobs, timeout) as pending:
        return pending.result()


def verdicts_as_json(verdicts: Verdicts) -> dict[str, dict[str, dict[str, Any]]]:
    return {d: {c: v.as_dict() for c, v in per.items()} for d, per in verdicts.items()}


def verdicts_from_json(doc: Any) -> Verdicts:
    """Verdicts saved in a result document; malformed entries are left out (they are explored again)."""
    out: Verdicts = {}
    if not isinstance(doc, dict):
        return out
    for design, per in doc.items():
        if not isinstance(per, dict):
            continue
        try:
            out[design] = {c: Verdict.from_dict(v) for c, v in per.items() if isinstance(v, dict)}
        except TypeError:
            continue
    return out
