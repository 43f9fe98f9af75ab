"""What a command runs and hands to a report: ``execute`` (the cells on the setup's executor, with the
designs' re-entrancy verdicts explored alongside), the verdicts of saved results' designs, and the ``Snapshot``
a report is rendered from -- the registry's part of it taken here, so the report never reads the registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.explore.verdicts import PendingVerdicts, design_verdicts
from benchframe.metrics import Catalogue
from benchframe.results import CellFailure, RunResult
from benchframe.run.executors import run_specs
from benchframe.snapshot import Snapshot

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from benchframe.records import Design, Study
    from benchframe.registry import Registry
    from benchframe.run.executors import Outcome
    from benchframe.run.setup import Setup
    from benchframe.run.spec import RunSpec
    from benchframe.snapshot import ModelCheck
    from benchframe.verdict import Verdicts


@dataclass(frozen=True)
class Executed:
    """What ``execute`` gives: the runs and the failed cells (each in spec order), and the designs' verdicts."""

    runs: list[RunResult]
    failures: list[CellFailure]
    verdicts: Verdicts
    outcomes: list[Outcome] = field(default_factory=list)  # every cell's, in spec order


def execute(setup: Setup, specs: list[RunSpec], designs: Sequence[str] = (),
            progress: Callable[[int], object] | None = None,
            on_result: Callable[[int, Outcome], None] | None = None) -> Executed:
    """Run every cell on the setup's executor; ``designs``' verdicts (on the setup's kernel version and config)
    are explored while the cells run, those not cached on the local jobs' processes, a pool that lives as long
    as the cells do (leaving early stops it). ``progress(1)`` and ``on_result(index, outcome)`` are called in
    this process as each cell finishes."""
    ex = setup.executor
    reg = setup.registry()
    with PendingVerdicts(list(designs), reg, setup.testbed, ex.local_jobs, ex.timeout) as pending:
        results = run_specs(specs, ex.jobs, ex.kind, ex.scheduler, progress, on_result, ex.timeout, ex.tls)
        verdicts = pending.result()
    return Executed([r for r in results if isinstance(r, RunResult)],
                    [r for r in results if isinstance(r, CellFailure)], verdicts, list(results))


def design_order(reg: Registry, runs: list[RunResult]) -> list[str]:
    """The designs of saved runs, registered ones in the registry's order, the others after them."""
    present = list(dict.fromkeys(r.design for r in runs))
    return [d for d in reg.designs if d in present] + [d for d in present if d not in reg.designs]


def saved_verdicts(setup: Setup, designs: list[str], saved: Verdicts) -> Verdicts:
    """Each design's verdicts: saved with the results, else (a run --json of an older benchframe) explored on
    the current model for a design still registered (once: they are cached)."""
    reg = setup.registry()
    missing = [d for d in designs if d not in saved and record(reg, d) is not None]
    found = {**saved, **design_verdicts(missing, reg, setup.testbed, setup.executor.local_jobs)}
    return {d: found[d] for d in designs if d in found}


def record(reg: Registry, design: str) -> Design | None:
    """The registered record of a design spec, None if it is not (or no longer) registered."""
    try:
        return reg.design_spec(design)[0]
    except BenchframeError:
        return None


def snapshot(reg: Registry, runs: list[RunResult], studies: list[Study], designs: list[str], baseline: str,
             verdicts: Verdicts, command: str, sources: Sequence[str] = (), notes: Sequence[str] = (),
             model_check: ModelCheck | None = None) -> Snapshot:
    """What a report of ``runs`` shows, the registry's part taken now: the designs' records, the workloads'
    metric catalogue, the plugin distributions' versions and the plugins' report sections (a plugin whose hook
    raises is named in the registry's errors; the report still comes out); ``model_check``: how far to trust
    the numbers."""
    called = reg.call("benchframe_report_sections", errors=reg.errors, runs=[r.model_dump() for r in runs],
                      baseline=baseline)
    sections = [(str(title), str(body)) for section in called for title, body in section]
    return Snapshot(runs=runs, studies=studies, designs=designs, baseline=baseline, verdicts=verdicts,
                    catalogue=Catalogue(reg.workloads), records={d: record(reg, d) for d in designs},
                    command=command, plugins=reg.versions(), sections=sections, sources=list(sources),
                    notes=list(notes), model_check=model_check)
