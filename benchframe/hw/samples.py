"""``Samples``: integer samples a CPU records on every event (each IRQs-off window, each interrupt's latency) kept
as an exact histogram, so a run's memory stays flat however many pages it simulates.

Cycles repeat: a million IRQs-off windows of a deterministic loop take a few dozen distinct values. The
histogram answers everything the metrics ask exactly as the list of samples would -- the count, the sum, the
maximum, numpy's linear-interpolation percentile, evenly spaced order statistics -- and ``since(mark)`` sums
what came after a ``mark()`` (a workload's own window of interest).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


class Samples:
    """An exact histogram of integer samples: value -> how many times it was seen."""

    __slots__ = ("counts", "n", "total")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.n = 0
        self.total = 0

    def append(self, value: int) -> None:
        counts = self.counts
        counts[value] = counts.get(value, 0) + 1
        self.n += 1
        self.total += value

    def clear(self) -> None:
        self.counts.clear()
        self.n = self.total = 0

    def __len__(self) -> int:
        return self.n

    def __bool__(self) -> bool:
        return self.n > 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Samples) and self.counts == other.counts

    __hash__ = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[int]:
        """Every sample, in ascending order."""
        for value in sorted(self.counts):
            for _ in range(self.counts[value]):
                yield value

    def mark(self) -> tuple[int, int]:
        """Where the samples stand now, for ``since``."""
        return self.n, self.total

    def since(self, mark: tuple[int, int]) -> int:
        """The sum of the samples recorded after ``mark``."""
        return self.total - mark[1]

    def max(self) -> int | None:
        return max(self.counts) if self.counts else None

    def merged(self, others: list[Samples]) -> Samples:
        """These samples and ``others``' together."""
        out = Samples()
        for s in (self, *others):
            for value, count in s.counts.items():
                out.counts[value] = out.counts.get(value, 0) + count
            out.n += s.n
            out.total += s.total
        return out

    def order_statistic(self, k: int) -> int:
        """The ``k``-th smallest sample (0-based)."""
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if k < seen:
                return value
        raise IndexError(k)

    def percentile(self, pct: float) -> float:
        """numpy's ``percentile(samples, pct)`` with linear interpolation, from the counts -- the same float
        operations in the same order (numpy's ``_lerp``), so the same bits."""
        rank = (pct / 100.0) * (self.n - 1)
        lo = math.floor(rank)
        low = float(self.order_statistic(lo))
        if lo + 1 >= self.n:
            return low
        high = float(self.order_statistic(lo + 1))
        gamma = rank - lo
        diff = high - low
        return high - diff * (1.0 - gamma) if gamma >= 0.5 else low + diff * gamma


__all__ = ["Samples"]
