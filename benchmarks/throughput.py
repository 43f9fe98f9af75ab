"""Simulator speed: simulated page alloc+free pairs per wall-clock second, per design.

    python benchmarks/throughput.py [--pages N] [--repeat R] [--designs a,b]

For each design, page_bench04 with bulk=64 simulates N pages (alloc + free each) R times; the median wall time
gives pairs per second. The ratio to a bare Python loop that moves the same number of ints from one deque to
another and back (the least any simulator of page lists can do in Python) shows the model's overhead. Then the
cost is shown growing with pages (1x/4x/16x), CPUs (contention with 1/4/16 CPUs) and simulated duration
(irq_latency bursts 1x/4x/16x). Wall-clock time here measures the simulator only; no simulated number uses it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import deque

from benchframe.plugins import get_registry
from benchframe.runner import RunSpec, run_one


def wall(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bare_loop(pages: int, bulk: int = 64) -> None:
    free, held = deque(range(4096)), deque()
    for _ in range(pages // bulk):
        for _ in range(bulk):
            held.append(free.popleft())
        for _ in range(bulk):
            free.appendleft(held.pop())


def run(design: str, workload: str, params: dict, reg) -> int:
    """One simulated run; returns the pages it allocated."""
    return run_one(RunSpec(design=design, workload=workload, params=params, seed=1), reg).metrics["pages_allocated"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--designs", default="")
    args = ap.parse_args()
    reg = get_registry()
    designs = [d for d in args.designs.split(",") if d] or list(reg.designs)
    bare = wall(lambda: bare_loop(args.pages), args.repeat)
    print(f"bare Python loop: {args.pages / bare:,.0f} page moves (alloc+free pairs) per second")
    print(f"\npage_bench04, bulk=64, {args.pages:,} pages, median of {args.repeat}:")
    print(f"{'design':10} {'pairs/s':>12} {'x bare loop':>12}")
    for d in designs:
        t = wall(lambda d=d: run(d, "page_bench04", {"bulk": 64, "pages": args.pages, "warmup": 0}, reg),
                 args.repeat)
        print(f"{d:10} {args.pages / t:12,.0f} {t / bare:12.1f}")
    base = args.pages // 16
    print("\nscaling (array): wall seconds and wall microseconds per simulated page, at 1x / 4x / 16x")
    for label, fn in (
        ("pages", lambda m: run("array", "page_bench04", {"bulk": 64, "pages": base * m, "warmup": 0}, reg)),
        ("CPUs", lambda m: run("array", "contention", {"cpus": m, "bulk": 64, "bursts": 50}, reg)),
        ("duration", lambda m: run("array", "irq_latency", {"bulk": 64, "bursts": 25 * m}, reg)),
    ):
        cells = []
        for m in (1, 4, 16):
            pages = fn(m)
            t = wall(lambda m=m, fn=fn: fn(m), max(1, args.repeat // 2))
            cells.append(f"{m:2}x {t:6.3f}s {1e6 * t / pages:5.2f}us/page")
        print(f"  {label:9} " + "   ".join(cells))


if __name__ == "__main__":
    main()
