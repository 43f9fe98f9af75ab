"""Simulator speed: simulated page alloc+free pairs per CPU second, per design, against three floors.

    python benchmarks/throughput.py [--pages N] [--repeat R] [--designs a,b] [--no-scaling]

For each design, ``page_bench04`` with ``bulk=64`` simulates N pages (each allocated and freed once) R times;
the median CPU time (``time.process_time``: this process's CPU, so another process on a shared machine does not
count) of a whole run (boot, workload, invariant check) gives pairs per second. The floors are what any Python
model of page lists costs at least, moving the same N ints from one deque to another and back, ``bulk``
allocations then ``bulk`` frees:

* ``bare``: ``popleft``/``append`` in the loop itself;
* ``call``: one method call per operation (an allocator object's ``alloc()``/``free()``);
* ``charge``: that method also charges its cycles to a clock, as ``CPU.charge`` does (a call and a compare
  with the next event).

They are timed interleaved with the design's runs -- bare, call, charge, run, bare, ... -- so all see the same
machine, and each ``x`` column is the median of the rounds' ratios. Then the cost is shown against 1x / 4x / 16x
the work: pages (page_bench04), CPUs (the ``contention`` workload, a fixed number of bursts per CPU) and
simulated duration (``irq_latency`` bursts). CPU time measures the simulator only; no simulated number depends
on it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import deque
from typing import TYPE_CHECKING

# before numpy loads, as the command line does (benchframe.cli): an idle OpenBLAS thread spins after a fit and
# its CPU time would count against the designs measured in this process
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from benchframe.plugins import get_registry  # after the BLAS setting
from benchframe.run import RunSpec, run_one

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

BULK = 64


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU seconds of one call of ``fn``."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def median_cpu(fn: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds of ``repeat`` calls."""
    return statistics.median(cpu_seconds(fn) for _ in range(repeat))


def interleaved(floors: Sequence[Callable[[], object]], fn: Callable[[], object],
                repeat: int) -> tuple[list[float], float, list[float]]:
    """The ``floors`` and ``fn`` called in turn, ``repeat`` rounds: the median CPU seconds of each floor, of
    ``fn``, and the median of the rounds' ratios ``fn / floor`` per floor."""
    rounds = []
    for _ in range(repeat):
        times = [cpu_seconds(f) for f in floors]
        rounds.append((times, cpu_seconds(fn)))
    return ([statistics.median(r[0][i] for r in rounds) for i in range(len(floors))],
            statistics.median(t for _, t in rounds),
            [statistics.median(t / r[i] for r, t in rounds) for i in range(len(floors))])


def bare_loop(pages: int, bulk: int = BULK) -> None:
    """Move ``pages`` ints from a free deque to a held deque and back, ``bulk`` at a time."""
    free: deque[int] = deque(range(4 * bulk))
    held: deque[int] = deque()
    for _ in range(-(-pages // bulk)):
        for _ in range(bulk):
            held.append(free.popleft())
        for _ in range(bulk):
            free.append(held.popleft())


class Clock:
    """The least a charge can be: ``CPU.charge``'s add and compare with the next event."""

    __slots__ = ("clock", "next_event")

    def __init__(self) -> None:
        self.clock = 0
        self.next_event = float("inf")

    def charge(self, cycles: int) -> None:
        clock = self.clock + cycles
        if clock < self.next_event:
            self.clock = clock


class Lists:
    """Pages on a free deque, ``alloc()`` and ``free()`` one at a time."""

    __slots__ = ("free_q",)

    def __init__(self, bulk: int) -> None:
        self.free_q: deque[int] = deque(range(4 * bulk))

    def alloc(self) -> int:
        return self.free_q.popleft()

    def free(self, page: int) -> None:
        self.free_q.append(page)


class ChargedLists:
    """``Lists`` whose operations charge their cycles to a ``Clock``."""

    __slots__ = ("free_q", "clock")

    def __init__(self, bulk: int) -> None:
        self.free_q: deque[int] = deque(range(4 * bulk))
        self.clock = Clock()

    def alloc(self) -> int:
        self.clock.charge(12)
        return self.free_q.popleft()

    def free(self, page: int) -> None:
        self.clock.charge(12)
        self.free_q.append(page)


def call_loop(pages: int, bulk: int = BULK, charged: bool = False) -> None:
    """``bare_loop`` with one method call per operation (``charged``: each method charges a clock too)."""
    lists = ChargedLists(bulk) if charged else Lists(bulk)
    alloc, free = lists.alloc, lists.free
    held: deque[int] = deque()
    for _ in range(-(-pages // bulk)):
        for _ in range(bulk):
            held.append(alloc())
        for _ in range(bulk):
            free(held.popleft())


FLOORS = ("bare", "call", "charge")


def simulate(registry, design: str, workload: str, params: dict) -> int:
    """One simulated run; returns the pages it allocated (checking the run stayed clean)."""
    result = run_one(RunSpec(design=design, workload=workload, params=params, seed=1), registry)
    if result.metrics["invariant_violations"]:
        raise SystemExit(f"{design} on {workload}: invariant violations: {result.violations[:3]}")
    return result.metrics["pages_allocated"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100_000, help="pages simulated per run (default 100000)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per figure; the median is shown (default 5)")
    ap.add_argument("--designs", default="", help="comma list (default: every registered design)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 1x/4x/16x figures")
    args = ap.parse_args()
    registry = get_registry()
    designs = [d for d in args.designs.split(",") if d] or list(registry.designs)
    pages = -(-args.pages // BULK) * BULK

    print(f"page_bench04 bulk={BULK}, {pages:,} pages, median of {args.repeat} rounds in CPU time; floors timed "
          "between the runs:\nbare = a Python deque loop, call = one method call per op, charge = method + "
          "charge (see the docstring)")
    print(f"{'design':16} {'pairs/s':>12} {'us/pair':>8} " + " ".join(f"{'x ' + f:>9}" for f in FLOORS)
          + f" {'bare pairs/s':>13}")
    floors: list[Callable[[], object]] = [lambda: bare_loop(pages), lambda: call_loop(pages),
                                          lambda: call_loop(pages, charged=True)]
    for design in designs:
        params = {"bulk": BULK, "pages": pages, "warmup": 0}
        done = simulate(registry, design, "page_bench04", params)
        floor_t, t, ratios = interleaved(floors, lambda d=design, p=params: simulate(registry, d, "page_bench04", p),
                                      args.repeat)
        print(f"{design:16} {done / t:12,.0f} {1e6 * t / done:8.2f} " + " ".join(f"{r:9.1f}" for r in ratios)
              + f" {pages / floor_t[0]:13,.0f}")
    if args.no_scaling:
        return

    base = max(BULK, pages // 16)
    runs = max(1, args.repeat // 2)
    scaling = (
        ("pages", "page_bench04", lambda m: {"bulk": BULK, "pages": base * m, "warmup": 0}),
        ("CPUs", "contention", lambda m: {"cpus": m, "bulk": BULK, "bursts": 40}),
        ("duration", "irq_latency", lambda m: {"bulk": BULK, "bursts": 20 * m}),
    )
    for design in [d for d in ("single", "array") if d in designs] or designs[:1]:
        print(f"\nscaling ({design}): CPU seconds and CPU microseconds per simulated page at 1x / 4x / 16x, "
              f"median of {runs}")
        for label, workload, params in scaling:
            if workload not in registry.workloads:
                print(f"  {label:9} (no {workload} workload)")
                continue
            cells = []
            for m in (1, 4, 16):
                cell = params(m)
                done = simulate(registry, design, workload, cell)
                t = median_cpu(lambda d=design, w=workload, p=cell: simulate(registry, d, w, p), runs)
                cells.append(f"{m:2}x {t:7.3f}s {1e6 * t / done:5.2f}us/page")
            print(f"  {label:9} " + "   ".join(cells))


if __name__ == "__main__":
    main()
