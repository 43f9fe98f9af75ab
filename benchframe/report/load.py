"""Loading saved results for ``benchframe report``: result documents (``run --json``, a compare's
``results.json``) and sweep directories, each problem a one-line error naming the file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchframe import BenchframeError
from benchframe.io import read_text


@dataclass
class Loaded:
    """What saved results hold: the runs, one line per result document saying what made it (version, commit,
    command), and the explore verdicts the documents carry (``{design: {context: dict}}``)."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    verdicts: dict[str, Any] = field(default_factory=dict)


def _source(f: Path, doc: dict[str, Any]) -> str:
    commit = str(doc.get("git_commit") or "?")[:12]
    command = doc.get("command") or "?"
    return f"{f}: benchframe {doc.get('benchframe', '?')}, commit {commit}, made by: {command}"


def load_runs(paths: list[str]) -> Loaded:
    """Runs from result documents (``run --json``, a compare's results.json) or a sweep directory."""
    out = Loaded()
    for raw in paths:
        path = Path(raw)
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise BenchframeError(f"{path}: no result files in directory")
        for f in files:
            _load_file(f, path.is_dir(), out)
    if len(out.sources) > 3:  # a sweep directory: one line, not one per cell
        out.sources = [f"{len(out.sources)} result files"]
    return out


def _load_file(f: Path, in_dir: bool, out: Loaded) -> None:
    try:
        doc = json.loads(read_text(f))
    except json.JSONDecodeError as exc:
        raise BenchframeError(f"{f}: not a valid JSON result file ({exc})") from None
    if isinstance(doc, dict) and "runs" in doc:
        items = doc["runs"]
        out.sources.append(_source(f, doc))
        if isinstance(doc.get("verdicts"), dict):
            out.verdicts.update(doc["verdicts"])
    elif isinstance(doc, dict) and "design" in doc and "metrics" in doc:
        items = [doc]
    elif in_dir:
        return  # e.g. a sweep manifest
    else:
        raise BenchframeError(f"{f}: not a benchframe result document (no 'runs')")
    if not isinstance(items, list):
        raise BenchframeError(f"{f}: 'runs' must be a list")
    for i, r in enumerate(items):
        if not isinstance(r, dict) or not {"design", "workload", "params", "metrics"} <= set(r) or \
                not isinstance(r["metrics"], dict) or not isinstance(r["params"], dict):
            raise BenchframeError(f"{f}: run {i} lacks design/workload/params/metrics")
        out.runs.append(r)
