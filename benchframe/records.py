"""The records plugins register: what a design, a workload (with the studies it contributes to the comparison)
and a cost profile are; and the testbed a run is simulated on.

Plugins return ``Design``, ``Workload`` and ``ProfileSource`` records from the registration hooks in
``benchframe.hookspecs``. What a run produces is in ``benchframe.results``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from benchframe import BenchframeError
from benchframe.hw.cache import MAX_CPUS
from benchframe.hw.topology import Topology
from benchframe.kconfig import DEFAULT_KERNEL, KernelConfig
from benchframe.mm.bulk import ARRAY, LIST, DesignImpl

SHAPES = (LIST, ARRAY)
LINK_BYTES = {LIST: 16, ARRAY: 8}  # page->lru list_head; a struct page * slot


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_KIND = {int: "an integer", float: "a finite number", bool: "a boolean (true/false)"}


def _convert(kind: type, raw: Any, choices: tuple[Any, ...] | None, who: str) -> Any:
    """``raw`` (command-line text or a file's value) as ``kind``, one of ``choices`` if given; the one-line
    errors name ``who`` (the record and the name) and the value."""
    try:
        if kind is bool and isinstance(raw, str):
            if raw.lower() not in _TRUE + _FALSE:
                raise ValueError
            value: Any = raw.lower() in _TRUE
        elif (kind is int and isinstance(raw, float) and not raw.is_integer()) or \
                (kind in (int, float) and isinstance(raw, bool)):
            raise ValueError
        else:
            value = kind(raw)
        if kind is float and not math.isfinite(value):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise BenchframeError(f"{who}={raw!r} is not {_KIND.get(kind, 'a string')}") from None
    if choices is not None and value not in choices:
        raise BenchframeError(f"{who}={value!r} must be one of {', '.join(map(str, choices))}")
    return value


@dataclass(frozen=True)
class Option:
    """A design option (``--design NAME:key=value``): its name, default, type, allowed values and a one-line
    help. A string option lists its allowed values (``choices``): a misspelt value is an error, never the
    default."""

    name: str
    default: Any
    help: str = ""
    type: type = str
    choices: tuple[Any, ...] | None = None

    def convert(self, raw: str, design: str) -> Any:
        """A value given on the command line; errors name the design, the option and the value."""
        return _convert(self.type, raw.strip(), self.choices, f"design {design}: option {self.name}")

    def problem(self) -> str | None:
        """Why this declaration breaks the contract (checked when a plugin registers it), or None."""
        if not isinstance(self.name, str) or not self.name.isidentifier():
            return f"option name {self.name!r} is not an identifier"
        if self.type not in (str, int, float, bool):
            return f"option {self.name}: type must be str, int, float or bool"
        if self.type is str and not self.choices:
            return f"option {self.name}: a string option must list its allowed values (choices=...)"
        if not isinstance(self.default, self.type) or (self.choices is not None and self.default not in self.choices):
            return f"option {self.name}: default {self.default!r} is not one of its allowed values"
        return None


@dataclass(frozen=True)
class Design:
    """A bulk page allocation API design.

    ``factory(kernel, **options)`` builds the ``DesignImpl`` for one simulated kernel. ``options`` declares
    each option the design accepts as an ``Option`` (name, default, type, allowed values; ``--design
    llist:free=splice`` overrides one); a plain mapping of names to defaults is read as options of the
    defaults' types, without allowed values (so a string option given that way is refused at registration).
    ``pcp_link_bytes`` is the size of the struct page field that links a page on the per-CPU lists
    (``list_head lru`` = 16, ``llist_node`` = 8). ``constraints`` says in one line what the API demands of
    its callers beyond the 5.13 API (e.g. "list must be empty on entry"), for the report's decision table.
    """

    name: str
    factory: type[DesignImpl]
    description: str
    models: str = ""
    options: Sequence[Option] = ()
    pcp_link_bytes: int = 16
    constraints: str = ""

    def __post_init__(self) -> None:
        opts: object = self.options
        if isinstance(opts, Mapping):  # the older form: {name: default}
            opts = tuple(o if isinstance(o, Option) else Option(str(k), o, type=type(o)) for k, o in opts.items())
        object.__setattr__(self, "options", tuple(opts) if isinstance(opts, list | tuple) else opts)

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def defaults(self) -> dict[str, Any]:
        """Every option at its default: what ``--design NAME`` runs."""
        return {o.name: o.default for o in self.options}

    @property
    def shape(self) -> str:
        return self.factory.shape

    @property
    def bulk_api(self) -> bool:
        """False for a baseline without a bulk API: its callers allocate one page per call, as they did before
        5.13 (``DesignImpl.bulk_api``)."""
        return bool(getattr(self.factory, "bulk_api", True))

    @property
    def metadata_bytes_per_page(self) -> int:
        """Bytes per page of the structure that carries pages to the caller: ``lru`` or an array slot."""
        return LINK_BYTES[self.shape]


#: bounds a count may not pass: what one cell simulates in minutes and a few GiB (page_bench04 runs about 200,000
#: pages a second and keeps about 50 bytes per page of the zone)
MAX_PAGES = 2**24
MAX_CALLS = 10**6
__all__ = ["MAX_CALLS", "MAX_CPUS", "MAX_PAGES", "SHAPES", "Design", "Option", "Param", "ProfileSource", "Study",
           "Testbed", "Workload"]


@dataclass(frozen=True)
class Param:
    """A workload parameter: name, default, type and a one-line help; ``minimum`` and ``maximum`` bound it
    (``maximum``: what the simulator can run in reasonable time and memory, checked before anything runs)."""

    name: str
    default: Any
    help: str
    type: type = int
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: ``check(value)`` after conversion: raises ``BenchframeError`` (one line) for a value of the right type
    #: that is still unusable, e.g. a file that is not there; runs before anything is simulated (its result is
    #: ignored)
    check: Callable[[Any], object] | None = None
    #: the value is a file's path: one given in a data file (a sweep spec) is relative to that file's folder
    path: bool = False

    def convert(self, raw: Any, workload: str) -> Any:
        """Convert a command-line or file value; errors name the workload, parameter and value."""
        value = _convert(self.type, raw, self.choices, f"workload {workload}: parameter {self.name}")
        if self.minimum is not None and value < self.minimum:
            raise BenchframeError(f"workload {workload}: parameter {self.name}={value!r} must be >= {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise BenchframeError(f"workload {workload}: parameter {self.name}={value!r} is over its bound "
                                  f"{self.name} <= {self.maximum}")
        if self.check is not None:
            self.check(value)
        return value


@dataclass(frozen=True)
class Study:
    """One question of the comparison report: the metrics that answer it on one workload, the parameter varied
    (``vary``, or None) over its ``values``, the parameters fixed (``params``) and the kernel config options
    added (``config``). A workload contributes its studies (``Workload.studies``); ``workload`` is filled in
    with its name. ``perf_at``: the values of ``vary`` whose cells run with every cycle attributed
    (``benchframe.hw.perf``): the report shows where their cycles go."""

    key: str
    question: str
    metrics: tuple[str, ...]
    vary: str | None = None
    values: tuple[Any, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    config: tuple[str, ...] = ()
    workload: str = ""
    perf_at: tuple[Any, ...] = ()

    def points(self) -> list[dict[str, Any]]:
        """The parameters of each point of the study: one per value of ``vary``."""
        if self.vary is None:
            return [dict(self.params)]
        return [{**self.params, self.vary: v} for v in self.values]


#: ``topology(params, config)``: the machine a workload needs for these parameters
TopologyFn = Callable[[Mapping[str, Any], KernelConfig], Topology]
#: ``check(params)``: what is wrong with this combination of (converted) parameter values, or ``None``
CheckFn = Callable[[Mapping[str, Any]], "str | None"]
SeededFn = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Workload:
    """A caller of the bulk API modelled on the kernel.

    ``run(ctx)`` drives the simulation through ``ctx``, a ``benchframe.workloads.context.RunContext``;
    ``topology(params, config)`` gives the machine it needs. ``metrics`` maps the extra metrics it records to
    ``(unit, better, definition)`` where ``better`` is ``"lower"`` or ``"higher"``. ``check(params)`` names
    what is wrong with a combination of parameter values that each pass alone (``bulk=1000`` with
    ``pages=10``), so the run is refused before it starts rather than run otherwise than asked. ``headline``:
    the metrics ``benchframe run`` shows by default (default: the workload's own metrics, the longest
    IRQs-off window and the invariant violations). ``seeded``: whether a run draws on its seed (``ctx.rng``,
    ``ctx.seed``), or a function of the parameters that says so; a run that does not is run once for all the
    seeds a command asks for (the simulation is deterministic, so every seed's result would be that one), and
    reading the seed is then the workload's error. ``standard``: part of the default ``benchframe compare``,
    which runs its ``studies`` (none declared: one at its default parameters over its own metrics).
    """

    name: str
    run: Callable[..., None]
    description: str
    params: tuple[Param, ...] = ()
    topology: TopologyFn | None = None
    metrics: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    standard: bool = True  # part of the default `benchframe compare`
    check: CheckFn | None = None
    headline: tuple[str, ...] = ()
    seeded: bool | SeededFn = True
    studies: tuple[Study, ...] = ()

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise BenchframeError(f"workload {self.name}: unknown parameter {name!r} (known: {known})")

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        values = {p.name: p.default for p in self.params}
        for key, raw in given.items():
            values[key] = self.param(key).convert(raw, self.name)
        if self.check is not None:
            problem = self.check(values)
            if problem:
                raise BenchframeError(f"workload {self.name}: {problem}")
        return values

    def uses_seed(self, params: Mapping[str, Any]) -> bool:
        """Whether a run with ``params`` (resolved) draws on its seed (``seeded``)."""
        return bool(self.seeded(params) if callable(self.seeded) else self.seeded)

    def headline_metrics(self) -> tuple[str, ...]:
        """What ``benchframe run`` shows by default."""
        return self.headline or (*self.metrics, "irqs_off_max_cycles", "invariant_violations")

    def compare_studies(self) -> tuple[Study, ...]:
        """What ``benchframe compare`` runs of this workload: its ``studies``, each naming it; none declared,
        one at its default parameters over its own metrics."""
        if self.studies:
            return tuple(replace(s, workload=self.name) for s in self.studies)
        metrics = tuple(self.metrics) or ("alloc_cycles_per_page",)
        return (Study(self.name, f"{self.name} at its default parameters", metrics, workload=self.name),)


@dataclass(frozen=True)
class ProfileSource:
    """A cost profile file contributed by a plugin (see ``benchframe.hw.costs`` for the format)."""

    name: str
    path: str
    description: str = ""


@dataclass(frozen=True)
class Testbed:
    """What a run is simulated on besides its design and workload: the cost profile (a registered name or a
    TOML file; None: the default), the kernel version and CONFIG_ options, and the ``--plugin`` modules
    loaded. Commands parse these once and pass them on as one."""

    profile: str | None = None
    config: tuple[str, ...] = ()
    kernel: str = DEFAULT_KERNEL
    plugins: tuple[str, ...] = ()
