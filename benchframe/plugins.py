"""The plugin manager: entry points (group ``"benchframe"``), ``--plugin MODULE_OR_PATH`` and the shipped
profiles, gathered on pluggy's own API into a ``Registry`` of designs, workloads and profiles.

The built-in designs and workloads register through the entry-point group like anyone else's (pytest is made
of its own plugins). A plugin that fails to import, implements a hook that does not exist, raises in a hook,
returns something that is not a record, or registers a name another plugin already has, is reported in
``Registry.errors`` (one line naming the plugin and the reason) and left out; everything else still loads.

Environment (as datasette and pytest do): ``BENCHFRAME_DISABLE_PLUGINS`` — comma list of entry-point or
distribution names to block (``pm.set_blocked``), or ``all`` for every plugin not shipped with benchframe;
``BENCHFRAME_TRACE_PLUGINS=1`` — print every hook call, with the plugin that implements it, to stderr.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from benchframe import __version__, hookimpl, hookspecs
from benchframe.hw.costs import builtin_profile_paths, load_profile_file
from benchframe.mm.bulk import DesignImpl
from benchframe.records import SHAPES, Design, Option, ProfileSource, Workload
from benchframe.registry import PluginHookError, PluginInfo, Registry, call_each
from benchframe.signals import describe, plugin_exit

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import ModuleType

__all__ = ["PluginHookError", "PluginInfo", "Registry", "get_registry", "load_registry", "set_default_plugins"]

GROUP = "benchframe"
CORE_DIST = "benchframe"
KINDS = ("designs", "workloads", "profiles")

# The built-in designs in the order of the 2021 thread (baseline first); others alphabetically after them.
BUILTIN_ORDER = ("single", "list", "array", "twopass", "llist", "llist_del_first", "locallock", "preempt")


class ShippedProfiles:
    """The cost profiles in ``benchframe/hw/profiles/``, registered like a plugin's."""

    @hookimpl
    def benchframe_register_profiles(self) -> list[ProfileSource]:
        return [ProfileSource(name=name, path=str(path), description=load_profile_file(path).description)
                for name, path in sorted(builtin_profile_paths().items())]


def _trace(pm: pluggy.PluginManager) -> None:
    """``BENCHFRAME_TRACE_PLUGINS=1``: one stderr line per hook call, naming the implementing plugin."""

    def before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        for impl in impls:
            sys.stderr.write(f"benchframe trace: {impl.plugin_name}: {hook_name}({', '.join(impl.argnames)})\n")

    def after(outcome: pluggy.Result[Any], hook_name: str, impls: Sequence[pluggy.HookImpl],
              kwargs: Mapping[str, Any]) -> None:
        return None

    pm.add_hookcall_monitoring(before, after)


def _import_path(spec: str) -> ModuleType:
    path = Path(spec)
    if spec.endswith(".py") or path.exists():
        if not path.is_file():
            raise ImportError(f"no such file {spec}")
        name = f"benchframe_plugin_{path.stem}"
        mspec = importlib.util.spec_from_file_location(name, path)
        if mspec is None or mspec.loader is None:
            raise ImportError(f"cannot load {spec} as a Python module")
        module = importlib.util.module_from_spec(mspec)
        sys.modules[name] = module
        mspec.loader.exec_module(module)
        return module
    return importlib.import_module(spec)


def _check_record(kind: str, rec: object) -> str | None:
    """Why a registration record breaks the contract, or None."""
    cls = {"designs": Design, "workloads": Workload, "profiles": ProfileSource}[kind]
    if not isinstance(rec, cls):
        return f"returned {type(rec).__name__} from benchframe_register_{kind}, expected {cls.__name__}"
    name = getattr(rec, "name", None)
    if not isinstance(name, str) or not name or any(c in name for c in " ,:=/"):
        return f"registered a {kind[:-1]} with an invalid name {name!r}"
    if isinstance(rec, Design):
        factory: object = rec.factory  # a plugin may put anything there, whatever the annotation says
        if not (isinstance(factory, type) and issubclass(factory, DesignImpl)):
            return f"design {name}: factory must be a DesignImpl subclass (see benchframe.mm.bulk)"
        if factory.shape not in SHAPES:
            return f"design {name}: shape {factory.shape!r} is not one of {', '.join(SHAPES)}"
        for option in rec.options:
            why = option.problem() if isinstance(option, Option) else "options must be Option records"
            if why:
                return f"design {name}: {why}"
    run: object = getattr(rec, "run", None)
    if isinstance(rec, Workload) and not callable(run):
        return f"workload {name}: run is not callable"
    return None


class _Loader:
    """Builds one registry: registers plugins with the pluggy manager, then gathers their records."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("benchframe")
        self.pm.add_hookspecs(hookspecs)
        self.tracing = os.environ.get("BENCHFRAME_TRACE_PLUGINS", "") not in ("", "0")
        if self.tracing:
            _trace(self.pm)
        self.errors: list[str] = []
        self.infos: dict[str, PluginInfo] = {}

    def register(self, obj: object, name: str, dist: str, version: str) -> None:
        pm = self.pm
        try:
            pm.register(obj, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            self.errors.append(f"plugin {name}: cannot register: {exc}")
            return
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            pm.unregister(name=name)
            self.errors.append(f"plugin {name}: {str(exc).strip().splitlines()[0]}")
            return
        hooks = sorted(h.name for h in pm.get_hookcallers(obj) or ())
        self.infos[name] = PluginInfo(name, dist, version, getattr(obj, "__name__", type(obj).__name__), hooks)

    def entry_points(self) -> None:
        raw = os.environ.get("BENCHFRAME_DISABLE_PLUGINS", "")
        disabled = {n.strip() for n in raw.split(",") if n.strip()}
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            if ep.name in disabled or dist in disabled or ("all" in disabled and dist != CORE_DIST):
                self.pm.set_blocked(ep.name)
                if self.tracing:
                    sys.stderr.write(f"benchframe trace: {ep.name} ({dist}): disabled by "
                                     "BENCHFRAME_DISABLE_PLUGINS\n")
                continue
            try:
                obj = ep.load()
            except BaseException as exc:  # any import failure is the plugin's, reported by name
                if not isinstance(exc, Exception) and not plugin_exit(exc):
                    raise  # the user's Ctrl-C
                self.errors.append(f"plugin {ep.name} ({dist}): failed to import: {describe(exc)}")
                continue
            self.register(obj, ep.name, dist, version)

    def paths(self, extra_plugins: Sequence[str]) -> None:
        for spec in extra_plugins:
            try:
                obj = _import_path(spec)
            except BaseException as exc:  # as for entry points
                if not isinstance(exc, Exception) and not plugin_exit(exc):
                    raise
                self.errors.append(f"plugin {spec}: failed to import: {describe(exc)}")
                continue
            self.register(obj, spec, "--plugin", "")

    def gather(self, kind: str) -> dict[str, Any]:
        """The records of one kind, first registration of a name wins (built-ins, entry points, --plugin)."""
        table: dict[str, Any] = {}
        owners: dict[str, str] = {}
        hook = f"benchframe_register_{kind}"
        for pname, records in reversed(list(call_each(self.pm, hook, {}))):  # registration order
            if isinstance(records, BaseException):
                self.errors.append(f"plugin {pname}: {hook} raised {describe(records)}")
                continue
            if records is None:
                continue
            if not isinstance(records, list | tuple):
                self.errors.append(f"plugin {pname}: {hook} must return a list")
                continue
            for rec in records:
                why = _check_record(kind, rec)
                if why:
                    self.errors.append(f"plugin {pname}: {why}")
                    continue
                if rec.name in table:
                    self.errors.append(f"plugin {pname}: {kind[:-1]} {rec.name!r} is already registered by "
                                       f"plugin {owners[rec.name]}; ignored")
                    continue
                table[rec.name] = rec
                owners[rec.name] = pname
                if pname in self.infos:
                    self.infos[pname].registered.setdefault(kind, []).append(rec.name)
        return table


def load_registry(extra_plugins: Sequence[str] = ()) -> Registry:
    """Load every plugin and gather what they register (see the module docstring)."""
    loader = _Loader()
    loader.register(ShippedProfiles(), "benchframe.profiles", CORE_DIST, __version__)
    loader.entry_points()
    loader.paths(extra_plugins)
    tables = {kind: loader.gather(kind) for kind in KINDS}
    return Registry(
        designs=dict(sorted(tables["designs"].items(), key=lambda kv: _design_order(kv[0]))),
        workloads=dict(sorted(tables["workloads"].items())),
        profiles=dict(sorted(tables["profiles"].items())),
        errors=loader.errors,
        plugins=list(loader.infos.values()),
        pm=loader.pm,
    )


def _design_order(name: str) -> tuple[int, str]:
    return (BUILTIN_ORDER.index(name) if name in BUILTIN_ORDER else len(BUILTIN_ORDER), name)


_CACHE: dict[tuple[str, ...], Registry] = {}
_DEFAULT_PLUGINS: tuple[str, ...] = ()


def set_default_plugins(extra_plugins: Sequence[str]) -> None:
    """Plugins (paths or modules) every registry of this process loads, before those it is asked for: what
    the conformance kit's ``--benchframe-plugin`` option does."""
    global _DEFAULT_PLUGINS
    _DEFAULT_PLUGINS = tuple(extra_plugins)


def get_registry(extra_plugins: Sequence[str] = ()) -> Registry:
    """The registry for this process (built once per set of ``--plugin`` arguments)."""
    key = tuple(dict.fromkeys((*_DEFAULT_PLUGINS, *extra_plugins)))
    if key not in _CACHE:
        _CACHE[key] = load_registry(key)
    return _CACHE[key]
