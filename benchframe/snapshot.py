"""``Snapshot``: everything a report is rendered from, taken once by the command that made or loaded the runs.

The runs and the studies they answer; the designs in column order, the baseline, their re-entrancy verdicts
and their registered records (shape, metadata, constraints); the metric catalogue; the sections the plugins
contribute; and what the header says of where the runs came from. The report layer reads this and nothing
else -- never the registry, the plugins, the runner or the explorer (an import-linter contract keeps it so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from benchframe.metrics import Catalogue
    from benchframe.records import Design, Study
    from benchframe.results import RunResult
    from benchframe.verdict import Verdicts


@dataclass(frozen=True)
class Snapshot:
    """What a report shows (see the module docstring). ``records`` maps each design spec to its registered
    ``Design`` (None: saved results of a design no longer registered); ``sections`` are the plugins' report
    sections, ``(title, body)``; ``command`` reproduces the report, ``plugins`` are the versions of the plugin
    distributions loaded, ``sources`` say what made saved results; ``notes`` close the report."""

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
