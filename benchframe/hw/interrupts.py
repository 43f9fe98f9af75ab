"""Interrupt sources: devices raising hardirqs, and NMIs, on one CPU.

A source produces arrival times (periodic, Poisson with a seeded RNG, or an explicit list); the engine notes an
arrival as *pending* and runs the source's handler nested on the CPU at the first charge point where it may be
delivered. While pending, further arrivals of the same source coalesce (one pending bit, as an APIC line).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator

from benchframe.hw.cpu import CPU

IRQ = "irq"
NMI_KIND = "nmi"

Handler = Callable[[CPU], None]


class InterruptSource:
    """One interrupt line to one CPU. ``handler(cpu)`` runs in hardirq (or NMI) context when delivered."""

    __slots__ = ("name", "kind", "handler", "next_arrival", "pending_since", "coalesced", "delivered", "_it")

    def __init__(self, name: str, kind: str, handler: Handler, arrivals: Iterable[float]):
        if kind not in (IRQ, NMI_KIND):
            raise ValueError(f"interrupt kind must be {IRQ!r} or {NMI_KIND!r}")
        self.name = name
        self.kind = kind
        self.handler = handler
        self._it: Iterator[float] = iter(arrivals)
        self.next_arrival: float = math.inf
        self.pending_since: float | None = None
        self.coalesced = 0
        self.delivered = 0
        self.advance()

    def advance(self) -> None:
        self.next_arrival = next(self._it, math.inf)

    @classmethod
    def periodic(cls, name: str, period: int, handler: Handler, kind: str = IRQ, phase: int = 0) -> InterruptSource:
        if period <= 0:
            raise ValueError("interrupt period must be positive")

        def times() -> Iterator[int]:
            t = phase or period
            while True:
                yield t
                t += period
        return cls(name, kind, handler, times())

    @classmethod
    def poisson(cls, name: str, mean_interval: float, handler: Handler, seed: int, kind: str = IRQ) -> InterruptSource:
        """Arrivals of a Poisson process with the given mean interval in cycles, from ``random.Random(seed)``."""
        if mean_interval <= 0:
            raise ValueError("interrupt mean interval must be positive")
        rng = random.Random(seed)

        def times() -> Iterator[int]:
            t = 0.0
            while True:
                t += rng.expovariate(1.0 / mean_interval)
                yield int(t) + 1
        return cls(name, kind, handler, times())

    @classmethod
    def at(cls, name: str, times: Iterable[int], handler: Handler, kind: str = IRQ) -> InterruptSource:
        return cls(name, kind, handler, sorted(times))
