"""The studies of the comparison: each answers one question from the 2021 thread on one workload (varying one
parameter) and names the metrics that answer it. Workloads contribute their own (``Workload.studies``; one at
its default parameters where they declare none); ``benchframe compare`` runs those of the standard workloads
(or of the workloads named), and ``benchframe report`` finds the ones saved results answer."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.kconfig import kernel_version
from benchframe.records import Study
from benchframe.run.spec import RunSpec

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchframe.records import Testbed
    from benchframe.registry import Registry
    from benchframe.results import RunResult

#: the built-in studies in the order the report reads them: costs, latency, then each caller; the studies of
#: other workloads follow, by workload name
ORDER = ("bulk", "irq", "irq_rt", "rt_atomic", "page_pool", "sunrpc", "contention", "numa", "nmi", "trace")
#: what a workload without a study of its own is shown with in saved results
DEFAULT_METRICS = ("alloc_free_cycles_per_page", "alloc_cycles_per_page", "irqs_off_max_cycles")


def designs_of(reg: Registry, given: list[str], kernel: str | None = None) -> list[str]:
    """The design specs named (each checked: its name and options, and that it runs on ``kernel``), else
    every registered design that runs on ``kernel``."""
    for d in given:
        check_design_kernel(reg, d, kernel)
    if given:
        return given
    version = kernel_version(kernel)
    return [d for d, rec in reg.designs.items() if rec.factory.kernel_problem(version) is None]


def check_design_kernel(reg: Registry, design: str, kernel: str | None) -> None:
    """A one-line error when ``design`` (a spec) is unknown or refuses kernel version ``kernel``."""
    record = reg.design_spec(design)[0]
    problem = record.factory.kernel_problem(kernel_version(kernel))
    if problem:
        raise BenchframeError(f"design {record.name}: {problem}")


def baseline_of(designs: list[str], asked: str | None, known: Sequence[str] = (),
                among: str = "the designs compared") -> str:
    """The baseline: ``asked`` (``--baseline``), which must be one of ``designs``; not given, ``single`` where it
    is among them, else the first design. One line where ``asked`` is no design at all (``known``: the
    registered ones, when given) or one not selected -- never a silent stand-in."""
    if asked is None:
        return "single" if "single" in designs else designs[0]
    if asked in designs:
        return asked
    if known and asked.partition(":")[0] not in known:
        raise BenchframeError(f"--baseline {asked!r}: unknown design (known: {', '.join(known)})")
    raise BenchframeError(f"--baseline {asked!r} is not among {among} ({', '.join(designs)})")


def _in_order(studies: list[Study]) -> list[Study]:
    return sorted(studies, key=lambda s: ORDER.index(s.key) if s.key in ORDER else len(ORDER))


def workload_args(reg: Registry, given: list[str]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """``--workloads`` names, where ``NAME:VALUE`` sets the workload's first parameter (``trace:FILE`` its
    ``file``): the names, and per name the parameters so set."""
    names: list[str] = []
    args: dict[str, dict[str, Any]] = {}
    for entry in given:
        name, sep, value = entry.partition(":")
        w = reg.workload(name)
        if sep:
            if not w.params:
                raise BenchframeError(f"--workloads {entry}: workload {name} has no parameter to set")
            first = w.params[0].name
            w.resolve_params({first: value})
            args[name] = {first: value}
        names.append(name)
    return names, args


def select_studies(reg: Registry, given: list[str]) -> list[Study]:
    """The studies of the workloads named in ``given`` (``--workloads``), else of every standard workload, in
    ``ORDER``; each study's points are checked against its workload before anything runs."""
    names, args = workload_args(reg, given)
    chosen = []
    for w in reg.workloads.values():
        if (names and w.name not in names) or (not names and not w.standard):
            continue
        for study in w.compare_studies():
            chosen.append(replace(study, params={**study.params, **args[w.name]}) if w.name in args else study)
    for study in chosen:  # bad parameter values (a trace file too) fail before anything runs or is written
        for params in study.points():
            reg.workload(study.workload).resolve_params(params)
    return _in_order(chosen)


def study_cells(studies: list[Study], designs: list[str], seeds: list[int], testbed: Testbed) -> list[RunSpec]:
    """Every cell of the studies on ``testbed`` (each study adding its own config options): study by study,
    point by point, design by design, seed by seed."""
    out = []
    for study in studies:
        bed = replace(testbed, config=tuple(sorted(set(testbed.config) | set(study.config))))
        for params in study.points():
            perf = study.vary is not None and params[study.vary] in study.perf_at
            out += [replace(RunSpec.on(bed, design, study.workload, params, seed), perf=perf)
                    for design in designs for seed in seeds]
    return out


def studies_from_runs(runs: list[RunResult], reg: Registry) -> list[Study]:
    """The studies workloads declare that match the runs, plus one per other workload (with the parameter its
    runs vary, if any)."""
    declared = [s for w in reg.workloads.values() if w.studies for s in w.compare_studies()]
    studies = []
    for study in _in_order(declared):
        have = [r for r in runs if r.workload == study.workload]
        if not have:
            continue
        if study.vary and not any(r.params.get(study.vary) in study.values for r in have):
            continue
        if study.config and not any(all(c in r.config for c in study.config) for r in have):
            continue
        if study.vary:  # values the runs have beyond the study's own (a sweep of trace batch windows) are shown too
            extra = {r.params[study.vary] for r in have if r.params.get(study.vary) not in study.values}
            study = replace(study, values=study.values + tuple(sorted(extra, key=str)))
        studies.append(study)
    seen = {s.workload for s in studies}
    for workload in sorted({r.workload for r in runs} - seen):
        studies.append(_ad_hoc(workload, [r for r in runs if r.workload == workload], reg))
    return studies


def _ad_hoc(workload: str, have: list[RunResult], reg: Registry) -> Study:
    """A study of runs no declared study answers: its metrics, along the first parameter its runs vary."""
    keys = sorted({k for r in have for k in r.params})
    varied = [k for k in keys if len({json.dumps(r.params.get(k)) for r in have}) > 1]
    vary = varied[0] if varied else None
    values = tuple(sorted({r.params[vary] for r in have}, key=str)) if vary else ()
    w = reg.workloads.get(workload)
    metrics = tuple(w.metrics) if w and w.metrics else DEFAULT_METRICS
    return Study(workload, f"{workload}" + (f" vs {vary}" if vary else ""), metrics, vary, values, workload=workload)
