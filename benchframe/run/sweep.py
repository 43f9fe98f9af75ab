"""Sweeps: a large grid described in a TOML file, run on an executor into a resumable results directory.

The spec::

    [sweep]
    designs = ["single", "array"]      # default: every registered design
    seeds = [1, 2, 3]                  # or a count: seeds = 3
    profile = "e5-1650v4"              # optional
    config = ["PREEMPT_RT"]            # optional
    output = "sweeps/bulk"             # optional, else --output

    [workloads.page_bench04]           # one table per workload: parameter -> list of values
    bulk = [1, 8, 64]
    pages = [2048]

Each finished cell is written to ``OUTPUT/cells/<key>.json`` at once and atomically (write, then rename), so an
interrupted sweep (Ctrl-C, kill -9) loses at most the cells in flight; ``--resume`` runs only the missing ones.
``OUTPUT/manifest.json`` records the spec (written before the first cell); resuming with a different spec is
refused, and while a sweep runs the directory is locked: another sweep into it fails naming this one.
``benchframe report OUTPUT`` renders the results.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.io import DirectoryLock, dumps, read_text, write_atomic
from benchframe.kconfig import DEFAULT_KERNEL, KernelConfig
from benchframe.run.executors import DEFAULT_CELL_TIMEOUT, TLSFiles, check_executor, iter_results
from benchframe.run.spec import MAX_CELLS, MAX_SEEDS, RunSpec

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.registry import Registry

MANIFEST = "manifest.json"
SCALARS = (int, float, str, bool)


def load_spec(path: Path, reg: Registry) -> dict[str, Any]:
    """Parse and check a sweep spec; every problem is one line naming the file and the key."""
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BenchframeError(f"{path}: not valid TOML: {exc}") from None
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
    if output is not None and not isinstance(output, str):
        raise BenchframeError(f"{path}: [sweep] output must be a string")
    spec["output"] = output
    return spec


def _sweep_table(path: Path, head: dict[str, Any], reg: Registry) -> dict[str, Any]:
    """``[sweep]``: designs, seeds, profile and config, checked against the registry."""
    designs = head.get("designs", list(reg.designs))
    if not isinstance(designs, list) or not designs or not all(isinstance(d, str) for d in designs):
        raise BenchframeError(f"{path}: [sweep] designs must be a non-empty list of names")
    for d in designs:
        reg.design_spec(d)
    seeds = head.get("seeds", [1])
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
    profile = head.get("profile")
    if profile is not None and not isinstance(profile, str):
        raise BenchframeError(f"{path}: [sweep] profile must be a string")
    reg.cost_model(profile)
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
            for v in values:
                w.resolve_params({key: v})
            clean[key] = values
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


def existing_cells(out: Path) -> set[str]:
    """Keys of finished cells; a corrupted cell file is an error (delete it to re-run that cell)."""
    done: set[str] = set()
    folder = out / "cells"
    if not folder.is_dir():
        return done
    for f in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise BenchframeError(f"{f}: corrupted results file (not valid JSON); delete it to re-run "
                                  "that cell") from None
        if not isinstance(doc, dict) or "metrics" not in doc or "design" not in doc:
            raise BenchframeError(f"{f}: corrupted results file (not a run result); delete it to re-run "
                                  "that cell")
        done.add(f.stem)
    return done


def load_sweep_results(out: str | Path) -> list[dict[str, Any]]:
    """The finished cells of a sweep directory, as ``RunResult.as_dict()`` dicts in the manifest's cell order
    (workloads by name, then the parameter grid, design, seed; missing cells, e.g. of an interrupted sweep, are
    skipped). For ``benchframe report DIR`` & co.

    Raises a one-line ``BenchframeError`` if ``out`` is not a sweep directory, its manifest is unreadable or a
    cell file is corrupted."""
    out = Path(out)
    mpath = out / MANIFEST
    if not mpath.is_file():
        raise BenchframeError(f"{out}: no {MANIFEST}; not a sweep directory")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        version = manifest["schema"]
        spec = manifest["spec"]
        order = {cell_key(c): i for i, c in enumerate(cells(spec))}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise BenchframeError(f"{mpath}: corrupted manifest; this is not a sweep directory") from None
    if version != 1:
        raise BenchframeError(f"{mpath}: unknown sweep schema version {version!r} (this benchframe reads 1)")
    existing_cells(out)  # a corrupted cell file is an error, not a silently missing cell
    runs = []
    for f in (out / "cells").glob("*.json") if (out / "cells").is_dir() else ():
        runs.append((order.get(f.stem, len(order)), f.stem, json.loads(f.read_text(encoding="utf-8"))))
    return [doc for _, _, doc in sorted(runs, key=lambda t: (t[0], t[1]))]


def _check_manifest(out: Path, manifest: dict[str, Any], resume: bool) -> None:
    """``out`` may receive this sweep: empty or new, or (with ``resume``) the same sweep's directory."""
    mpath = out / MANIFEST
    if mpath.exists():
        try:
            old = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise BenchframeError(f"{mpath}: corrupted manifest; this is not a sweep directory") from None
        if isinstance(old, dict) and old.get("schema") != manifest["schema"]:
            raise BenchframeError(f"{mpath}: unknown sweep schema version {old.get('schema')!r} (this benchframe "
                                  f"reads {manifest['schema']})")
        if not resume:
            raise BenchframeError(f"{out} already holds a sweep; use --resume to finish it or another --output")
        if old != manifest:
            raise BenchframeError(f"{out}: the sweep there was started from a different spec; refusing to mix")
    elif resume and out.exists() and any(p.name != "cells" or any(p.iterdir()) for p in out.iterdir()):
        raise BenchframeError(f"{out}: no {MANIFEST}; not a sweep directory")


def run_sweep(spec: dict[str, Any], out: Path, resume: bool, jobs: int | None, executor: str,
              scheduler: str | None, plugins: tuple[str, ...] = (),
              progress: Callable[[int], object] | None = None,
              timeout: float | None = DEFAULT_CELL_TIMEOUT, tls: TLSFiles | None = None) -> tuple[int, int, list[str]]:
    """Run the cells of a loaded spec that ``out`` does not hold yet; returns (run, already done, errors).

    ``out`` is locked for the whole sweep (a second sweep into it fails in one line naming this one) and the
    manifest is written before the first cell, so two sweeps never mix their cells. A sweep that finishes no
    cell (an unreachable scheduler, Ctrl-C while a cluster starts) leaves ``out`` as it found it."""
    manifest = {"schema": 1, "spec": {k: v for k, v in spec.items() if k != "output"}}
    mpath = out / MANIFEST
    check_executor(jobs, executor, scheduler, timeout, tls)
    lock, created = _claim(out, manifest, resume)
    wrote = False  # this call wrote the manifest
    finished = 0
    todo: list[RunSpec] = []
    try:
        for stale in (out / "cells").glob(".*.tmp"):  # a write that a kill -9 interrupted
            stale.unlink(missing_ok=True)
        done = existing_cells(out)
        everything = cells(spec, plugins)
        todo = [c for c in everything if cell_key(c) not in done]
        if progress and len(todo) < len(everything):  # a resumed sweep's bar counts the cells already there
            progress(len(everything) - len(todo))
        if not mpath.exists():
            write_atomic(mpath, dumps(manifest))
            wrote = True
        errors: list[str] = []
        for i, result in iter_results(todo, jobs, executor, scheduler, timeout=timeout, tls=tls):
            if isinstance(result, str):
                errors.append(result)
            else:
                write_atomic(out / "cells" / f"{cell_key(todo[i])}.json", dumps(result))
            finished += 1
            if progress:
                progress(1)
    finally:
        as_found = not finished and (not wrote or bool(todo))  # nothing to keep: leave out as it was
        if as_found and wrote:
            mpath.unlink(missing_ok=True)
        lock.release()
        if as_found:
            _remove(created)
    return len(todo), len(done), errors


def _claim(out: Path, manifest: dict[str, Any], resume: bool) -> tuple[DirectoryLock, list[Path]]:
    """Lock ``out`` (creating it and ``cells/``) and check that it may receive this sweep; returns the held lock
    and the directories created. On any error, ``out`` is left as it was found."""
    lock = DirectoryLock(out, "--output")
    if out.is_dir():
        lock.acquire()  # first: a sweep running there is named, whatever else is wrong
    created = [d for d in (out, out / "cells") if not d.exists()]
    try:
        _check_manifest(out, manifest, resume)
        try:
            (out / "cells").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BenchframeError(f"--output {out}: cannot create directory: {exc.strerror or exc}") from None
        if not lock.held:
            lock.acquire()
    except BaseException:
        if lock.held:
            lock.release()
        _remove(created)
        raise
    return lock, created


def _remove(created: list[Path]) -> None:
    """Remove the directories this call created (empty ones only)."""
    for d in reversed(created):
        try:
            d.rmdir()
        except OSError:
            pass
