"""The model check's draws of the fitted prices (``modelcheck.price_draws``, ``costfit.bootstrap_refits``): they
were normal draws clipped one by one at the fit's bounds, so where a price was fitted at its bound (E5's
page_access at 0) half the draws piled on the bound with the correlated prices unmoved, and what the prices
predict together came out shifted. They are now the fit redone on measurements made again (a parametric
bootstrap); each test here fails on the clipped draws."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from benchframe.costfit import bootstrap_refits
from benchframe.modelcheck import price_draws
from benchframe.plugins import get_registry

#: a calibration whose rows pin page_access + data_access together and hardly apart (as E5's single-page
#: baselines do): each row's cycles per unit of each price, and what was measured
J = np.array([[100., 120.], [110., 100.], [90., 105.], [120., 118.], [100., 95.], [95., 110.]])
MEASURED = J @ np.array([-0.05, 0.72]) + np.array([1.5, -2.0, 0.5, 2.5, -1.0, -0.5])
FREE = (np.zeros(2), np.full(2, np.inf))


def _fit(measured: np.ndarray) -> np.ndarray:
    return lsq_linear(J, measured, bounds=FREE).x


def _covariance() -> tuple[np.ndarray, np.ndarray]:
    """The fit (page_access lands on its bound, 0) and its covariance, as calibrate computes them."""
    x = _fit(MEASURED)
    r = J @ x - MEASURED
    return x, np.linalg.inv(J.T @ J) * (r @ r) / (len(r) - len(x))


def test_the_fit_lands_page_access_on_its_bound():
    assert np.linalg.lstsq(J, MEASURED, rcond=None)[0][0] < 0  # unbounded, the fit wants it negative
    x, _ = _covariance()
    assert x[0] == pytest.approx(0.0, abs=1e-9) and x[1] > 0


def test_a_refit_is_the_bounded_fit_redone_on_fresh_noise():
    """bootstrap_refits needs only the covariance: for the same noise it lands where lsq_linear on the rows does."""
    x, cov = _covariance()
    s = np.sqrt(cov[0, 0] / np.linalg.inv(J.T @ J)[0, 0])
    chol = np.linalg.cholesky(cov)
    for noise in np.random.default_rng(3).standard_normal((50, len(J))) * s:
        explicit = _fit(J @ x + noise)
        z = np.linalg.solve(chol, np.linalg.lstsq(J, noise, rcond=None)[0])  # the unbounded refit's move, whitened
        assert bootstrap_refits(x, cov, *FREE, z[None, :])[0] == pytest.approx(explicit, abs=1e-7)


def _profile(tmp_path, x: np.ndarray, cov: np.ndarray) -> str:
    """The E5 profile with this fit's prices, standard errors and correlation written as calibrate writes them."""
    reg = get_registry()
    text = open(reg.cost_model("e5-1650v4").source, encoding="utf-8").read()
    sd = np.sqrt(np.diag(cov))
    corr = round(float(cov[0, 1] / sd[0] / sd[1]), 3)
    for name, value, sigma in zip(("page_access", "data_access"), x, sd):
        text = re.sub(rf"^{name} = .*$", f"{name} = {value:.3f}  # fitted by benchframe calibrate +- {sigma:.3f}, "
                      "to rows.csv:1-6", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^irq_save_restore = .*$", "irq_save_restore = 14", text, count=1, flags=re.MULTILINE)
    fit = (f'[fit]\ncosts = ["page_access", "data_access"]\nmeasurements = ["rows.csv"]\n'
           f"correlation = [[1, {corr}], [{corr}, 1]]\n\n")
    text = re.sub(r"^\[fit\]\n(?:(?!\[costs\]).*\n)*", fit, text, count=1, flags=re.MULTILINE)
    path = tmp_path / "bounded.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _predicted(draws, row: int = 0) -> np.ndarray:
    return np.array([J[row] @ [dict(d)["page_access"], dict(d)["data_access"]] for d in draws])


def test_draws_at_a_bound_are_not_shifted(tmp_path):
    x, cov = _covariance()
    costs = get_registry().cost_model(_profile(tmp_path, x, cov))
    point = float(J[0] @ np.round(x, 3))
    _, correlated, draws = price_draws(costs, 1000)
    assert correlated
    pa = np.array([dict(d)["page_access"] for d in draws])
    assert pa.min() == 0.0 and 0.4 < np.mean(pa == 0.0) < 0.6  # on the bound or above it, as a refit lands
    # what the two prices predict together (a row's cycles, which the fit pins) stays centred on the fit's
    # prediction; clipped draws put it 3 cycles higher on average and 15 at the 95th percentile
    predicted = _predicted(draws)
    assert abs(np.mean(predicted) - point) < 1.0 and abs(np.median(predicted) - point) < 1.0
    # and spread as the fit redone on fresh noise spreads it (a brute-force bootstrap of the rows)
    rng = np.random.default_rng(7)
    s = np.sqrt(cov[0, 0] / np.linalg.inv(J.T @ J)[0, 0])
    brute = np.array([J[0] @ _fit(J @ x + e) for e in rng.standard_normal((1000, len(J))) * s])
    for q in (5, 50, 95):
        assert np.percentile(predicted, q) == pytest.approx(np.percentile(brute, q), abs=1.0)
    # compare's few draws: their range holds the fit's own prediction
    few = _predicted(price_draws(costs, 4)[2])
    assert few.min() <= point <= few.max()


def test_draws_are_the_same_every_time_and_change_with_the_seed():
    e5 = get_registry().cost_model("e5-1650v4")
    _, _, draws = price_draws(e5, 4)
    assert price_draws(e5, 4)[2] == draws
    assert price_draws(e5, 4, seed=1)[2] != draws
    for draw in draws:
        values = dict(draw)
        assert values["page_access"] >= 0 and 14 <= values["irq_save_restore"] <= 27
    assert any(dict(d)["page_access"] == 0.0 for d in draws)


def test_a_price_held_by_equal_bounds_stays_there():
    x, cov = _covariance()
    refits = bootstrap_refits(np.array([0.3, 0.7]), cov, np.array([0.3, 0.0]), np.array([0.3, np.inf]),
                              np.random.default_rng(1).standard_normal((20, 2)))
    assert np.all(refits[:, 0] == 0.3) and len(set(refits[:, 1])) > 1
