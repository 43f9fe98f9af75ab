"""Runs: one (design x workload x params x seed) cell, and the result records they produce.

``run_one(spec)`` boots a simulated machine and kernel with the design's per-CPU list protocol, runs the
workload, checks the invariants and returns a ``RunResult``: a flat, long-format record (mimalloc-bench style)
that the reporters read without knowing how it was produced.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from benchframe import BenchframeError
from benchframe.api import Caller, Design, Workload
from benchframe.engine import Deadlock, Engine
from benchframe.hw.costs import CostModel
from benchframe.hw.cpu import CPU
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.metrics import METRICS, standard_metrics
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page_alloc import Kernel
from benchframe.plugins import PluginHookError, Registry, get_registry


class PluginRunError(BenchframeError):
    """A design or workload raised during a run: the plugin's fault, not the user's input."""


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's result."""

    design: str  # name, optionally with options: "llist:free=splice"
    workload: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 1
    profile: str | None = None  # registered name or path; None = default
    config: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()


@dataclass
class RunResult:
    design: str
    workload: str
    params: dict[str, Any]
    seed: int
    metrics: dict[str, Any]
    units: dict[str, str]
    violations: list[str]
    profile: str = ""
    config: list[str] = field(default_factory=list)
    #: raw per-event samples for distribution plots (e.g. ``irq_latency_cycles``), at most MAX_SAMPLES each
    samples: dict[str, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_design_spec(spec: str, registry: Registry) -> tuple[Design, dict[str, Any]]:
    """``"name"`` or ``"name:opt=value,opt=value"`` -> (Design, options with defaults filled in)."""
    name, _, rest = spec.partition(":")
    design = registry.design(name)
    options = dict(design.options)
    if rest:
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq or key not in design.options:
                known = ", ".join(design.options) or "none"
                raise BenchframeError(f"design {name}: unknown option {item!r} (options: {known})")
            default = design.options[key]
            if isinstance(default, bool):
                options[key] = value.lower() in ("1", "true", "yes")
            elif isinstance(default, int):
                try:
                    options[key] = int(value)
                except ValueError:
                    raise BenchframeError(f"design {name}: option {key}={value!r} is not an int") from None
            else:
                options[key] = value
    return design, options


def boot(design: Design, options: Mapping[str, Any], costs: CostModel, config: KernelConfig,
         topology: Topology, engine_class: type[Engine] = Engine) -> tuple[Engine, Kernel, Any]:
    """Boot a simulated machine and kernel that run ``design``: ``(engine, kernel, design implementation)``."""
    engine = engine_class(costs, preempt_rt=config.preempt_rt)
    kernel = Kernel(engine, topology, config, design.factory.pcp_ops)
    return engine, kernel, design.factory(kernel, **options)


class RunContext:
    """What a workload's ``run(ctx)`` works with: the booted machine and kernel, the design, its parameters,
    a seeded RNG, callers, and places to record its own metrics."""

    def __init__(self, design: Design, options: dict[str, Any], workload: Workload, params: dict[str, Any],
                 seed: int, costs: CostModel, config: KernelConfig, topology: Topology):
        self.design = design
        self.workload = workload
        self.params = params
        self.seed = seed
        self.costs = costs
        self.config = config
        self.rng = random.Random(seed)
        self.engine, self.kernel, self.impl = boot(design, options, costs, config, topology)
        self.held: set[int] = set()
        self.alloc_cycles = 0
        self.free_cycles = 0
        self.alloc_calls = 0
        self.pages_allocated = 0
        self.pages_freed = 0
        self.extra: dict[str, Any] = {}

    @property
    def cpus(self) -> list[CPU]:
        return self.engine.cpus

    def caller(self, cpu: CPU | int = 0) -> Caller:
        if isinstance(cpu, int):
            cpu = self.engine.cpus[cpu]
        return Caller(self, cpu)

    def reset_measurement(self) -> None:
        """Forget everything measured so far (call after a warm-up): per-page counters, IRQs-off windows,
        interrupt latencies, lock statistics and event counters. Pages and lists stay as they are."""
        self.alloc_cycles = self.free_cycles = self.alloc_calls = 0
        self.pages_allocated = self.pages_freed = 0
        for cpu in self.engine.cpus:
            cpu.irqs_off_windows.clear()
            cpu.irq_latencies.clear()
            cpu.irq_toggles = cpu.atomics = cpu.irqs_delivered = 0
        for zone in self.kernel.zones:
            lock = zone.lock
            lock.acquisitions = lock.contended = lock.wait_cycles = lock.hold_cycles = lock.max_hold = 0
        self.kernel.stat.__init__()

    def record(self, name: str, value: Any) -> None:
        """Record one of the workload's own metrics (declared in ``Workload.metrics``)."""
        if name not in self.workload.metrics and name not in METRICS:
            raise BenchframeError(f"workload {self.workload.name} records undeclared metric {name!r}")
        self.extra[name] = value


def default_topology(params: Mapping[str, Any], config: KernelConfig) -> Topology:
    cpus = int(params.get("cpus", 1))
    if config.numa:
        return Topology.numa(nodes=2, cpus_per_node=max(1, -(-cpus // 2)))
    return Topology.uma(cpus=cpus)


def run_one(spec: RunSpec, registry: Registry | None = None) -> RunResult:
    registry = registry or get_registry(spec.plugins)
    design, options = parse_design_spec(spec.design, registry)
    workload = registry.workload(spec.workload)
    params = workload.resolve_params(spec.params)
    config = KernelConfig.parse(list(spec.config))
    costs = registry.cost_model(spec.profile)
    topology = (workload.topology or default_topology)(params, config)
    ctx = RunContext(design, options, workload, params, spec.seed, costs, config, topology)
    k = ctx.kernel
    try:
        workload.run(ctx)
    except Deadlock as exc:
        k.violation(str(exc))
    except BenchframeError:
        raise
    except Exception as exc:  # a design or workload plugin broke: report it by name
        raise PluginRunError(_blame(exc, design, workload, registry)) from exc
    for problem in check_kernel(k, ctx.held):
        k.violation(problem)
    try:
        for extra in registry.call("benchframe_check_invariants", kernel=k, design=design):
            for problem in extra:
                k.violation(str(problem))
    except PluginHookError as exc:
        raise PluginRunError(f"{exc} (design {design.name}, workload {workload.name})") from exc
    metrics = standard_metrics(ctx)
    metrics.update(ctx.extra)
    units = {name: METRICS[name].unit for name in metrics if name in METRICS}
    units.update({name: spec_[0] for name, spec_ in workload.metrics.items() if name in metrics})
    latencies = sorted(lat for cpu in ctx.engine.cpus for lat in cpu.irq_latencies)
    samples = {"irq_latency_cycles": _downsample(latencies)} if latencies else {}
    result = RunResult(
        design=spec.design, workload=workload.name, params=dict(params), seed=spec.seed, metrics=metrics,
        units=units, violations=list(k.violations[:20]), profile=costs.name, config=config.as_list(),
        samples=samples)
    try:
        registry.call("benchframe_run_finished", run=result)
    except PluginHookError as exc:
        raise PluginRunError(f"{exc} (design {design.name}, workload {workload.name})") from exc
    return result


def _blame(exc: BaseException, design: Design, workload: Workload, registry: Registry) -> str:
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
    what = f"{type(exc).__name__}: {exc}"
    if culprit == "workload":
        return (f"plugin {registry.owner('workloads', workload.name)}: workload {workload.name} raised {what} "
                f"(design {design.name})")
    return (f"plugin {registry.owner('designs', design.name)}: design {design.name} raised {what} "
            f"(workload {workload.name})")


MAX_SAMPLES = 1000


def _downsample(ordered: list[int]) -> list[int]:
    """Keep a sorted sample list to MAX_SAMPLES evenly spaced order statistics (deterministic)."""
    n = len(ordered)
    if n <= MAX_SAMPLES:
        return ordered
    return [ordered[(i * (n - 1)) // (MAX_SAMPLES - 1)] for i in range(MAX_SAMPLES)]


def metric_better(name: str, workload: Workload | None = None) -> str:
    """``"lower"`` or ``"higher"`` for a metric name (standard or declared by the workload)."""
    if name in METRICS:
        return METRICS[name].better
    if workload is not None and name in workload.metrics:
        return workload.metrics[name][1]
    return "lower"
