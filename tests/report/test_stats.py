"""Statistics of the reports (``report/stats.py``): the sign convention (positive means better, whichever way the
metric points) and Welch's t-test significance."""

from __future__ import annotations

import pytest

from benchframe.report.stats import pct_better, significant


@pytest.mark.parametrize("value, base, better, sign", [
    (80, 100, "lower", 1),    # fewer cycles: better
    (120, 100, "lower", -1),  # more cycles: worse
    (120, 100, "higher", 1),  # more packets/s: better
    (80, 100, "higher", -1),  # fewer packets/s: worse
])
def test_positive_percentage_means_better(value, base, better, sign):
    pct = pct_better(value, base, better)
    assert pct * sign > 0
    assert abs(pct) == pytest.approx(20.0)


def test_equal_values_are_zero_not_negative_zero():
    assert str(pct_better(5.0, 5.0, "lower")) == "0.0"


def test_significance_on_known_samples():
    assert significant([80.0, 80.5, 79.5], [100.0, 101.0, 99.0])  # clearly different
    assert not significant([90.0, 110.0, 101.0], [100.0, 101.0, 99.0])  # overlapping noise
    assert not significant([5.0, 5.0, 5.0], [7.0, 7.0, 7.0])  # deterministic: never starred
    assert not significant([5.0], [7.0])  # one seed: no test
