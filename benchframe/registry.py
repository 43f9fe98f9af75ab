"""The registry: the designs, workloads and profiles every plugin registered, the lookups by name (one-line
errors naming what is known), and calling a hook on every plugin with a raising plugin named."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.hw.costs import DEFAULT_PROFILE, CostModel, load_profile_file
from benchframe.signals import describe, plugin_exit

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pluggy

    from benchframe.records import Design, ProfileSource, Workload


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

    def __init__(self, message: str, plugin: str = ""):
        super().__init__(message)
        self.plugin = plugin


@dataclass
class Registry:
    designs: dict[str, Design]
    workloads: dict[str, Workload]
    profiles: dict[str, ProfileSource]
    errors: list[str]
    plugins: list[PluginInfo]
    pm: pluggy.PluginManager
    _costs: dict[str, CostModel] = field(default_factory=dict, repr=False)

    def owner(self, kind: str, name: str) -> str:
        """The plugin that registered design/workload/profile ``name`` (``kind`` is "designs", ...)."""
        for info in self.plugins:
            if name in info.registered.get(kind, ()):
                return info.name
        return "?"

    def call(self, hook: str, errors: list[str] | None = None, **kwargs: Any) -> list[Any]:
        """Call ``hook`` on every plugin, in pluggy's order, ``None`` results dropped. A plugin that raises is
        named: ``PluginHookError`` with one line, or — when ``errors`` is a list — that line is appended to it
        and the other plugins still run."""
        results = []
        for name, outcome in call_each(self.pm, hook, kwargs):
            if isinstance(outcome, BaseException):
                line = f"plugin {name}: {hook} raised {describe(outcome)}"
                if errors is None:
                    raise PluginHookError(line, name) from outcome
                errors.append(line)
            elif outcome is not None:
                results.append(outcome)
        return results

    def versions(self) -> dict[str, str]:
        """The version of every plugin distribution loaded (benchframe's own included), as reports record them."""
        return {p.dist: p.version for p in self.plugins}

    def design(self, name: str) -> Design:
        try:
            return self.designs[name]
        except KeyError:
            raise BenchframeError(f"unknown design {name!r}; known: {', '.join(self.designs)}") from None

    def design_spec(self, spec: str) -> tuple[Design, dict[str, Any]]:
        """``"name"`` or ``"name:opt=value,opt=value"`` -> (Design, options with defaults filled in); each value
        converted and checked by the design's ``Option`` declaration."""
        name, _, rest = spec.partition(":")
        design = self.design(name)
        options = design.defaults()
        given: set[str] = set()
        for item in rest.split(",") if rest else ():
            key, eq, value = item.partition("=")
            option = design.option(key.strip()) if eq else None
            if option is None:
                known = ", ".join(o.name for o in design.options) or "none"
                raise BenchframeError(f"design {name}: unknown option {item!r} (options: {known})")
            if option.name in given:
                raise BenchframeError(f"design {name}: option {option.name} is given twice")
            given.add(option.name)
            options[option.name] = option.convert(value, name)
        return design, options

    def workload(self, name: str) -> Workload:
        try:
            return self.workloads[name]
        except KeyError:
            raise BenchframeError(f"unknown workload {name!r}; known: {', '.join(self.workloads)}") from None

    def cost_model(self, name_or_path: str | None) -> CostModel:
        """A profile by registered name, or a path to a profile file (each file parsed once per registry)."""
        name_or_path = DEFAULT_PROFILE if name_or_path is None else name_or_path  # "": no profile, not the default
        if name_or_path in self.profiles:
            path: str | None = self.profiles[name_or_path].path
        elif name_or_path.strip() and (name_or_path.endswith(".toml") or os.sep in name_or_path
                                       or Path(name_or_path).exists()):
            path = name_or_path
        else:
            path = None
        if path is not None:
            if path not in self._costs:
                self._costs[path] = load_profile_file(path)
            return self._costs[path]
        raise BenchframeError(f"unknown profile {name_or_path!r}; known: {', '.join(self.profiles)} "
                              f"(or give a path to a .toml file)")


def call_each(pm: pluggy.PluginManager, hook: str, kwargs: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(plugin name, result or the exception it raised)`` for each implementation of ``hook``, in pluggy's
    call order, each called through pluggy's own hook caller restricted to that one plugin."""
    caller = getattr(pm.hook, hook)
    impls = list(reversed(caller.get_hookimpls()))
    for impl in impls:
        others = [i.plugin for i in impls if i is not impl]
        one = pm.subset_hook_caller(hook, remove_plugins=others) if others else caller
        try:
            results = one(**kwargs)
        except BaseException as exc:  # the plugin's fault (or its exit), reported by name
            if not isinstance(exc, Exception) and not plugin_exit(exc):
                raise  # the user's Ctrl-C
            yield impl.plugin_name, exc
            continue
        yield impl.plugin_name, results[0] if results else None
