"""Statistics over seeds for the compare-kernels tables: the stat rows, the percentage against the baseline
(positive meaning better whichever way the metric points), and the significance test."""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scipy import stats as scipy_stats

from benchframe.metrics import HIGHER

if TYPE_CHECKING:
    from collections.abc import Sequence

SIGNIFICANCE = 0.05


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


def pct_better(value: float, base: float, better: str) -> float:
    """Percentage change against the baseline, positive meaning better for a metric whose ``better`` is
    ``"lower"`` or ``"higher"``."""
    if base == 0:
        return 0.0 if value == 0 else (math.inf if (value > 0) == (better == HIGHER) else -math.inf)
    change = (value - base) / abs(base) * 100.0
    return change + 0.0 if better == HIGHER else 0.0 - change  # never "-0.00%"


def significant(a: Sequence[float], b: Sequence[float]) -> bool:
    """Welch's t-test (unequal variances) at p < 0.05; never significant when both samples are constant or a
    sample has fewer than two values."""
    if len(a) < 2 or len(b) < 2:
        return False
    if statistics.pstdev(a) == 0 and statistics.pstdev(b) == 0:
        return False
    with warnings.catch_warnings():  # nearly identical samples: scipy warns, the p-value is still usable
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy_stats.ttest_ind(a, b, equal_var=False)
    return bool(result.pvalue < SIGNIFICANCE)
