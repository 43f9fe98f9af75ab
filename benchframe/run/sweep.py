"""Sweeps: a large grid described in a TOML file (``run/grid.py``), run on an executor into a resumable results
directory.

Each finished cell is written to ``OUTPUT/cells/<key>.json`` at once and atomically (write, then rename), so an
interrupted sweep (Ctrl-C, kill -9) loses at most the cells in flight; ``--resume`` runs only the missing ones.
``OUTPUT/manifest.json`` records the spec (written before the first cell); resuming with a different spec is
refused, and while a sweep runs the directory is locked: another sweep into it fails naming this one.
``benchframe report OUTPUT`` renders the results.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.io import OutputLock, check_file, dumps, loads_json, read_text, write_atomic
from benchframe.results import CellFailure, RunResult, check_run
from benchframe.run.grid import cell_key, cells
from benchframe.run.session import execute

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.run.executors import Outcome
    from benchframe.run.setup import Setup
    from benchframe.run.spec import RunSpec

MANIFEST = "manifest.json"


def existing_cells(out: Path) -> set[str]:
    """Keys of finished cells; a corrupted cell file is an error (delete it to re-run that cell)."""
    done: set[str] = set()
    folder = out / "cells"
    if not folder.is_dir():
        return done
    for f in sorted(folder.glob("*.json")):
        check_file(f, kind="sweep cell")  # a FIFO there would never end
        try:
            doc = loads_json(read_text(f, kind="sweep cell"))
        except ValueError:
            raise BenchframeError(f"{f}: corrupted results file (not valid JSON); delete it to re-run "
                                  "that cell") from None
        if not isinstance(doc, dict) or "metrics" not in doc or "design" not in doc:
            raise BenchframeError(f"{f}: corrupted results file (not a run result); delete it to re-run "
                                  "that cell")
        done.add(f.stem)
    return done


def load_sweep_results(out: str | Path) -> list[RunResult]:
    """The finished cells of a sweep directory, as ``RunResult``s in the manifest's cell order
    (workloads by name, then the parameter grid, design, seed; missing cells, e.g. of an interrupted sweep, are
    skipped). For ``benchframe report DIR`` & co.

    Raises a one-line ``BenchframeError`` if ``out`` is not a sweep directory, its manifest is unreadable or a
    cell file is corrupted."""
    out = Path(out)
    mpath = out / MANIFEST
    if not mpath.is_file():
        raise BenchframeError(f"{out}: no {MANIFEST}; not a sweep directory")
    try:
        manifest = loads_json(read_text(mpath, kind="sweep manifest"))
        version = manifest["schema"]
        spec = manifest["spec"]
        order = {cell_key(c): i for i, c in enumerate(cells(spec))}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BenchframeError(f"{mpath}: corrupted manifest; this is not a sweep directory") from None
    if version != 1:
        raise BenchframeError(f"{mpath}: unknown sweep schema version {version!r} (this benchframe reads 1)")
    existing_cells(out)  # a corrupted cell file is an error, not a silently missing cell
    runs = []
    for f in (out / "cells").glob("*.json") if (out / "cells").is_dir() else ():
        runs.append((order.get(f.stem, len(order)), f.stem, check_run(loads_json(read_text(f, kind="sweep cell")),
                                                                     f"{f}: run 0")))
    return [run for _, _, run in sorted(runs, key=lambda t: (t[0], t[1]))]


def _check_manifest(out: Path, manifest: dict[str, Any], resume: bool) -> None:
    """``out`` may receive this sweep: empty or new, or (with ``resume``) the same sweep's directory."""
    mpath = out / MANIFEST
    if mpath.exists():
        check_file(mpath, kind="sweep manifest")
        try:
            old = loads_json(read_text(mpath, kind="sweep manifest"))
        except ValueError:
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


def run_sweep(spec: dict[str, Any], out: Path, resume: bool, setup: Setup,
              progress: Callable[[int], object] | None = None) -> tuple[int, int, list[CellFailure]]:
    """Run the cells of a loaded spec that ``out`` does not hold yet, on the setup's executor (its testbed's
    plugins; the spec's own testbed is in each cell); returns (run, already done, failures).

    ``out`` is locked for the whole sweep (a second sweep into it fails in one line naming this one) and the
    manifest is written before the first cell, so two sweeps never mix their cells. A sweep that finishes no
    cell (an unreachable scheduler, Ctrl-C while a cluster starts) leaves ``out`` as it found it."""
    manifest = {"schema": 1, "spec": {k: v for k, v in spec.items() if k != "output"}}
    mpath = out / MANIFEST
    lock, created = _claim(out, manifest, resume)
    wrote = False  # this call wrote the manifest
    finished: list[Outcome] = []
    todo: list[RunSpec] = []

    def save(i: int, result: Outcome) -> None:  # each cell at once: an interrupted sweep keeps what finished
        if isinstance(result, RunResult):
            write_atomic(out / "cells" / f"{cell_key(todo[i])}.json", dumps(result.model_dump()))
        finished.append(result)

    try:
        for stale in (out / "cells").glob(".*.tmp"):  # a write that a kill -9 interrupted
            stale.unlink(missing_ok=True)
        done = existing_cells(out)
        everything = cells(spec, setup.testbed.plugins)
        todo = [c for c in everything if cell_key(c) not in done]
        if progress and len(todo) < len(everything):  # a resumed sweep's bar counts the cells already there
            progress(len(everything) - len(todo))
        if not mpath.exists():
            write_atomic(mpath, dumps(manifest))
            wrote = True
        execute(setup, todo, progress=progress, on_result=save)
    finally:
        as_found = not finished and (not wrote or bool(todo))  # nothing to keep: leave out as it was
        if as_found and wrote:
            mpath.unlink(missing_ok=True)
        lock.release()
        if as_found:
            _remove(created)
    return len(todo), len(done), [r for r in finished if isinstance(r, CellFailure)]


def _claim(out: Path, manifest: dict[str, Any], resume: bool) -> tuple[OutputLock, list[Path]]:
    """Lock ``out`` (creating it) and check that it may receive this sweep, then create ``cells/``; returns the
    held lock and the directories created. The lock comes first: a sweep running there is named, whatever else
    is wrong, and nothing is created in ``out`` before the lock says who writes there. On any error, ``out`` is
    left as it was found."""
    created = [d for d in (*reversed((out / "cells").parents), out / "cells") if not d.exists()]
    lock = OutputLock.inside(out, "--output")
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BenchframeError(f"--output {out}: cannot create directory: {exc.strerror or exc}") from None
        lock.acquire()
        _check_manifest(out, manifest, resume)
        try:
            (out / "cells").mkdir(exist_ok=True)
        except OSError as exc:
            raise BenchframeError(f"--output {out}: cannot create directory: {exc.strerror or exc}") from None
    except BaseException:
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
