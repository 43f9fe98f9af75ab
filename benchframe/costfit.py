"""Fitting a cost profile's unknowns to measurements (``benchframe calibrate``).

A profile holds primitives measured with time_bench (an IRQ toggle, a lock, an atomic, a call) and costs
nobody measured directly: the prices of body work (``page_access``, ``data_access``: the code's counted
accesses in ``benchframe.mm.work``) and primitives a machine lacks a figure for. ``fit()`` finds the named
ones that bring the model's predictions closest to measurement rows (``benchframe.validate`` reads them), by a
bounded least-squares fit of the relative residuals; every other cost stays at its value in the base profile.

The model is linear in the costs up to rounding to whole cycles, so the fit is a bounded Gauss-Newton
(``_gauss_newton``: each step a bounded linear least-squares problem, ``scipy.optimize.lsq_linear``), and the
Jacobian is taken by forward differences of one whole cycle (shifting every price by an exact multiple;
``Prices`` rounds half up): a few simulations of each row per fitted cost in all. What it
reports: each fitted cost with its standard error (from the Jacobian and the residual variance), each row's
residual, and each row's leave-one-out error -- the row's residual when the (linearised) fit is redone
without it. An under-determined fit (fewer independent rows than costs) or one that lands on a bound says so.
``bootstrap_refits`` redoes the fit on data made again from its prediction and its residuals' scatter: what the
model check of ``benchframe compare`` reruns the decision cells at.
"""


from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from benchframe import BenchframeError
from benchframe.hw.costs import FRACTIONAL
from benchframe.measurements import check_rows, to_model_units
from benchframe.validate import predict

if TYPE_CHECKING:
    from collections.abc import Callable

    from benchframe.hw.costs import CostModel
    from benchframe.measurements import Row
    from benchframe.registry import Registry

#: fitted costs are kept in [0, UPPER x the base value + UPPER_ABS]
UPPER = 10.0
UPPER_ABS = 100.0
DECIMALS = 3  # a fitted price is written with this many decimals


@dataclass
class Fit:
    """The outcome of a fit: values and standard errors of the fitted costs, per-row residuals."""

    names: list[str]
    values: dict[str, float]
    sigmas: dict[str, float | None]
    rows: list[Row]
    predicted: list[float]
    residuals: list[float]  # relative: (predicted - measured) / measured
    loo: list[float | None]  # relative leave-one-out errors
    warnings: list[str] = field(default_factory=list)
    #: the fitted costs' correlation matrix (``names`` order; None where the standard errors cannot be had)
    correlation: list[list[float]] | None = None



def fit_costs(base: CostModel, names: list[str], rows: list[Row], reg: Registry,
              bounds: dict[str, tuple[float, float]] | None = None) -> Fit:
    """Fit ``names`` of ``base`` to ``rows`` (rows measured on other machines are the caller's to drop), each
    within ``bounds`` where given (a range the evidence allows), else in [0, UPPER x its base + UPPER_ABS]."""
    if not rows:
        raise BenchframeError(f"no measurement rows for profile {base.name} to fit to")
    check_rows(rows, reg)
    to_model_units(rows, reg, lambda _row: base.clock_ghz)  # the rows are the base machine's
    values = np.array([r.value for r in rows])
    bounds = bounds or {}
    x0 = np.array([float(base.cost(n)) for n in names])
    lower = np.array([bounds[n][0] if n in bounds else 0.0 for n in names])
    upper = np.array([bounds[n][1] if n in bounds else x * UPPER + UPPER_ABS for n, x in zip(names, x0)])
    x0 = np.clip(x0, lower, upper)
    resolution = np.array([10.0 ** -DECIMALS if n in FRACTIONAL else 1.0 for n in names])

    predicted: dict[tuple[float, ...], list[float | None]] = {}  # by the costs simulated: the final ones twice

    def predictions(x: np.ndarray) -> list[float | None]:
        costs = tuple(_as_cost(n, v) for n, v in zip(names, x))
        if costs not in predicted:
            model = base.with_costs(**dict(zip(names, costs)))
            predicted[costs] = predict(rows, reg, lambda _profile: model)
        return predicted[costs]

    def residuals(x: np.ndarray) -> np.ndarray:
        pred = predictions(x)
        if any(p is None for p in pred):
            raise BenchframeError("a measurement row's metric is not reported by the model")
        return (np.array(pred, dtype=float) - values) / values

    def jacobian(x: np.ndarray, r0: np.ndarray) -> np.ndarray:
        cols = []
        for i in range(len(x)):
            step = np.zeros_like(x)
            step[i] = 1.0 if x[i] + 1.0 <= upper[i] else -1.0  # a whole cycle: prices shift exactly
            cols.append((residuals(x + step) - r0) / step[i])
        return np.array(cols).T

    x, r, jac = _gauss_newton(residuals, jacobian, x0, lower, upper, resolution, names)
    fitted = {n: _rounded(n, v) for n, v in zip(names, x)}
    pred = [float(p) for p in predictions(np.array([fitted[n] for n in names])) if p is not None]
    resid = [(p - v) / v for p, v in zip(pred, values)]
    out = Fit(names, fitted, _sigmas(jac, np.array(resid), names), rows, pred, resid, _loo(jac, np.array(resid)))
    out.warnings = _warnings(jac, x, x0, lower, upper, names, len(rows))
    out.correlation = _correlation(jac, names)
    return out


#: Gauss-Newton steps at most (each costs one simulation of every row per fitted cost, plus one)
MAX_STEPS = 12


def _gauss_newton(residuals: Callable[[np.ndarray], np.ndarray],
                  jacobian: Callable[[np.ndarray, np.ndarray], np.ndarray], x0: np.ndarray, lower: np.ndarray,
                  upper: np.ndarray, resolution: np.ndarray,
                  names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounded Gauss-Newton on the model, which is linear in the costs up to rounding to whole cycles: each
    step solves the linearised problem within the bounds (``scipy.optimize.lsq_linear``), rounds it to the
    costs' resolution and is halved until it lowers the squared relative residuals; it stops when a step
    rounds to nothing. Started from the base profile, a refit of a fitted profile is a fixed point. Returns
    the costs, their residuals and the Jacobian there."""
    from scipy.optimize import lsq_linear  # here: 0.3 s of start-up every other command does not need

    def snap(x: np.ndarray) -> np.ndarray:
        return np.array([_rounded(n, v) for n, v in zip(names, x)], dtype=float)

    x = snap(x0)
    r = residuals(x)
    jac = jacobian(x, r)
    for _ in range(MAX_STEPS):
        step = lsq_linear(jac, -r, bounds=(lower - x, upper - x)).x
        for _halving in range(6):
            x_new = snap(np.clip(x + step, lower, upper))
            if np.all(np.abs(x_new - x) < resolution / 2):
                return x, r, jac
            r_new = residuals(x_new)
            if r_new @ r_new < r @ r:
                break
            step = step / 2
        else:
            return x, r, jac  # no step lowers the residuals: a minimum at this resolution
        x, r = x_new, r_new
        jac = jacobian(x, r)
    return x, r, jac


def _as_cost(name: str, value: float) -> float:
    return float(value) if name in FRACTIONAL else int(math.floor(value + 0.5))


def _rounded(name: str, value: float) -> float:
    return round(float(value), DECIMALS) if name in FRACTIONAL else int(math.floor(value + 0.5))


def _sigmas(jac: np.ndarray, resid: np.ndarray, names: list[str]) -> dict[str, float | None]:
    """Standard errors: sqrt(diag((J^T J)^-1) * s^2), s^2 the residual variance; None when it cannot be had."""
    m, n = jac.shape
    if m <= n or np.linalg.matrix_rank(jac) < n:
        return dict.fromkeys(names)
    s2 = float(resid @ resid) / (m - n)
    cov = np.linalg.pinv(jac.T @ jac) * s2
    return {name: float(math.sqrt(max(cov[i, i], 0.0))) for i, name in enumerate(names)}


def _correlation(jac: np.ndarray, names: list[str]) -> list[list[float]] | None:
    """The fitted costs' correlation matrix, from (J^T J)^-1 (the residual variance cancels); None where the
    fit is under-determined. What ``benchframe compare``'s model check draws the prices from, with their
    standard errors."""
    m, n = jac.shape
    if m <= n or np.linalg.matrix_rank(jac) < n:
        return None
    cov = np.linalg.pinv(jac.T @ jac)
    sd = np.sqrt(np.maximum(np.diag(cov), 1e-300))
    corr = cov / np.outer(sd, sd)
    return [[round(float(np.clip(corr[i, j], -1.0, 1.0)), DECIMALS) for j in range(n)] for i in range(n)]


def bootstrap_refits(fitted: np.ndarray, cov: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                     z: np.ndarray) -> np.ndarray:
    """The fit redone on data made again -- its own prediction plus fresh noise of the residuals' scatter (a
    parametric bootstrap) -- once per row of ``z`` (standard normal draws, one column per cost), for a fit of
    costs ``fitted`` with covariance ``cov`` (``s^2 (J^T J)^-1``, what the standard errors and correlation
    are), each refit within [``lower``, ``upper``] as the fit was.

    The model is linear in the costs (up to rounding to whole cycles), so a refit to the prediction plus noise
    ``e`` (``e ~ N(0, s^2 I)`` over the rows) minimises ``|J dx - e|^2``; with ``J = QR`` that is
    ``|R dx - Q^T e|^2`` plus a constant, ``Q^T e ~ N(0, s^2 I)`` over the costs and ``R^T R = s^2 cov^-1``: the
    refit is the point within the bounds nearest ``fitted + u``, ``u ~ N(0, cov)`` (the unbounded refit), in the
    distance ``cov^-1`` measures. That is a bounded least-squares problem in the costs alone (``lsq_linear``,
    exact by ``bvls``), no simulation. A cost fitted at its bound is refitted on it or above, and where the bound
    holds it the correlated costs move as the fit moves them, rather than each cost being clipped on its own.
    A cost with ``lower == upper`` is held there."""
    from scipy.optimize import lsq_linear

    chol = np.linalg.cholesky(cov)
    whiten = np.linalg.inv(chol)  # |whiten (x - t)|^2 = (x - t)^T cov^-1 (x - t)
    free = lower < upper
    held = np.where(free, 0.0, lower)
    out = []
    for target in fitted + z @ chol.T:
        x = held.copy()
        if free.any():
            b = whiten @ (target - held)
            x[free] = lsq_linear(whiten[:, free], b, bounds=(lower[free], upper[free]), method="bvls").x
        out.append(x)
    return np.array(out).reshape(len(z), len(fitted))


def _loo(jac: np.ndarray, resid: np.ndarray) -> list[float | None]:
    """Each row's error when it is left out: the linearised fit of the other rows, predicting it."""
    m, n = jac.shape
    out: list[float | None] = []
    for i in range(m):
        keep = [j for j in range(m) if j != i]
        if len(keep) < n or np.linalg.matrix_rank(jac[keep]) < n:
            out.append(None)
            continue
        # residual r(x) ~ r + J dx; the others' least squares dx, then row i's residual
        dx, *_ = np.linalg.lstsq(jac[keep], -resid[keep], rcond=None)
        out.append(float(resid[i] + jac[i] @ dx))
    return out


def _warnings(jac: np.ndarray, x: np.ndarray, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray,
              names: list[str], rows: int) -> list[str]:
    out = []
    rank = int(np.linalg.matrix_rank(jac)) if jac.size else 0
    if rows <= len(names) or rank < len(names):
        out.append(f"under-determined: {len(names)} cost(s) fitted to {rows} row(s) of rank {rank}; the fit "
                   "cannot tell them apart (fit fewer costs or add measurements)")
    for name, value, start, lo, hi in zip(names, x, x0, lower, upper):
        near = 1e-2 * max(abs(start), 1.0)
        if value <= lo + near or value >= hi - near:
            bound = f"lower bound ({lo:g})" if value <= lo + near else f"upper bound ({hi:g})"
            out.append(f"{name} landed on its {bound}: the measurements push it out of range")
    return out
