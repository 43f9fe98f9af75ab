"""The grid of a sweep, described in a TOML file, parsed and checked against the registry; its distinct cells,
each with a key that names its result file.

The spec::

    [sweep]
    designs = ["single", "array"]      # default: every registered design
    seeds = [1, 2, 3]                  # or a count: seeds = 3
    profile = "e5-1650v4"              # optional: a name, or a file relative to the spec's folder
    config = ["PREEMPT_RT"]            # optional
    kernel = "5.13"                    # optional
    output = "sweeps/bulk"             # optional, else --output; relative to the spec's folder

    [workloads.page_bench04]           # one table per workload: parameter -> list of values
    bulk = [1, 8, 64]
    pages = [2048]

Paths in a spec (``output``, a file ``profile``, a trace's ``file``) are relative to the spec's folder, not to
the working directory: a spec means the same wherever it is run from. Each value is taken as its parameter's
type (``bulk = [8, "8"]`` is one value, listed twice): the sweep runs it once and says so.
"""

from __future__ import annotations

import hashlib
import json
import math
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.io import parse_toml, read_text
from benchframe.kconfig import DEFAULT_KERNEL, KernelConfig
from benchframe.run.spec import MAX_CELLS, MAX_SEEDS, RunSpec

if TYPE_CHECKING:
    from benchframe.registry import Registry

SCALARS = (int, float, str, bool)


def load_spec(path: Path, reg: Registry) -> dict[str, Any]:
    """Parse and check a sweep spec; every problem is one line naming the file and the key."""
    data = parse_toml(read_text(path, kind="sweep spec"), str(path))
    unknown = set(data) - {"sweep", "workloads"}
    if unknown:
        raise BenchframeError(
            f"{path}: unknown table(s) {', '.join(sorted(unknown))} (expected [sweep], [workloads.*])")
    head = data.get("sweep", {})
    if not isinstance(head, dict):
        raise BenchframeError(f"{path}: [sweep] must be a table")
    bad_keys = set(head) - {"designs", "seeds", "profile", "config", "kernel", "output", "name"}
    if bad_keys:
        raise BenchframeError(f"{path}: unknown key(s) in [sweep]: {', '.join(sorted(bad_keys))}")
    spec = _sweep_table(path, head, reg)
    spec["workloads"] = _grids(path, data.get("workloads"), reg)
    total = count_cells(spec)
    if total > MAX_CELLS:
        raise BenchframeError(f"{path}: {total} cells is over the bound of {MAX_CELLS} cells per sweep")
    output = head.get("output")
    if output is not None and (not isinstance(output, str) or not output.strip()):
        raise BenchframeError(f"{path}: [sweep] output must be a directory's path")
    spec["output"] = None if output is None else str(_beside(path, output))
    return spec


def _beside(spec: Path, value: str) -> Path:
    """A path the spec gives, relative to the spec's folder (an absolute one as it is)."""
    return Path(value) if Path(value).is_absolute() else spec.parent / value


def _sweep_table(path: Path, head: dict[str, Any], reg: Registry) -> dict[str, Any]:
    """``[sweep]``: designs, seeds, profile and config, checked against the registry."""
    designs = head.get("designs", list(reg.designs))
    if not isinstance(designs, list) or not designs or not all(isinstance(d, str) for d in designs):
        raise BenchframeError(f"{path}: [sweep] designs must be a non-empty list of names")
    for d in designs:
        reg.design_spec(d)
    seeds = _seeds(path, head.get("seeds", [1]))
    profile = _profile(path, head.get("profile"), reg)
    config = head.get("config", [])
    if not isinstance(config, list) or not all(isinstance(c, str) for c in config):
        raise BenchframeError(f"{path}: [sweep] config must be a list of strings")
    kernel = head.get("kernel", DEFAULT_KERNEL)
    if not isinstance(kernel, str):
        raise BenchframeError(f"{path}: [sweep] kernel must be a string")
    kconfig = KernelConfig.parse(config, kernel)
    spec = {"designs": designs, "seeds": seeds, "profile": profile, "config": kconfig.as_list()}
    if kconfig.version.name != DEFAULT_KERNEL:  # the manifests of sweeps on the default kernel stay as they were
        spec["kernel"] = kconfig.version.name
    return spec


def _seeds(path: Path, seeds: Any) -> list[int]:
    """``seeds``: a count or a list of integers, within the bound."""
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise BenchframeError(f"{path}: [sweep] seeds must be at least 1")
        if seeds > MAX_SEEDS:
            raise BenchframeError(f"{path}: [sweep] seeds = {seeds} is over its bound of {MAX_SEEDS}")
        seeds = list(range(1, seeds + 1))
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool)
                                                           for s in seeds):
        raise BenchframeError(f"{path}: [sweep] seeds must be a count or a list of integers")
    if len(seeds) > MAX_SEEDS:
        raise BenchframeError(f"{path}: [sweep] seeds: {len(seeds)} is over the bound of {MAX_SEEDS}")
    negative = [s for s in seeds if s < 0]
    if negative:  # random.Random(-s) is random.Random(s): the run of seed s, counted twice
        raise BenchframeError(f"{path}: [sweep] seeds: {negative[0]} is not a non-negative integer (it would repeat "
                              f"seed {-negative[0]})")
    return seeds


def _profile(path: Path, profile: Any, reg: Registry) -> str | None:
    """``profile``: a registered name, or a file (``.toml``, or a path) relative to the spec's folder; checked."""
    if profile is not None and (not isinstance(profile, str) or not profile.strip()):
        raise BenchframeError(f"{path}: [sweep] profile must be a profile's name or file")
    if profile is not None and profile not in reg.profiles and (profile.endswith(".toml") or "/" in profile):
        profile = str(_beside(path, profile))
    reg.cost_model(profile)
    return profile


def _grids(path: Path, workloads: object, reg: Registry) -> dict[str, dict[str, list[Any]]]:
    """``[workloads.NAME]`` tables: parameter -> values, each value checked by the workload."""
    if not isinstance(workloads, dict) or not workloads:
        raise BenchframeError(f"{path}: needs at least one [workloads.NAME] table")
    grids: dict[str, dict[str, list[Any]]] = {}
    for name, grid in workloads.items():
        w = reg.workload(name)
        if not isinstance(grid, dict):
            raise BenchframeError(f"{path}: [workloads.{name}] must be a table of parameter = [values]")
        clean: dict[str, list[Any]] = {}
        for key, values in grid.items():
            if isinstance(values, SCALARS):
                values = [values]
            if not isinstance(values, list) or not values or not all(isinstance(v, SCALARS) for v in values):
                raise BenchframeError(f"{path}: [workloads.{name}] {key} must be a value or a non-empty list")
            param = w.param(key)
            if param.path:
                values = [str(_beside(path, v)) if isinstance(v, str) and v.strip() else v for v in values]
            clean[key] = [param.convert(v, name) for v in values]  # as the parameter's type: 8 and "8" are one
            for v in clean[key]:
                w.resolve_params({key: v})
        grids[name] = clean
    return grids


def cells(spec: dict[str, Any], plugins: tuple[str, ...] = ()) -> list[RunSpec]:
    """The distinct cells of a loaded spec, in order (a value listed twice, ``bulk = [1, 1]``, is one cell)."""
    out: dict[str, RunSpec] = {}
    for workload, grid in spec["workloads"].items():
        keys = list(grid)
        for combo in product(*(grid[k] for k in keys)):
            params = dict(zip(keys, combo))
            for design in spec["designs"]:
                for seed in spec["seeds"]:
                    cell = RunSpec(design=design, workload=workload, params=params, seed=seed,
                                   profile=spec["profile"], config=tuple(spec["config"]), plugins=plugins,
                                   kernel=spec.get("kernel", DEFAULT_KERNEL))
                    out.setdefault(cell_key(cell), cell)
    return list(out.values())


def count_cells(spec: dict[str, Any]) -> int:
    """The cells a loaded spec lists, duplicates included."""
    return len(spec["designs"]) * len(spec["seeds"]) * sum(
        math.prod(len(values) for values in grid.values()) for grid in spec["workloads"].values())


def cell_key(cell: RunSpec) -> str:
    key = {"design": cell.design, "workload": cell.workload, "params": dict(cell.params), "seed": cell.seed,
           "profile": cell.profile, "config": list(cell.config)}
    if cell.kernel != DEFAULT_KERNEL:  # keys of cells on the default kernel stay as they were
        key["kernel"] = cell.kernel
    canon = json.dumps(key, sort_keys=True)
    return hashlib.sha256(canon.encode()).hexdigest()[:20]
