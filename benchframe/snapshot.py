"""``Snapshot``: everything a report is rendered from, taken once by the command that made or loaded the runs.

The runs and the studies they answer; the designs in column order, the baseline, their re-entrancy verdicts
and their registered records (shape, metadata, constraints); the metric catalogue; the sections the plugins
contribute; and what the header says of where the runs came from. The report layer reads this and nothing
else -- never the registry, the plugins, the runner or the explorer (an import-linter contract keeps it so).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.metrics import Catalogue
    from benchframe.records import Design, Study
    from benchframe.results import RunResult
    from benchframe.verdict import Verdicts


@dataclass(frozen=True)
class CheckedFile:
    """What one measurement file checks of the model on one profile (``benchframe validate``): the designs and
    workloads its rows measure, how many rows, the worst error (percent, against the range where a point was
    measured several times) and where, and how many rows are beyond the tolerance. ``worst`` is None where
    nothing was predicted (the errors were not computed: saved results without a model check)."""

    file: str
    profile: str
    designs: tuple[str, ...]
    workloads: tuple[str, ...]
    rows: int
    worst: float | None
    worst_where: str
    beyond: int


@dataclass(frozen=True)
class ModelCheck:
    """How far to trust a report's numbers: the measurements that check the model (``files``, against
    ``tolerance`` percent) and the designs and workloads none checks; and the calibration's uncertainty -- the
    fitted ``prices`` of ``profile`` (name, fitted value, standard error), drawn ``len(draws)`` times with their
    covariance (``correlated``; False: independently, the profile records no correlation), each draw's prices,
    and ``values[(design, cell)]``: a decision cell's value rerun at each draw (the deterministic ones).
    ``refitted``: each draw is the calibration refitted within its bounds to data made again (a parametric
    bootstrap); False (results saved by an older benchframe): a normal draw with each price clipped to its bounds."""

    profile: str
    tolerance: float
    files: tuple[CheckedFile, ...]
    unchecked_designs: tuple[str, ...]
    unchecked_workloads: tuple[str, ...]
    prices: tuple[tuple[str, float, float], ...] = ()
    correlated: bool = False
    draws: tuple[tuple[tuple[str, float], ...], ...] = ()
    values: Mapping[tuple[str, str], tuple[float, ...]] = field(default_factory=dict)
    refitted: bool = False


@dataclass(frozen=True)
class Snapshot:
    """What a report shows (see the module docstring). ``records`` maps each design spec to its registered
    ``Design`` (None: saved results of a design no longer registered); ``sections`` are the plugins' report
    sections, ``(title, body)``; ``command`` reproduces the report, ``plugins`` are the versions of the plugin
    distributions loaded, ``sources`` say what made saved results; ``notes`` close the report; ``model_check``
    says how far to trust the numbers."""

    runs: list[RunResult]
    studies: list[Study]
    designs: list[str]
    baseline: str
    verdicts: Verdicts
    catalogue: Catalogue
    records: Mapping[str, Design | None]
    command: str
    plugins: Mapping[str, str] = field(default_factory=dict)
    sections: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    model_check: ModelCheck | None = None


def model_check_json(check: ModelCheck) -> dict[str, Any]:
    """The model check as a result document keeps it (``results.json``): a report of the saved results shows it."""
    out = asdict(check)
    out["values"] = {f"{design}|{cell}": list(v) for (design, cell), v in sorted(check.values.items())}
    return out


def model_check_from_json(doc: Any) -> ModelCheck | None:
    """A saved model check (None where the document has none or it is damaged: the report says so)."""
    if not isinstance(doc, dict):
        return None
    try:
        return ModelCheck(
            profile=str(doc["profile"]), tolerance=float(doc["tolerance"]),
            files=tuple(CheckedFile(**{**f, "designs": tuple(f["designs"]), "workloads": tuple(f["workloads"])})
                        for f in doc["files"]),
            unchecked_designs=tuple(doc["unchecked_designs"]), unchecked_workloads=tuple(doc["unchecked_workloads"]),
            prices=tuple((str(n), float(v), float(e)) for n, v, e in doc.get("prices", ())),
            correlated=bool(doc.get("correlated", False)),
            draws=tuple(tuple((str(n), float(v)) for n, v in d) for d in doc.get("draws", ())),
            values={_pair(k): tuple(float(x) for x in v) for k, v in doc.get("values", {}).items()},
            refitted=bool(doc.get("refitted", False)))
    except (KeyError, TypeError, ValueError):
        return None


def _pair(key: str) -> tuple[str, str]:
    design, _, cell = key.rpartition("|")
    if not design:
        raise ValueError(key)
    return design, cell
