"""The plugin manager: built-ins, entry points (group ``"benchframe"``) and ``--plugin MODULE_OR_PATH``.

``load_registry()`` returns a ``Registry`` of designs, workloads and profiles gathered through the hooks in
``benchframe.hookspecs``, sorted by name. A plugin that fails to import, implements a hook that does not
exist, raises in a registration hook, returns something that is not a record, or registers a name another
plugin already has, is reported in ``Registry.errors`` (one line naming the plugin and the reason) and left
out; everything else still loads.

Environment (as datasette and pytest do):
``BENCHFRAME_DISABLE_PLUGINS`` — comma list of entry-point or distribution names not to load, or ``all`` for
every plugin not shipped with benchframe; ``BENCHFRAME_TRACE_PLUGINS=1`` — print every hook call to stderr.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import pluggy

from benchframe import BenchframeError, hookspecs
from benchframe.api import SHAPES, Design, ProfileSource, Workload
from benchframe.hw.costs import DEFAULT_PROFILE, CostModel, load_profile_file
from benchframe.mm.bulk import DesignImpl

GROUP = "benchframe"
CORE_DIST = "benchframe"
# Core plugins registered directly (the built-in designs come through entry points like anyone else's).
CORE_PLUGINS = ("benchframe.hw.costs", "benchframe.workloads")


@dataclass
class PluginInfo:
    name: str
    dist: str
    version: str
    module: str
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)


class PluginHookError(BenchframeError):
    """A plugin's hook implementation raised; the message names the plugin, the hook and the exception."""


@dataclass
class Registry:
    designs: dict[str, Design]
    workloads: dict[str, Workload]
    profiles: dict[str, ProfileSource]
    errors: list[str]
    plugins: list[PluginInfo]
    pm: pluggy.PluginManager
    tracing: bool = False
    _costs: dict[str, CostModel] = field(default_factory=dict, repr=False)

    def owner(self, kind: str, name: str) -> str:
        """The plugin that registered design/workload/profile ``name`` (``kind`` is "designs", ...)."""
        for info in self.plugins:
            if name in info.registered.get(kind, ()):
                return info.name
        return "?"

    def call(self, hook: str, errors: list[str] | None = None, **kwargs) -> list:
        """Call every implementation of ``hook`` (pluggy's order, ``None`` results dropped), naming the plugin
        when one raises: ``PluginHookError`` with one line, or — when ``errors`` is a list — that line is
        appended to it and the other implementations still run. Traced like the registration hooks."""
        results = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if self.tracing:
                sys.stderr.write(f"benchframe trace: {impl.plugin_name}: {hook}({', '.join(impl.argnames)})\n")
            try:
                res = impl.function(*(kwargs[a] for a in impl.argnames))
            except Exception as exc:  # noqa: BLE001 - the plugin's fault, reported by name
                line = f"plugin {impl.plugin_name}: {hook} raised {type(exc).__name__}: {exc}"
                if errors is None:
                    raise PluginHookError(line) from exc
                errors.append(line)
                continue
            if res is not None:
                results.append(res)
        return results

    def design(self, name: str) -> Design:
        try:
            return self.designs[name]
        except KeyError:
            raise BenchframeError(f"unknown design {name!r}; known: {', '.join(self.designs)}") from None

    def workload(self, name: str) -> Workload:
        try:
            return self.workloads[name]
        except KeyError:
            raise BenchframeError(f"unknown workload {name!r}; known: {', '.join(self.workloads)}") from None

    def cost_model(self, name_or_path: str | None) -> CostModel:
        """A profile by registered name, or a path to a profile file (each file parsed once per registry)."""
        name_or_path = name_or_path or DEFAULT_PROFILE
        if name_or_path in self.profiles:
            path = self.profiles[name_or_path].path
        elif name_or_path.endswith(".toml") or os.sep in name_or_path or Path(name_or_path).exists():
            path = name_or_path
        else:
            path = None
        if path is not None:
            if path not in self._costs:
                self._costs[path] = load_profile_file(path)
            return self._costs[path]
        raise BenchframeError(f"unknown profile {name_or_path!r}; known: {', '.join(self.profiles)} "
                              f"(or give a path to a .toml file)")


def _disabled() -> tuple[set[str], bool]:
    raw = os.environ.get("BENCHFRAME_DISABLE_PLUGINS", "")
    names = {n.strip() for n in raw.split(",") if n.strip()}
    return names, "all" in names


def _import_path(spec: str) -> ModuleType:
    path = Path(spec)
    if spec.endswith(".py") or path.exists():
        if not path.is_file():
            raise ImportError(f"no such file {spec}")
        name = f"benchframe_plugin_{path.stem}"
        mspec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(mspec)
        sys.modules[name] = module
        mspec.loader.exec_module(module)
        return module
    return importlib.import_module(spec)


def _check_record(kind: str, rec) -> str | None:
    """Why a registration record breaks the contract, or None."""
    cls = {"designs": Design, "workloads": Workload, "profiles": ProfileSource}[kind]
    if not isinstance(rec, cls):
        return f"returned {type(rec).__name__} from benchframe_register_{kind}, expected {cls.__name__}"
    if not isinstance(rec.name, str) or not rec.name or any(c in rec.name for c in " ,:=/"):
        return f"registered a {kind[:-1]} with an invalid name {rec.name!r}"
    if kind == "designs":
        factory = rec.factory
        if not (isinstance(factory, type) and issubclass(factory, DesignImpl)):
            return f"design {rec.name}: factory must be a DesignImpl subclass (see benchframe.mm.bulk)"
        if factory.shape not in SHAPES:
            return f"design {rec.name}: shape {factory.shape!r} is not one of {', '.join(SHAPES)}"
    if kind == "workloads" and not callable(rec.run):
        return f"workload {rec.name}: run is not callable"
    return None


def load_registry(extra_plugins: tuple[str, ...] = ()) -> Registry:
    pm = pluggy.PluginManager("benchframe")
    pm.add_hookspecs(hookspecs)
    tracing = os.environ.get("BENCHFRAME_TRACE_PLUGINS", "") not in ("", "0")
    if tracing:
        pm.trace.root.setwriter(lambda msg: sys.stderr.write(f"benchframe trace: {msg}"))
        pm.enable_tracing()
    errors: list[str] = []
    infos: dict[str, PluginInfo] = {}
    disabled, disable_all = _disabled()

    def register(obj, name: str, dist: str, version: str) -> None:
        try:
            pm.register(obj, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            errors.append(f"plugin {name}: cannot register: {exc}")
            return
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            pm.unregister(name=name)
            errors.append(f"plugin {name}: {str(exc).strip().splitlines()[0]}")
            return
        hooks = sorted(h.name for h in pm.get_hookcallers(obj) or ())
        infos[name] = PluginInfo(name, dist, version, getattr(obj, "__name__", repr(obj)), hooks)

    from benchframe import __version__
    for modname in CORE_PLUGINS:
        register(importlib.import_module(modname), modname, CORE_DIST, __version__)

    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist else "?"
        version = ep.dist.version if ep.dist else "?"
        external = dist != CORE_DIST
        if ep.name in disabled or dist in disabled or (disable_all and external):
            if tracing:
                sys.stderr.write(f"benchframe trace: {ep.name} ({dist}): disabled by BENCHFRAME_DISABLE_PLUGINS\n")
            continue
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import failure is the plugin's, reported by name
            errors.append(f"plugin {ep.name} ({dist}): failed to import: {type(exc).__name__}: {exc}")
            continue
        register(obj, ep.name, dist, version)

    for spec in extra_plugins:
        try:
            obj = _import_path(spec)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"plugin {spec}: failed to import: {type(exc).__name__}: {exc}")
            continue
        register(obj, spec, "--plugin", "")

    tables: dict[str, dict] = {"designs": {}, "workloads": {}, "profiles": {}}
    owners: dict[tuple[str, str], str] = {}
    for kind, table in tables.items():
        caller = getattr(pm.hook, f"benchframe_register_{kind}")
        for impl in caller.get_hookimpls():  # registration order: built-ins, entry points, --plugin
            pname = impl.plugin_name
            if tracing:
                sys.stderr.write(f"benchframe trace: {pname}: benchframe_register_{kind}()\n")
            try:
                records = impl.function()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"plugin {pname}: benchframe_register_{kind} raised {type(exc).__name__}: {exc}")
                continue
            if records is None:
                continue
            if not isinstance(records, list | tuple):
                errors.append(f"plugin {pname}: benchframe_register_{kind} must return a list")
                continue
            for rec in records:
                why = _check_record(kind, rec)
                if why:
                    errors.append(f"plugin {pname}: {why}")
                    continue
                if rec.name in table:
                    errors.append(f"plugin {pname}: {kind[:-1]} {rec.name!r} is already registered by plugin "
                                  f"{owners[(kind, rec.name)]}; ignored")
                    continue
                table[rec.name] = rec
                owners[(kind, rec.name)] = pname
                if pname in infos:
                    infos[pname].registered.setdefault(kind, []).append(rec.name)
    return Registry(
        designs=dict(sorted(tables["designs"].items(), key=lambda kv: _design_order(kv[0]))),
        workloads=dict(sorted(tables["workloads"].items())),
        profiles=dict(sorted(tables["profiles"].items())),
        errors=errors,
        plugins=list(infos.values()),
        pm=pm,
        tracing=tracing,
    )


# The built-in designs in the order of the 2021 thread (baseline first); others alphabetically after them.
BUILTIN_ORDER = ("single", "list", "array", "twopass", "llist", "locallock")


def _design_order(name: str) -> tuple[int, str]:
    return (BUILTIN_ORDER.index(name) if name in BUILTIN_ORDER else len(BUILTIN_ORDER), name)


_CACHE: dict[tuple[str, ...], Registry] = {}


def get_registry(extra_plugins: tuple[str, ...] = ()) -> Registry:
    """The registry for this process (built once per set of ``--plugin`` arguments)."""
    key = tuple(extra_plugins)
    if key not in _CACHE:
        _CACHE[key] = load_registry(key)
    return _CACHE[key]
