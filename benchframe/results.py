"""What runs produce, in the one shape every command writes and reads.

``RunResult`` is one run: (design x workload x params x seed) on a profile, kernel and config, and what it
measured -- the flat long-format record (mimalloc-bench style) the reports read without knowing how it was
produced. ``CellFailure`` is a cell whose plugin failed instead. ``Verdict`` is a design's re-entrancy verdict
against one context (``benchframe explore``). ``ResultDocument`` is what ``run --json`` and ``compare`` write
(``results.json``): the header that reproduces the runs, the runs, and the designs' verdicts.

``RunResult`` and ``ResultDocument`` are strict pydantic models: the same classes build a record, write it and
read it back (types, finite numbers, the schema version), each problem of a file a one-line error naming the
file, the run and the field. Extra keys are kept: a newer benchframe's files still load.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
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
from benchframe.io import dumps, git_commit, loads_json, read_text, schema_problem
from benchframe.kconfig import DEFAULT_KERNEL
from benchframe.provenance import provenance

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


# -- re-entrancy verdicts -----------------------------------------------------------------------------------
#: the contexts ``benchframe explore`` runs a design's operations against: an interrupt whose handler allocates
#: on the same CPU, an NMI, another CPU
CONTEXTS = ("irq", "nmi", "smp")
#: how a report names each context's column
CONTEXT_LABELS = {"irq": "vs IRQ", "nmi": "vs NMI", "smp": "vs another CPU"}
#: the contexts against which an UNSAFE verdict disqualifies a design's costs: an interrupt on the same CPU
#: (allocating from a hardirq is allowed: GFP_ATOMIC) and a second CPU; not an NMI, from which no page allocator
#: may allocate (the single-page path itself is UNSAFE there)
DISQUALIFYING = ("irq", "smp")
#: how the reports say it
DISQUALIFYING_TEXT = "against an IRQ on the same CPU or an operation on another CPU"
UNSAFE_MARK = "[UNSAFE]"


@dataclass(frozen=True)
class Verdict:
    """One design's verdict against one context: ``SAFE``, ``UNSAFE`` or ``ERROR`` (explore could not run it),
    the reason (the simplest failing case, or what a SAFE design refuses), and the extent of the search."""

    design: str
    context: str
    verdict: str
    reason: str
    explored_points: int = 0
    refused: int = 0
    failing_pairs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


#: per design, its verdicts by context
Verdicts = dict[str, dict[str, Verdict]]


def unsafe(verdicts: dict[str, Verdict] | None) -> bool:
    """Whether the verdicts disqualify the design's costs: UNSAFE against an interrupt on the same CPU or
    another CPU."""
    per = verdicts or {}
    return any(per[c].verdict == "UNSAFE" for c in DISQUALIFYING if c in per)


def marked(design: str, verdicts: Verdicts | None) -> str:
    """``llist [UNSAFE]`` for a design explore found unsafe against an interrupt, else the name."""
    return f"{design} {UNSAFE_MARK}" if unsafe((verdicts or {}).get(design)) else design


def verdicts_as_json(verdicts: Verdicts) -> dict[str, dict[str, dict[str, Any]]]:
    return {d: {c: v.as_dict() for c, v in per.items()} for d, per in verdicts.items()}


def verdicts_from_json(doc: Any) -> Verdicts:
    """Verdicts saved in a result document; malformed entries are left out (they are explored again)."""
    out: Verdicts = {}
    if not isinstance(doc, dict):
        return out
    for design, per in doc.items():
        if not isinstance(per, dict):
            continue
        try:
            out[design] = {c: Verdict.from_dict(v) for c, v in per.items() if isinstance(v, dict)}
        except TypeError:
            continue
    return out


# -- the result document ------------------------------------------------------------------------------------
class ResultDocument(BaseModel):
    """What reproduces the runs exactly (the command line, benchframe's version and commit, the version of every
    plugin distribution loaded, profile, config, kernel; each run has its seed), the runs and, where computed,
    each design's explore verdicts (``verdicts_as_json``)."""

    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True)

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


@dataclass
class Loaded:
    """What saved results hold: the runs, one line per result document saying what made it (version, commit,
    command), and the explore verdicts the documents carry."""

    runs: list[RunResult] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    verdicts: Verdicts = field(default_factory=dict)
    model_check: Any = None  # the first document's that has one


def load_results(paths: list[str]) -> Loaded:
    """Runs from result documents (``run --json``, a compare's results.json) or sweep directories."""
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
    """The runs of one file: a result document's, a bare run's (a sweep cell); another JSON file in a
    directory (a sweep manifest) is passed over."""
    try:
        doc = loads_json(read_text(f))
    except ValueError as exc:
        raise BenchframeError(f"{f}: not a valid JSON result file ({exc})") from None
    if isinstance(doc, dict) and "runs" in doc:
        document = ResultDocument.parse(doc, str(f))
        out.sources.append(document.source(str(f)))
        out.verdicts.update(verdicts_from_json(document.verdicts))
        out.runs.extend(document.runs)
        if out.model_check is None:
            out.model_check = document.model_check
    elif isinstance(doc, dict) and "design" in doc and "metrics" in doc:
        out.runs.append(check_run(doc, f"{f}: run 0"))
    elif not in_dir:
        raise BenchframeError(f"{f}: not a benchframe result document (no 'runs')")
