"""One run: a (design x workload x params x seed) cell from its ``RunSpec`` to its ``RunResult``.

``run_one(spec)`` boots a simulated machine and kernel with the design (``RunContext``), runs the workload,
checks the invariants (the kernel's and the design's own; not after a deadlock, which leaves a critical section
half done) and computes the metrics.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.engine import Deadlock
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.metrics import merged, metric, standard_metrics
from benchframe.plugins import get_registry
from benchframe.registry import PluginHookError, Registry
from benchframe.results import CellFailure, RunResult
from benchframe.signals import CellTimeout, describe, plugin_exit
from benchframe.workloads.context import DesignContractError, RunContext

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.hw.costs import CostModel
    from benchframe.hw.samples import Samples
    from benchframe.records import Design, Workload
    from benchframe.run.spec import RunSpec

#: raw samples kept per run for distribution plots (evenly spaced order statistics beyond this)
MAX_SAMPLES = 1000


class PluginRunError(BenchframeError):
    """A design or workload raised during a run: the plugin's fault, not the user's input. ``failure`` says
    which plugin, design and workload."""

    def __init__(self, failure: CellFailure):
        super().__init__(failure.message)
        self.failure = failure


def _failure(registry: Registry, kind: str, design: Design, workload: Workload, what: str) -> PluginRunError:
    """The error blaming the plugin that registered the design (``kind`` "designs") or the workload: ``what``
    it did, and the other half of the cell."""
    if kind == "designs":
        plugin = registry.owner("designs", design.name)
        line = f"plugin {plugin}: design {design.name} {what} (workload {workload.name})"
    else:
        plugin = registry.owner("workloads", workload.name)
        line = f"plugin {plugin}: workload {workload.name} {what} (design {design.name})"
    return PluginRunError(CellFailure(plugin, design.name, workload.name, line))


def _hook_failure(exc: PluginHookError, design: Design, workload: Workload) -> PluginRunError:
    """A plugin's hook (an invariant check, ``run_finished``) raised during the cell."""
    return PluginRunError(CellFailure(exc.plugin, design.name, workload.name,
                                      f"{exc} (design {design.name}, workload {workload.name})"))


def default_topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    cpus = int(params.get("cpus", 1))
    if config.numa:
        return Topology.numa(nodes=2, cpus_per_node=max(1, -(-cpus // 2)))
    return Topology.uma(cpus=cpus)


def run_one(spec: RunSpec, registry: Registry | None = None, costs: CostModel | None = None) -> RunResult:
    """Simulate one cell (see the module docstring); ``costs`` replaces the spec's profile (what
    ``benchframe calibrate`` tries), the spec's ``prices`` replace some of its costs (a model-check draw)."""
    registry = registry or get_registry(spec.plugins)
    design, options = registry.design_spec(spec.design)
    workload = registry.workload(spec.workload)
    params = workload.resolve_params(spec.params)
    config = KernelConfig.parse(list(spec.config), spec.kernel)
    costs = costs or registry.cost_model(spec.profile)
    if spec.prices:
        costs = costs.with_costs(**dict(spec.prices))
    topology = (workload.topology or default_topology)(params, config)
    hung = False
    try:
        ctx = RunContext(design, options, workload, params, spec.seed, costs, config, topology, registry,
                         perf=spec.perf)
        k = ctx.kernel
        try:
            workload.run(ctx)
        except Deadlock as exc:
            k.violation(str(exc))
            hung = True
    except BenchframeError:
        raise
    except DesignContractError as exc:
        raise _failure(registry, "designs", design, workload, str(exc)) from exc
    except BaseException as exc:  # a design or workload plugin broke, exited or hung: report it by name
        if isinstance(exc, CellTimeout):
            what = f"did not finish: {exc}"
        elif isinstance(exc, Exception) or plugin_exit(exc):
            what = f"raised {describe(exc)}"
        else:
            raise  # the user's Ctrl-C
        raise _failure(registry, _culprit(exc, design, workload), design, workload, what) from exc
    try:
        # A deadlock stops the machine inside a critical section (pages between the buddy and a pcp list,
        # NR_FREE_PAGES not yet updated): the end-of-run accounting would only report that half-done update.
        for problem in () if hung else ctx.invariant_problems():
            k.violation(problem)
    except PluginHookError as exc:
        raise _hook_failure(exc, design, workload) from exc
    metrics = standard_metrics(ctx.measurement, k, ctx.cpus, design, costs)
    metrics.update(ctx.extra)
    _check_finite(metrics, set(ctx.extra), design, workload, registry)
    units = {name: m.unit for name in metrics if (m := metric(name, workload)) is not None}
    latencies = merged([cpu.irq_latencies for cpu in ctx.cpus])
    samples = {"irq_latency_cycles": _downsample(latencies)} if latencies else {}
    result = RunResult(
        design=spec.design, workload=workload.name, params=dict(params), seed=spec.seed, metrics=metrics,
        units=units, violations=list(k.violations[:20]), profile=costs.name, config=config.as_list(),
        samples=samples, kernel=config.version.name,
        perf_stacks=ctx.perf.folded() if ctx.perf is not None else {},
        perf_cycles=ctx.cycles if ctx.perf is not None else 0)
    try:
        registry.call("benchframe_run_finished", run=result)
    except PluginHookError as exc:
        raise _hook_failure(exc, design, workload) from exc
    return result


def _check_finite(metrics: dict[str, Any], extra: set[str], design: Design, workload: Workload,
                  registry: Registry) -> None:
    """A NaN, infinite or negative figure (every metric counts or measures: none is below 0, and a result file
    with one is refused) is blamed on who produced it: the workload for its own metrics, the design (whose
    charges the standard metrics add up) for the rest."""
    bad = sorted(name for name, value in metrics.items()
                 if isinstance(value, int | float) and not (math.isfinite(value) and value >= 0))
    if not bad:
        return
    shown = ", ".join(f"{name}={metrics[name]!r}" for name in bad)
    raise _failure(registry, "workloads" if bad[0] in extra else "designs", design, workload,
                   f"produced non-finite or negative metric(s) {shown}")


def _culprit(exc: BaseException, design: Design, workload: Workload) -> str:
    """Whose code raised, "designs" or "workloads": the innermost frame in the design's code (its class, the
    classes it derives from and its ``pcp_ops``) or in the workload's module decides; kernel helpers the
    design called are skipped over, so their exceptions still name the design."""
    factory = design.factory
    design_mods = {c.__module__ for c in (*factory.__mro__, *getattr(factory.pcp_ops, "__mro__", ()))}
    design_mods.discard("builtins")
    workload_mod = getattr(workload.run, "__module__", "")
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_globals.get("__name__", ""))
        tb = tb.tb_next
    for mod in reversed(frames):
        if mod in design_mods:
            return "designs"
        if mod == workload_mod:
            return "workloads"
    return "designs"


def _downsample(samples: Samples) -> list[int]:
    """The samples in order, at most MAX_SAMPLES evenly spaced order statistics of them (deterministic)."""
    n = len(samples)
    if n <= MAX_SAMPLES:
        return list(samples)
    return [samples.order_statistic((i * (n - 1)) // (MAX_SAMPLES - 1)) for i in range(MAX_SAMPLES)]
