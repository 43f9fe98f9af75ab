"""The model check of a comparison: how far to trust numbers that are model predictions.

``plan`` adds cells to a comparison's: the points every shipped measurement was taken at (``benchframe
validate``'s, with the measuring machine's profile) and the decision table's deterministic cells rerun at
refits of the profile's fitted prices; ``finish`` turns their results into the ``ModelCheck`` the report shows.
The cells run on the comparison's executor, alongside its own.

The draws: a profile line ``page_access = 0.512  # fitted by benchframe calibrate +- 0.041`` is a fitted price
with its standard error (``sensitivity.fitted_errors``), the profile's ``[fit] correlation`` their correlation
(``benchframe calibrate`` writes it; without it the prices are refitted independently, and the report says so).
Each of the ``DRAWS`` draws is the calibration redone on measurements made again -- the fitted model's
predictions plus fresh noise of its residuals' scatter -- within the bounds the fit allowed (``[fit] bounds``,
else >= 0): a parametric bootstrap (``calibrate.bootstrap_refits``, which needs only the covariance, since the
model is linear in its prices). A price fitted at its bound (E5's ``page_access`` at 0) is refitted on it or
above and, where the bound holds it, the correlated prices take up what it cannot, as the fit would; clipping a
normal draw at the bound instead moved every cell the price feeds one way. Antithetic pairs (a few draws cover
both sides of the fit) and a fixed seed: the same draws every time. Each price is rounded as calibrate rounds
it; the charges are rounded to whole cycles, so each draw is a real rerun of the cell.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchframe import BenchframeError
from benchframe.calibrate import DECIMALS, FitSpec, bootstrap_refits, fit_spec
from benchframe.explore.cache import cache_dir, model_digest
from benchframe.hw.costs import FRACTIONAL
from benchframe.io import read_text, write_atomic
from benchframe.measurements import check_rows, read_measurements, shipped_measurements
from benchframe.report.decision import DECISION_CELLS
from benchframe.results import RunResult
from benchframe.run.runner import run_one
from benchframe.sensitivity import fitted_errors
from benchframe.snapshot import CheckedFile, ModelCheck
from benchframe.validate import validate

if TYPE_CHECKING:
    from benchframe.hw.costs import CostModel
    from benchframe.measurements import Row
    from benchframe.registry import Registry
    from benchframe.run.executors import Outcome
    from benchframe.run.spec import RunSpec
    from benchframe.validate import Validation

#: price draws per comparison: each reruns every deterministic decision cell of every design (three runs a
#: design: page_bench04 at bulk 8 and 64, numa), about a tenth of compare's cells per draw pair
DRAWS = 4
#: the draws' seed: the same draws every time, so the report is reproducible
SEED = 20210312
#: the error beyond which validate counts a row (its default ``--tolerance``)
TOLERANCE = 10.0


def spec_key(spec: RunSpec) -> str:
    """What identifies a cell's result (its seed aside for unseeded points: the caller picks one)."""
    return json.dumps([spec.design, spec.workload, dict(spec.params), spec.profile, spec.config, spec.kernel,
                       spec.perf, spec.seed, spec.prices], sort_keys=True, default=str)


@dataclass
class Plan:
    """The extra cells of a comparison's model check: ``specs`` (validate's points, then the reruns), what each
    rerun is (``reruns[i]``: design, point key, draw), and the draws' prices."""

    profile: str
    prices: list[tuple[str, float, float]]
    correlated: bool
    draws: list[tuple[tuple[str, float], ...]]
    validate_specs: list[RunSpec] = field(default_factory=list)
    rerun_specs: list[RunSpec] = field(default_factory=list)
    reruns: list[tuple[str, str, int]] = field(default_factory=list)
    cells_at: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # point -> (decision cell, metric)
    #: the validate summary from the cache (None: the validate_specs compute it)
    cached: tuple[list[CheckedFile], list[str], list[str]] | None = None

    @property
    def specs(self) -> list[RunSpec]:
        return self.validate_specs + self.rerun_specs


def price_draws(costs: CostModel, n: int, seed: int = SEED) -> tuple[list[tuple[str, float, float]], bool,
                                                                       list[tuple[tuple[str, float], ...]]]:
    """The profile's fitted prices (name, value, standard error), whether they are drawn with their correlation,
    and ``n`` refits of them (each ``((name, value), ...)``): the calibration redone on fresh noise of its
    residuals' scatter within the fit's bounds (``bootstrap_refits``), rounded as calibrate rounds them."""
    errors = fitted_errors(costs)
    if not errors or n <= 0:
        return [(k, float(costs.cost(k)), v) for k, v in errors.items()], False, []
    spec = fit_spec(read_text(costs.source, "profile"))
    names = [c for c in spec.costs if c in errors] + [c for c in errors if c not in spec.costs]
    drawn = [c for c in names if errors[c] > 0]  # a price fitted exactly (+- 0) stays as it is
    sigma = np.array([errors[c] for c in drawn])
    corr, correlated = _correlation(spec, drawn)
    cov = corr * np.outer(sigma, sigma)
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:  # not positive definite: the prices refitted independently
        cov, correlated = np.diag(sigma ** 2), False
    half = np.random.default_rng(seed).standard_normal(((n + 1) // 2, len(drawn)))
    z = np.concatenate([half, -half])[:n]  # antithetic pairs: the few draws spread both ways of the fit
    bounds = [spec.bounds.get(c, (0.0, math.inf)) for c in drawn]
    refits = bootstrap_refits(np.array([float(costs.cost(c)) for c in drawn]), cov,
                              np.array([lo for lo, _ in bounds]), np.array([hi for _, hi in bounds]), z)
    draws = [tuple((c, _rounded(c, v)) for c, v in zip(drawn, x)) for x in refits]
    return [(c, float(costs.cost(c)), errors[c]) for c in names], correlated, draws


def _correlation(spec: FitSpec, names: list[str]) -> tuple[np.ndarray, bool]:
    """The fit's correlation of ``names`` (``[fit] correlation``, in its costs' order), or none recorded."""
    if spec.correlation and set(names) <= set(spec.costs):
        at = [spec.costs.index(c) for c in names]
        return np.array(spec.correlation, dtype=float)[np.ix_(at, at)], True
    return np.eye(len(names)), False


def _rounded(name: str, value: float) -> float:
    return round(float(value), DECIMALS) if name in FRACTIONAL else float(math.floor(value + 0.5))


def plan(reg: Registry, cells: list[RunSpec], costs: CostModel, draws: int = DRAWS) -> Plan:
    """The model check's cells for a comparison of ``cells`` on ``costs`` (the runs' profile)."""
    prices, correlated, drawn = price_draws(costs, draws)
    out = Plan(costs.name, prices, correlated, drawn, cached=_cached(reg))
    seen: set[str] = set()
    for row in measurement_rows(reg) if out.cached is None else ():
        spec = row.spec(row.profile, perf=bool(row.symbol))
        if spec_key(spec) not in seen:
            seen.add(spec_key(spec))
            out.validate_specs.append(spec)
    for point, spec in _deterministic_points(reg, cells, out).items():
        for i, draw in enumerate(drawn):
            out.rerun_specs.append(replace(spec, prices=draw, perf=False))
            out.reruns.append((spec.design, point, i))
    return out


def measurement_rows(reg: Registry) -> list[Row]:
    """Every shipped measurement, checked against the registry (as ``benchframe validate`` reads them)."""
    rows = [r for p in shipped_measurements() for r in read_measurements(p)]
    check_rows(rows, reg)
    return rows


def _deterministic_points(reg: Registry, cells: list[RunSpec], out: Plan) -> dict[str, RunSpec]:
    """The comparison's cells each deterministic decision cell is read from (its lowest seed), by point; which
    decision cells (and metrics) each point answers goes into ``out.cells_at``."""
    points: dict[str, RunSpec] = {}
    for spec in sorted(cells, key=lambda s: s.seed):
        workload = reg.workload(spec.workload)
        for cell in DECISION_CELLS:
            probe = RunResult(design=spec.design, workload=spec.workload, params=dict(spec.params),
                              config=list(spec.config), seed=spec.seed, metrics={})
            if not cell.matches(probe) or workload.uses_seed(workload.resolve_params(spec.params)):
                continue
            point = json.dumps([spec.design, spec.workload, dict(spec.params), spec.config], sort_keys=True,
                               default=str)
            points.setdefault(point, spec)
            if (cell.key, cell.metric) not in out.cells_at.setdefault(point, []):
                out.cells_at[point].append((cell.key, cell.metric))
    return points


def finish(reg: Registry, the_plan: Plan, outcomes: list[Outcome]) -> ModelCheck:
    """The ``ModelCheck`` from the results of the plan's cells (``outcomes``, in ``specs`` order)."""
    n = len(the_plan.validate_specs)
    done = {spec_key(s): o for s, o in zip(the_plan.validate_specs, outcomes[:n]) if isinstance(o, RunResult)}

    def lookup(spec: RunSpec, costs: CostModel) -> RunResult:
        return done.get(spec_key(spec)) or run_one(spec, reg, costs)

    if the_plan.cached is None:
        result = validate(shipped_measurements(), reg, None, None, run=lookup)
        files, designs, workloads = checked_files(result, reg), result.unmeasured_designs, result.unmeasured_workloads
        _store(reg, (files, designs, workloads))
    else:
        files, designs, workloads = the_plan.cached
    values: dict[tuple[str, str], list[float | None]] = {}
    for (design, point, i), outcome in zip(the_plan.reruns, outcomes[n:]):
        for cell, metric in the_plan.cells_at[point]:
            got = outcome.metrics.get(metric) if isinstance(outcome, RunResult) else None
            values.setdefault((design, cell), [None] * len(the_plan.draws))[i] = \
                None if got is None else float(got)
    return ModelCheck(
        profile=the_plan.profile, tolerance=TOLERANCE, files=tuple(files), unchecked_designs=tuple(designs),
        unchecked_workloads=tuple(workloads),
        prices=tuple(the_plan.prices), correlated=the_plan.correlated, draws=tuple(the_plan.draws),
        values={k: tuple(x for x in v if x is not None) for k, v in values.items() if None not in v}, refitted=True)


def _cache_path(reg: Registry) -> Path | None:
    """Where the validate summary of this model is kept: it depends only on benchframe's source, the plugins'
    versions, the shipped measurements and profiles, so a comparison computes it once per model (the explore
    verdicts' cache folder; ``BENCHFRAME_CACHE_DIR=off``: every time)."""
    folder = cache_dir()
    if folder is None:
        return None
    h = hashlib.sha256(model_digest().encode())
    for path in [*shipped_measurements(), *(Path(p.path) for p in reg.profiles.values())]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(json.dumps(sorted(reg.versions().items())).encode())
    return folder / "validate" / f"{h.hexdigest()[:32]}.json"


def _cached(reg: Registry) -> tuple[list[CheckedFile], list[str], list[str]] | None:
    path = _cache_path(reg)
    if path is None or not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = [CheckedFile(**{**f, "designs": tuple(f["designs"]), "workloads": tuple(f["workloads"])})
                 for f in doc["files"]]
        return files, list(doc["designs"]), list(doc["workloads"])
    except (OSError, ValueError, TypeError, KeyError):
        return None  # a damaged entry: validate again


def _store(reg: Registry, summary: tuple[list[CheckedFile], list[str], list[str]]) -> None:
    path = _cache_path(reg)
    if path is None:
        return
    files, designs, workloads = summary
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"files": [asdict(f) for f in files], "designs": designs,
                                       "workloads": workloads}, sort_keys=True) + "\n")
    except (OSError, BenchframeError):
        pass  # a read-only cache: validate again next time


def checked_files(result: Validation, reg: Registry) -> list[CheckedFile]:
    """Per measurement file and profile: what its rows measure, how many, the worst error and where, and how
    many are beyond ``TOLERANCE``."""
    groups: dict[tuple[str, str], list[tuple[Row, float | None]]] = {}
    for row, (_, err) in zip(result.rows, result.errors):
        profile = reg.cost_model(row.profile).name
        groups.setdefault((row.where.rsplit(":", 1)[0], profile), []).append((row, err))
    out = []
    for (file, profile), rows in groups.items():
        known = [(r, e) for r, e in rows if e is not None]
        worst = max(known, key=lambda re: abs(re[1] or 0.0)) if known else None
        out.append(CheckedFile(file, profile, tuple(sorted({r.design for r, _ in rows})),
                               tuple(sorted({r.workload for r, _ in rows})), len(rows),
                               None if worst is None else round(worst[1] or 0.0, 2),
                               worst[0].where if worst else "",
                               sum(1 for _, e in rows if e is None or abs(e) > TOLERANCE)))
    return out


def unchecked(reg: Registry) -> tuple[list[CheckedFile], list[str], list[str]]:
    """What the shipped measurements cover, without simulating them (saved results without a model check):
    the files (no errors), the designs and the workloads none measures."""
    rows = measurement_rows(reg)
    files: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        files.setdefault((row.where.rsplit(":", 1)[0], reg.cost_model(row.profile).name), []).append(row)
    checked = [CheckedFile(f, p, tuple(sorted({r.design for r in rs})), tuple(sorted({r.workload for r in rs})),
                           len(rs), None, "", 0) for (f, p), rs in files.items()]
    return (checked, [d for d in reg.designs if d not in {r.design for r in rows}],
            [w for w in reg.workloads if w not in {r.workload for r in rows}])


__all__ = ["DRAWS", "Plan", "finish", "plan", "price_draws", "unchecked"]
