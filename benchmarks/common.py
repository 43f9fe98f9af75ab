"""Shared, fixed parameters of the asv suite and the helpers every benchmark's ``setup`` uses.

asv runs the *current* benchmark files against every historical build of benchframe, so nothing that decides a
benchmark's parameters may depend on the installed version: the designs, workloads and parameter values are
fixed lists here. What a build cannot do -- a design, workload, workload parameter, kernel config or metric it
does not have, or a build without the plugin registry at all -- is skipped by raising ``NotImplementedError``
in ``setup`` (asv records it as skipped, not failed). Everything is simulated with a fixed seed, so a track_
benchmark has exactly one value per commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

try:  # designs and workloads are discovered from the *installed* package
    from benchframe.plugins import get_registry
except ImportError:  # a build from before the plugin registry existed
    get_registry = None  # type: ignore[assignment]
try:
    from benchframe.run import RunSpec, run_one
except ImportError:
    try:  # builds before the run/ package (issue #9)
        from benchframe.runner import RunSpec, run_one  # type: ignore[no-redef]
    except ImportError:  # a build from before the runner existed
        RunSpec = run_one = None  # type: ignore[assignment,misc]

SEED = 1
# Every design the suite tracks: the built-ins (benchframe_plugins) and the example plugin examples/pcpspin
# (registered only where that distribution is installed, e.g. CI; asv's per-commit virtualenvs skip it).
# tests/test_asv_suite.py checks that every design shipped in this repository is listed.
DESIGNS = ["single", "list", "array", "twopass", "llist", "llist_del_first", "locallock", "preempt", "pcpspin"]
BULKS = [1, 8, 64, 256]
IRQ_BULKS = [8, 64, 256]
KERNELS = ["default", "PREEMPT_RT"]  # "default" = no CONFIG_ option
PAGE_BENCH04 = {"pages": 4096}  # + bulk
# bursts per bulk: enough interrupts (>= 100 in every run) for the p99 to be more than the maximum
IRQ_LATENCY_BURSTS = {8: 800, 64: 300, 256: 100}
SIM_PAGES = 10_000  # pages simulated by the time_/peakmem_ benchmarks (page_bench04, bulk=64)
SIM_BULK = 64



def _load_registry():
    """Load the installed build's plugins once, at import time: asv's forkserver imports this module before
    forking a process per benchmark, so the runs share one loaded registry instead of each loading it."""
    if get_registry is None:
        return None
    try:
        return get_registry()
    except Exception:  # noqa: BLE001 - a broken old build: registry() retries and its setup() skips
        return None


_registry = _load_registry()


def registry():
    """The installed build's registry, or NotImplementedError when this build has none."""
    global _registry
    if get_registry is None:
        raise NotImplementedError("this build has no benchframe.plugins.get_registry()")
    if _registry is None:
        try:
            _registry = get_registry()
        except Exception as exc:  # noqa: BLE001 - any failure to load plugins means this build cannot run
            raise NotImplementedError(f"this build's plugins do not load: {exc}") from None
    return _registry


def spec(design: str, workload: str, params: Mapping[str, Any], kernel: str = "default") -> RunSpec:
    """The run to simulate; NotImplementedError when this build lacks the design, workload, a parameter or
    the kernel config."""
    reg = registry()
    if design not in reg.designs:
        raise NotImplementedError(f"design {design!r} is not in this build")
    if workload not in reg.workloads:
        raise NotImplementedError(f"workload {workload!r} is not in this build")
    known = {p.name for p in reg.workloads[workload].params}
    missing = sorted(set(params) - known)
    if missing:
        raise NotImplementedError(f"workload {workload!r} has no parameter {', '.join(missing)} in this build")
    config: tuple[str, ...] = ()
    if kernel != "default":
        try:
            from benchframe.kconfig import OPTIONS
        except ImportError:
            raise NotImplementedError("this build has no kernel configs") from None
        if kernel not in OPTIONS:
            raise NotImplementedError(f"kernel config {kernel} is not in this build")
        config = (kernel,)
    return RunSpec(design=design, workload=workload, params=dict(params), seed=SEED, config=config)


def simulate(design: str, workload: str, params: Mapping[str, Any], metrics: tuple[str, ...],
             kernel: str = "default") -> dict[str, float]:
    """Run one simulation and return the requested metrics; NotImplementedError when this build cannot run it
    or does not report one of them (so every track_ benchmark of a class skips together)."""
    result = run_one(spec(design, workload, params, kernel), registry())
    out = {}
    for name in metrics:
        value = result.metrics.get(name)
        if value is None:
            raise NotImplementedError(f"metric {name} is not reported by this build")
        out[name] = value
    return out
