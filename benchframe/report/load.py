"""Loading saved results for ``benchframe report``: result documents (``run --json``, a compare's
``results.json``) and sweep directories, each problem a one-line error naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchframe import BenchframeError
from benchframe.io import read_text


def load_runs(paths: list[str]) -> tuple[list[dict[str, Any]], list[str], str]:
    """Runs from result documents (``run --json``, a compare's results.json) or a sweep directory."""
    runs: list[dict[str, Any]] = []
    profiles = set()
    configs = set()
    for raw in paths:
        path = Path(raw)
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise BenchframeError(f"{path}: no result files in directory")
        for f in files:
            text = read_text(f)
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BenchframeError(f"{f}: not a valid JSON result file ({exc})") from None
            if isinstance(doc, dict) and "runs" in doc:
                items = doc["runs"]
            elif isinstance(doc, dict) and "design" in doc and "metrics" in doc:
                items = [doc]
            elif path.is_dir():
                continue  # e.g. a sweep manifest
            else:
                raise BenchframeError(f"{f}: not a benchframe result document (no 'runs')")
            if not isinstance(items, list):
                raise BenchframeError(f"{f}: 'runs' must be a list")
            for i, r in enumerate(items):
                if not isinstance(r, dict) or not {"design", "workload", "params", "metrics"} <= set(r) or \
                        not isinstance(r["metrics"], dict) or not isinstance(r["params"], dict):
                    raise BenchframeError(f"{f}: run {i} lacks design/workload/params/metrics")
                runs.append(r)
                profiles.add(r.get("profile", "?"))
                configs.update(r.get("config", []))
    return runs, sorted(configs), ", ".join(sorted(profiles))
