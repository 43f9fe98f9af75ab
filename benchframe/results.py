"""What runs produce, in the one shape every command writes and reads.

``RunResult`` is one run: (design x workload x params x seed) on a profile, kernel and config, and what it
measured -- the flat long-format record (mimalloc-bench style) the reports read without knowing how it was
produced. ``CellFailure`` is a cell whose plugin failed instead (a design's exploration verdicts are in
``benchframe.verdict``). ``ResultDocument`` is what ``run --json`` and ``compare`` write
(``results.json``): the header that reproduces the runs, the runs, and the designs' verdicts.

``RunResult`` and ``ResultDocument`` are strict pydantic models: the same classes build a record, write it and
read it back (types, finite numbers, the schema version), each problem of a file a one-line error naming the
file, the run and the field. Extra keys are kept: a newer benchframe's files still load.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from benchframe import BenchframeError, __version__
from benchframe.io import dumps, git_commit, schema_problem
from benchframe.kconfig import DEFAULT_KERNEL
from benchframe.provenance import provenance
from benchframe.verdict import Verdicts, verdicts_as_json

#: the version of the result document's layout
SCHEMA = 1

Name = Annotated[str, Field(min_length=1)]


def _scalar(value: Any) -> Any:
    if isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise ValueError("should be a number, a string or a boolean")


def _number(value: Any) -> Any:
    """An int stays an int (a count is written ``3``, not ``3.0``), a float must be finite; ``None``: not
    measured."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("should be a valid number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("should be a finite number")
    if value < 0:
        raise ValueError("should be a non-negative number (every metric counts or measures)")
    return value


Scalar = Annotated[Any, AfterValidator(_scalar)]
Number = Annotated[Any, AfterValidator(_number)]


class RunResult(BaseModel):
    """One run: (design x workload x params x seed) on a profile and kernel config, and what it measured."""

    model_config = ConfigDict(strict=True, extra="allow")  # newer optional keys: read by a newer benchframe

    design: Name
    workload: Name
    params: dict[str, Scalar]
    seed: int
    metrics: dict[str, Number]
    units: dict[str, str] = {}
    violations: list[str] = []
    profile: str = ""
    config: list[str] = []
    #: raw per-event samples for distribution plots (e.g. ``irq_latency_cycles``), at most 1000 each
    samples: dict[str, list[int]] = {}
    kernel: Name = DEFAULT_KERNEL
    #: with attribution on (``RunSpec.perf``): folded stacks (``frame;frame``, inlined frames ``_[i]``) ->
    #: cycles of the measured part of the run, which sum to ``perf_cycles``, every CPU's clock advance
    perf_stacks: dict[str, int] = {}
    perf_cycles: int = 0

    def identity(self) -> str:
        """What makes two records the same run: design, workload, parameters, seed, profile, config, kernel (two
        records of one run are one measurement, never two samples)."""
        return json.dumps([self.design, self.workload, self.params, self.seed, self.profile, sorted(self.config),
                           self.kernel], sort_keys=True)

    @model_serializer(mode="wrap")
    def _shape(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A run without attribution is written without its (empty) perf fields: results keep their shape."""
        out: dict[str, Any] = handler(self)
        if not self.perf_stacks:
            out.pop("perf_stacks", None)
            out.pop("perf_cycles", None)
        return out


@dataclass(frozen=True)
class CellFailure:
    """A cell that gave no result because a plugin's code failed in it (raised, exited or hung past the
    ``--cell-timeout``): the plugin to blame (``""`` when no plugin's code was running), the cell's design and
    workload, and the one line that says so (what the commands print)."""

    plugin: str
    design: str
    workload: str
    message: str

    def __str__(self) -> str:
        return self.message


# -- the result document ------------------------------------------------------------------------------------
class ResultDocument(BaseModel):
    """What reproduces the runs exactly (the command line, benchframe's version and commit, the version of every
    plugin distribution loaded, profile, config, kernel; each run has its seed), the runs and, where computed,
    each design's explore verdicts (``verdicts_as_json``)."""

    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True,
                              protected_namespaces=())  # a field named model_check: pydantic < 2.10 warns

    schema_: Literal[1] = Field(default=1, alias="schema")  # SCHEMA
    benchframe: str = ""
    git_commit: str | None = None
    plugins: dict[str, str] = {}
    profile: str = ""
    config: list[str] = []
    command: str = ""
    kernel: str = ""
    runs: list[RunResult]
    verdicts: Any = None  # read leniently (verdicts_from_json): a damaged entry is explored again
    #: how far to trust the runs (``benchframe.snapshot.model_check_json``; compare's), read leniently too
    model_check: Any = None
    #: what made the numbers beyond the commit (``benchframe.provenance``): the checkout's edits, the profile's
    #: content, the measurement files' and references' digests
    provenance: Any = None

    @classmethod
    def made(cls, runs: list[RunResult], profile: str, config: list[str], command: str, kernel: str,
             plugins: dict[str, str], verdicts: Verdicts | None = None,
             model_check: dict[str, Any] | None = None, profile_source: str = "") -> ResultDocument:
        """The document of runs made now, by this benchframe at this commit (and these edits of it), with the
        profile read from ``profile_source``."""
        return cls(benchframe=__version__, git_commit=git_commit(), plugins=dict(sorted(plugins.items())),
                   profile=profile, config=config, command=command, kernel=kernel, runs=runs,
                   verdicts=None if verdicts is None else verdicts_as_json(verdicts), model_check=model_check,
                   provenance=provenance(profile_source))

    def dumps(self) -> str:
        """The document as JSON with a stable layout: identical runs give identical bytes."""
        empty = {k for k in ("verdicts", "model_check", "provenance") if getattr(self, k) is None}
        return dumps(self.model_dump(by_alias=True, exclude=empty))

    @classmethod
    def parse(cls, doc: dict[str, Any], where: str) -> ResultDocument:
        """A parsed JSON document checked against the schema: one-line errors naming ``where`` (the file), the
        run and the field."""
        if doc.get("schema", SCHEMA) != SCHEMA:
            raise BenchframeError(f"{where}: unknown result schema version {doc['schema']!r} (this benchframe reads "
                                  f"{SCHEMA})")
        runs = doc.get("runs")
        try:
            header = cls.model_validate({**doc, "runs": []} if isinstance(runs, list) else doc)
        except ValidationError as exc:
            raise BenchframeError(f"{where}: {schema_problem(exc)}") from None
        assert isinstance(runs, list)
        return header.model_copy(update={"runs": [check_run(r, f"{where}: run {i}") for i, r in enumerate(runs)]})

    def source(self, where: str) -> str:
        """One line saying what made the document: version, commit, command."""
        commit = str(self.git_commit or "?")[:12]
        state = self.provenance if isinstance(self.provenance, dict) else {}
        if state.get("dirty"):
            commit += f" with edits (diff sha256 {str(state.get('diff_sha256'))[:12]})"
        return f"{where}: benchframe {self.benchframe or '?'}, commit {commit}, made by: {self.command or '?'}"


REQUIRED = ("design", "workload", "params", "metrics")


def check_run(r: object, where: str) -> RunResult:
    """``r`` as a run record, else a one-line error naming ``where`` (file and run) and the field."""
    if not isinstance(r, dict) or not set(REQUIRED) <= set(r):
        raise BenchframeError(f"{where} lacks design/workload/params/metrics")
    try:
        return RunResult.model_validate(r)
    except ValidationError as exc:
        raise BenchframeError(f"{where}: {schema_problem(exc)}") from None
