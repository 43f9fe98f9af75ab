"""Shared, fixed parameters of the asv suite.

asv runs these benchmark files against every historical build of benchframe, so nothing here may depend on the
installed version: the design and workload names are a fixed list, and a design, workload or metric that an
older build lacks is skipped (``NotImplementedError`` in ``setup``), never a failure.
"""

from __future__ import annotations

SEED = 1
# Every design the suite tracks. A test checks that every registered built-in is listed here.
DESIGNS = ["single", "list", "array", "twopass", "llist", "locallock", "pcpspin"]
BULKS = [1, 8, 64, 256]
SIM_PAGES = 10_000  # pages simulated by the time_/peakmem_ benchmarks


def run(design: str, workload: str, params: dict, metric: str, config: tuple[str, ...] = ()):
    """One simulated run's metric, or NotImplementedError when this build cannot do it."""
    try:
        from benchframe.plugins import get_registry
        from benchframe.runner import RunSpec, run_one
    except ImportError as exc:  # a build from before the runner existed
        raise NotImplementedError(str(exc)) from None
    reg = get_registry()
    if design not in reg.designs or workload not in reg.workloads:
        raise NotImplementedError(f"{design}/{workload} not in this build")
    known = {p.name for p in reg.workloads[workload].params}
    if not set(params) <= known:
        raise NotImplementedError(f"{workload} lacks {set(params) - known}")
    result = run_one(RunSpec(design=design, workload=workload, params=params, seed=SEED, config=config), reg)
    if metric not in result.metrics or result.metrics[metric] is None:
        raise NotImplementedError(f"{metric} not reported by this build")
    return result.metrics[metric]


def check(design: str, workload: str, params: dict | None = None):
    """setup() helper: skip when this build lacks the design, workload or parameters."""
    try:
        from benchframe.plugins import get_registry
    except ImportError as exc:
        raise NotImplementedError(str(exc)) from None
    reg = get_registry()
    if design not in reg.designs or workload not in reg.workloads:
        raise NotImplementedError(f"{design}/{workload} not in this build")
    known = {p.name for p in reg.workloads[workload].params}
    if params and not set(params) <= known:
        raise NotImplementedError(f"{workload} lacks {set(params) - known}")
