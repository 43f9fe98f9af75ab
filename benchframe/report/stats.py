"""Statistics over seeds for the compare-kernels tables: the stat rows, the change against the baseline
(positive meaning better whichever way the metric points), Welch's t-test and the correction of its p-values
for the many comparisons one report makes."""

from __future__ import annotations

import statistics
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchframe.metrics import HIGHER

if TYPE_CHECKING:
    from collections.abc import Sequence

SIGNIFICANCE = 0.05
#: the correction applied to every Welch test of one report, as the report names it
CORRECTION = "Benjamini-Hochberg"


@dataclass(frozen=True)
class Stats:
    values: tuple[float, ...]

    @property
    def amean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def hmean(self) -> float | None:
        if any(v <= 0 for v in self.values):
            return None
        return statistics.harmonic_mean(self.values)

    @property
    def stddev(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    @property
    def coeffvar(self) -> float:
        mean = self.amean
        return 100.0 * self.stddev / mean if mean else 0.0

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)


def pct_better(value: float, base: float, better: str) -> float | None:
    """Percentage change against the baseline, positive meaning better for a metric whose ``better`` is
    ``"lower"`` or ``"higher"``; ``None`` when the baseline is 0 and the value is not (no finite percentage)."""
    if base == 0:
        return 0.0 if value == 0 else None
    change = (value - base) / abs(base) * 100.0
    return change + 0.0 if better == HIGHER else 0.0 - change  # never "-0.00%"


def welch_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Welch's t-test (unequal variances) p-value; ``None`` (no test) when a sample has fewer than two values or
    both samples are constant."""
    if len(a) < 2 or len(b) < 2:
        return None
    if statistics.pstdev(a) == 0 and statistics.pstdev(b) == 0:
        return None
    from scipy import stats as scipy_stats  # here: half a second of start-up most commands do not need

    with warnings.catch_warnings():  # nearly identical samples: scipy warns, the p-value is still usable
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy_stats.ttest_ind(a, b, equal_var=False)
    return float(result.pvalue)


def significant(a: Sequence[float], b: Sequence[float]) -> bool:
    """One Welch test at p < 0.05, uncorrected (a report corrects its whole family with ``adjust``)."""
    p = welch_p(a, b)
    return p is not None and p < SIGNIFICANCE


def adjust(pvalues: Sequence[float]) -> list[float]:
    """The p-values of one family of tests adjusted for multiple comparisons (Benjamini-Hochberg, scipy's
    ``false_discovery_control``): a test is significant when its adjusted p-value is below 0.05."""
    if not pvalues:
        return []
    from scipy import stats as scipy_stats

    return [float(p) for p in scipy_stats.false_discovery_control(list(pvalues), method="bh")]
