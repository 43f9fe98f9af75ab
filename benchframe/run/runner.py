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
from benchframe.interrupts import CellTimeout, describe, plugin_exit
from benchframe.kconfig import KernelConfig
from benchframe.metrics import METRICS, standard_metrics
from benchframe.plugins import get_registry
from benchframe.records import Design, RunResult, Workload
from benchframe.registry import PluginHookError, Registry
from benchframe.workloads.context import DesignContractError, RunContext

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.hw.costs import CostModel
    from benchframe.run.spec import RunSpec

#: raw samples kept per run for distribution plots (evenly spaced order statistics beyond this)
MAX_SAMPLES = 1000


class PluginRunError(BenchframeError):
    """A design or workload raised during a run: the plugin's fault, not the user's input."""


def default_topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    cpus = int(params.get("cpus", 1))
    if config.numa:
        return Topology.numa(nodes=2, cpus_per_node=max(1, -(-cpus // 2)))
    return Topology.uma(cpus=cpus)


def run_one(spec: RunSpec, registry: Registry | None = None, costs: CostModel | None = None) -> RunResult:
    """Simulate one cell (see the module docstring); ``costs`` replaces the spec's profile (what
    ``benchframe calibrate`` tries)."""
    registry = registry or get_registry(spec.plugins)
    design, options = registry.design_spec(spec.design)
    workload = registry.workload(spec.workload)
    params = workload.resolve_params(spec.params)
    config = KernelConfig.parse(list(spec.config), spec.kernel)
    costs = costs or registry.cost_model(spec.profile)
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
        raise PluginRunError(f"plugin {registry.owner('designs', design.name)}: design {design.name} {exc} "
                             f"(workload {workload.name})") from exc
    except BaseException as exc:  # a design or workload plugin broke, exited or hung: report it by name
        if isinstance(exc, CellTimeout):
            what = f"did not finish: {exc}"
        elif isinstance(exc, Exception) or plugin_exit(exc):
            what = f"raised {describe(exc)}"
        else:
            raise  # the user's Ctrl-C
        raise PluginRunError(_blame(exc, what, design, workload, registry)) from exc
    try:
        # A deadlock stops the machine inside a critical section (pages between the buddy and a pcp list,
        # NR_FREE_PAGES not yet updated): the end-of-run accounting would only report that half-done update.
        for problem in () if hung else ctx.invariant_problems():
            k.violation(problem)
    except PluginHookError as exc:
        raise PluginRunError(f"{exc} (design {design.name}, workload {workload.name})") from exc
    metrics = standard_metrics(ctx.measurement, k, ctx.cpus, design, costs)
    metrics.update(ctx.extra)
    _check_finite(metrics, set(ctx.extra), design, workload, registry)
    units = {name: METRICS[name].unit for name in metrics if name in METRICS}
    units.update({name: spec_[0] for name, spec_ in workload.metrics.items() if name in metrics})
    latencies = sorted(lat for cpu in ctx.cpus for lat in cpu.irq_latencies)
    samples = {"irq_latency_cycles": _downsample(latencies)} if latencies else {}
    result = RunResult(
        design=spec.design, workload=workload.name, params=dict(params), seed=spec.seed, metrics=metrics,
        units=units, violations=list(k.violations[:20]), profile=costs.name, config=config.as_list(),
        samples=samples, kernel=config.version.name)
    if ctx.perf is not None:
        result.perf_stacks = ctx.perf.folded()
        result.perf_cycles = ctx.cycles
    try:
        registry.call("benchframe_run_finished", run=result)
    except PluginHookError as exc:
        raise PluginRunError(f"{exc} (design {design.name}, workload {workload.name})") from exc
    return result


def _check_finite(metrics: dict[str, Any], extra: set[str], design: Design, workload: Workload,
                  registry: Registry) -> None:
    """A NaN or infinite figure is blamed on who produced it: the workload for its own metrics, the design
    (whose charges the standard metrics add up) for the rest."""
    bad = sorted(name for name, value in metrics.items() if isinstance(value, float) and not math.isfinite(value))
    if not bad:
        return
    shown = ", ".join(f"{name}={metrics[name]!r}" for name in bad)
    if bad[0] in extra:
        raise PluginRunError(f"plugin {registry.owner('workloads', workload.name)}: workload {workload.name} "
                             f"produced non-finite metric(s) {shown} (design {design.name})")
    raise PluginRunError(f"plugin {registry.owner('designs', design.name)}: design {design.name} produced "
                         f"non-finite metric(s) {shown} (workload {workload.name})")


def _blame(exc: BaseException, what: str, design: Design, workload: Workload, registry: Registry) -> str:
    """One line naming the plugin whose code raised. The innermost frame in the design's code (its class, the
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
    culprit = "design"
    for mod in reversed(frames):
        if mod in design_mods:
            break
        if mod == workload_mod:
            culprit = "workload"
            break
    if culprit == "workload":
        return (f"plugin {registry.owner('workloads', workload.name)}: workload {workload.name} {what} "
                f"(design {design.name})")
    return f"plugin {registry.owner('designs', design.name)}: design {design.name} {what} (workload {workload.name})"


def _downsample(ordered: list[int]) -> list[int]:
    """Keep a sorted sample list to MAX_SAMPLES evenly spaced order statistics (deterministic)."""
    n = len(ordered)
    if n <= MAX_SAMPLES:
        return ordered
    return [ordered[(i * (n - 1)) // (MAX_SAMPLES - 1)] for i in range(MAX_SAMPLES)]
