"""Loading saved results for ``benchframe report``: result documents (``run --json``, a compare's
``results.json``) and sweep directories, each checked against the result schema on load (pydantic: types,
finite numbers, the schema version), each problem a one-line error naming the file, the run and the field."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from benchframe import BenchframeError
from benchframe.io import SCHEMA, loads_json, read_text, schema_problem

Name = Annotated[str, Field(min_length=1)]
Number = Annotated[float, Field(allow_inf_nan=False)]


def _scalar(value: Any) -> Any:
    if isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise ValueError("should be a number, a string or a boolean")


Scalar = Annotated[Any, AfterValidator(_scalar)]


class RunRecord(BaseModel):
    """One run as ``RunResult.as_dict()`` writes it (``benchframe.records.RunResult``)."""

    model_config = ConfigDict(strict=True, extra="allow")  # newer optional keys: read by a newer benchframe

    design: Name
    workload: Name
    params: dict[str, Scalar]
    seed: int
    metrics: dict[str, Number | None]
    units: dict[str, str] = {}
    violations: list[str] = []
    profile: str = ""
    config: list[str] = []
    samples: dict[str, list[int]] = {}
    kernel: Name = "5.13"


class ResultDocument(BaseModel):
    """A result document (``benchframe.io.result_document``): its header; the runs are checked one by one."""

    model_config = ConfigDict(strict=True, extra="allow")  # newer optional keys: read by a newer benchframe

    schema_: Literal[1] = Field(1, alias="schema")  # SCHEMA
    benchframe: str = ""
    git_commit: str | None = None
    profile: str = ""
    config: list[str] = []
    command: str = ""
    kernel: str = ""
    runs: list[Any]


REQUIRED = ("design", "workload", "params", "metrics")


def check_run(r: object, where: str) -> dict[str, Any]:
    """``r`` if it is a valid run record, else a one-line error naming ``where`` (file and run) and the field."""
    if not isinstance(r, dict) or not set(REQUIRED) <= set(r):
        raise BenchframeError(f"{where} lacks design/workload/params/metrics")
    try:
        RunRecord.model_validate(r)
    except ValidationError as exc:
        raise BenchframeError(f"{where}: {schema_problem(exc)}") from None
    return r


def _document(f: Path, doc: object, in_dir: bool) -> list[Any] | None:
    """The runs of one parsed file: a result document's, a bare run's (a sweep cell), or ``None`` for another
    JSON file in a directory (a sweep manifest)."""
    if isinstance(doc, dict) and "runs" in doc:
        if doc.get("schema", SCHEMA) != SCHEMA:
            raise BenchframeError(f"{f}: unknown result schema version {doc['schema']!r} (this benchframe reads "
                                  f"{SCHEMA})")
        try:
            ResultDocument.model_validate(doc)
        except ValidationError as exc:
            raise BenchframeError(f"{f}: {schema_problem(exc)}") from None
        runs: list[Any] = doc["runs"]
        return runs
    if isinstance(doc, dict) and "design" in doc and "metrics" in doc:
        return [doc]
    if in_dir:
        return None
    raise BenchframeError(f"{f}: not a benchframe result document (no 'runs')")


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
        doc = loads_json(read_text(f))
    except ValueError as exc:
        raise BenchframeError(f"{f}: not a valid JSON result file ({exc})") from None
    items = _document(f, doc, in_dir)
    if items is None:
        return  # e.g. a sweep manifest
    if isinstance(doc, dict) and "runs" in doc:
        out.sources.append(_source(f, doc))
        if isinstance(doc.get("verdicts"), dict):
            out.verdicts.update(doc["verdicts"])
    for i, r in enumerate(items):
        out.runs.append(check_run(r, f"{f}: run {i}"))
