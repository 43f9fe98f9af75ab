"""One section of the report per study: its heading (the question, and the parameters its runs share that are
not the workload's defaults) and a compare-kernels table per metric that answers it. Everything is read from
the runs themselves, so a heading never names a value its rows do not have."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from benchframe.metrics import LOWER
from benchframe.report.tables import compare_table

if TYPE_CHECKING:
    from benchframe.metrics import Catalogue
    from benchframe.output import Table
    from benchframe.records import Study
    from benchframe.results import RunResult


def study_runs(runs: list[RunResult], study: Study) -> list[RunResult]:
    """The runs a study's tables are made of: its workload, its kernel config, its varied parameter's values."""
    cfg = sorted(study.config)
    mine = [r for r in runs if r.workload == study.workload and
            all(c in r.config for c in cfg) and (cfg or "PREEMPT_RT" not in r.config)]
    if study.vary is not None:
        mine = [r for r in mine if r.params.get(study.vary) in study.values]
    return mine


def varied(runs: list[RunResult]) -> list[str]:
    """The parameters whose value differs between the runs."""
    keys = sorted({k for r in runs for k in r.params})
    return [k for k in keys if len({json.dumps(r.params.get(k)) for r in runs}) > 1]


def study_heading(runs: list[RunResult], study: Study, catalogue: Catalogue) -> str:
    """The study's question and the parameters its runs share that are not the workload's defaults -- read
    from the runs, so a heading never names a value its rows do not have."""
    mine = study_runs(runs, study)
    if not mine:
        return study.question
    changing = set(varied(mine)) | ({study.vary} if study.vary else set())
    defaults = catalogue.defaults(study.workload)
    fixed = [f"{k}={v}" for k, v in sorted(mine[0].params.items())
             if k not in changing and (k not in defaults or defaults[k] != v)]
    return study.question + (f" -- {', '.join(fixed)}" if fixed else "")


def metric_title(metric: str, workload: str, catalogue: Catalogue) -> str:
    m = catalogue.metric(metric, workload)
    return f"{metric} ({m.unit}, {m.better} is better)" if m else metric


def distinct(runs: list[RunResult], catalogue: Catalogue) -> list[RunResult]:
    """The runs without the copies: a cell whose workload does not use the seed was run once and its result
    shown under each seed; it counts once (its lowest seed's copy)."""
    seen: set[str] = set()
    out = []
    for r in sorted(runs, key=lambda r: r.seed):
        if not catalogue.seeded(r.workload, r.params):
            key = json.dumps([r.design, r.workload, r.params, r.config, r.kernel, r.profile], sort_keys=True,
                             default=str)
            if key in seen:
                continue
            seen.add(key)
        out.append(r)
    return out


def table_anchor(study: Study, metric: str) -> str:
    """The name of a study table's anchor (what the decision table's cells link to)."""
    return f"{study.key or study.workload}-{metric}".replace("_", "-")


def study_tables(runs: list[RunResult], study: Study, designs: list[str], baseline: str, catalogue: Catalogue,
                 labels: dict[str, str] | None = None) -> list[Table]:
    """A compare-kernels table per metric of the study (none for a metric no run has), over the distinct results
    of its runs."""
    mine = distinct(study_runs(runs, study), catalogue)
    # Rows are labelled by every parameter that differs between the runs (the study's own first), so results
    # of a sweep that also varied another parameter are never pooled as if they were seeds.
    keys = varied(mine)
    if study.vary is not None:
        keys = [study.vary] + [k for k in keys if k != study.vary]

    def label(r: RunResult) -> str:
        return ", ".join(f"{k}={r.params.get(k)}" for k in keys)

    order = {v: i for i, v in enumerate(study.values)}
    ordered = sorted(mine, key=lambda r: tuple((order.get(r.params.get(k), 0), str(r.params.get(k)))
                                                 if k == study.vary else (0, _sort_key(r.params.get(k)))
                                                 for k in keys))
    points = list(dict.fromkeys(label(r) for r in ordered)) or [""]
    tables = []
    for name in study.metrics:
        m = catalogue.metric(name, study.workload)
        count_metric = m.samples if m else ""
        samples: dict[tuple[str, str], list[float]] = {}
        counts: dict[tuple[str, str], list[int]] | None = {} if count_metric else None
        for r in mine:
            if counts is not None and r.metrics.get(count_metric) is not None:
                counts.setdefault((r.design, label(r)), []).append(int(r.metrics[count_metric]))
            value = r.metrics.get(name)
            if value is not None:
                samples.setdefault((r.design, label(r)), []).append(float(value))
        if not samples and not counts:
            continue
        note = ""
        if counts is not None:
            note = (f"Samples: the {count_metric} each run's percentile is taken over (min-max over seeds); "
                    "'-' where a run had too few to support the percentile (a p99 needs 100).")
        integer = catalogue.counts(name, study.workload) and all(v.is_integer() for vs in samples.values()
                                                                   for v in vs)
        tables.append(compare_table(f"{study.workload}: {metric_title(name, study.workload, catalogue)}",
                                    designs, baseline, points, samples, m.better if m else LOWER, note=note,
                                    counts=counts, labels=labels, integer=integer,
                                    anchor=table_anchor(study, name)))
    return tables


def _sort_key(value: Any) -> tuple[int, float, str]:
    """Numbers in numeric order, everything else after them as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return (1, 0.0, str(value))
    return (0, float(value), "")
