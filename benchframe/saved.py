"""Saved results, loaded for ``benchframe report``: result documents (``run --json``, a compare's
``results.json``) and sweep directories, each file read once (bounded: ``benchframe.io.read_text``) and each
run counted once.

A run is identified by its design, workload, parameters, seed, profile, config and kernel
(``RunResult.identity``): the simulation is deterministic, so two records of one run are one measurement, and
counting both would shrink every standard deviation and p-value. A file named twice (``report x.json
x.json``, or a directory and a file in it) is read once; a run found twice with the same figures is counted
once; both say so in a warning. A run found twice with different figures (results of two benchframe versions)
is refused: which one to count is the user's choice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchframe import BenchframeError
from benchframe.io import check_file, loads_json, read_text
from benchframe.results import ResultDocument, RunResult, check_run
from benchframe.verdict import Verdicts, verdicts_from_json


@dataclass
class Loaded:
    """What saved results hold: the runs, one line per result document saying what made it (version, commit,
    command), the explore verdicts the documents carry, and what was read or counted once (warnings)."""

    runs: list[RunResult] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    verdicts: Verdicts = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)  # per run: the file and run number it came from
    model_check: Any = None  # how far to trust the runs: the first document's that has one (compare's)


def load_results(paths: list[str]) -> Loaded:
    """Runs from result documents or sweep directories, each file once and each run once (see the module)."""
    out = Loaded()
    seen: dict[Path, str] = {}
    for raw in paths:
        path = Path(raw)
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise BenchframeError(f"{path}: no result files in directory")
        for f in files:
            real = Path(os.path.realpath(f))
            if real in seen:
                out.warnings.append(f"{f}: named twice (as {seen[real]}): read once")
                continue
            seen[real] = str(f)
            _load_file(f, path.is_dir(), out)
    if len(out.sources) > 3:  # a sweep directory: one line, not one per cell
        out.sources = [f"{len(out.sources)} result files"]
    _count_once(out)
    return out


def _load_file(f: Path, in_dir: bool, out: Loaded) -> None:
    """The runs of one file: a result document's, a bare run's (a sweep cell); another JSON file in a
    directory (a sweep manifest) is passed over. A file found in a directory must be a regular one (a FIFO
    named ``x.json`` there would never end)."""
    if in_dir:
        check_file(f, kind="result")
    try:
        doc = loads_json(read_text(f, kind="result"))
    except ValueError as exc:
        raise BenchframeError(f"{f}: not a valid JSON result file ({exc})") from None
    if isinstance(doc, dict) and "runs" in doc:
        document = ResultDocument.parse(doc, str(f))
        out.sources.append(document.source(str(f)))
        out.verdicts.update(verdicts_from_json(document.verdicts))
        out.runs.extend(document.runs)
        out.origins.extend(f"{f}: run {i}" for i in range(len(document.runs)))
        if out.model_check is None:
            out.model_check = document.model_check
    elif isinstance(doc, dict) and "design" in doc and "metrics" in doc:
        out.runs.append(check_run(doc, f"{f}: run 0"))
        out.origins.append(f"{f}: run 0")
    elif not in_dir:
        raise BenchframeError(f"{f}: not a benchframe result document (no 'runs')")


def _count_once(out: Loaded) -> None:
    """Each run once: a repeat with the same figures is dropped (one warning for all), one with other figures
    is an error naming both places."""
    first: dict[str, int] = {}
    repeats: list[int] = []
    for i, run in enumerate(out.runs):
        j = first.setdefault(run.identity(), i)
        if j == i:
            continue
        if (run.metrics, run.samples) != (out.runs[j].metrics, out.runs[j].samples):
            raise BenchframeError(f"{out.origins[i]} is the run of {out.origins[j]} ({run.design} on {run.workload} "
                                  f"{run.params}, seed {run.seed}) with other figures; a run counts once: leave one "
                                  "of the two out")
        repeats.append(i)
    if repeats:
        out.warnings.append(f"{len(repeats)} run(s) found twice with the same figures ({out.origins[repeats[0]]} "
                            f"repeats {out.origins[first[out.runs[repeats[0]].identity()]]}): each counted once")
        dropped = set(repeats)
        out.runs = [r for i, r in enumerate(out.runs) if i not in dropped]
        out.origins = [o for i, o in enumerate(out.origins) if i not in dropped]
