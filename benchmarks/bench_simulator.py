"""The simulator's own speed and memory, so a slowdown of the model shows up in history: simulating SIM_PAGES
pages of page_bench04 (bulk=64) per design. Plugin loading and the run's spec happen in setup, outside the
timed body; the body is one complete run (boot of the simulated kernel, warm-up, the pages, the metrics). And
the verdict search: one design against one context, up to its verdict."""

from __future__ import annotations

import inspect
import time

from .common import DESIGNS, SIM_BULK, SIM_PAGES, registry, run_one, spec


class Simulate:
    params = (DESIGNS,)
    param_names = ["design"]
    timeout = 120

    def setup(self, design):
        self.registry = registry()
        self.spec = spec(design, "page_bench04", {"bulk": SIM_BULK, "pages": SIM_PAGES})

    def time_page_bench04(self, design):
        """Wall time of simulating 10,000 pages of page_bench04 (bulk=64)."""
        run_one(self.spec, self.registry)

    time_page_bench04.version = 1

    def peakmem_page_bench04(self, design):
        """Peak resident memory of the process simulating them."""
        run_one(self.spec, self.registry)

    peakmem_page_bench04.version = 1


class Throughput:
    """``benchmarks/throughput.py`` in the history: a run's CPU time per simulated page against the floors a
    Python model of page lists cannot beat, timed in turn on the same machine (so the ratio survives a slower
    or busier machine better than a time does)."""

    params = (DESIGNS,)
    param_names = ["design"]
    timeout = 300
    rounds = 3

    def setup(self, design):
        self.registry = registry()
        self.spec = spec(design, "page_bench04", {"bulk": SIM_BULK, "pages": SIM_PAGES, "warmup": 0})

    def _ratios(self):
        from .throughput import bare_loop, call_loop, interleaved

        floors = [lambda: bare_loop(SIM_PAGES, SIM_BULK), lambda: call_loop(SIM_PAGES, SIM_BULK, charged=True)]
        return interleaved(floors, lambda: run_one(self.spec, self.registry), self.rounds)

    def track_x_bare_loop(self, design):
        """CPU time of the run over the bare deque loop's (median of the rounds' ratios)."""
        return self._ratios()[2][0]

    track_x_bare_loop.version = 1
    track_x_bare_loop.unit = "x"

    def track_x_method_and_charge(self, design):
        """CPU time of the run over a loop of one method call and one charge per operation."""
        return self._ratios()[2][1]

    track_x_method_and_charge.version = 1
    track_x_method_and_charge.unit = "x"

    def track_pairs_per_cpu_second(self, design):
        """Simulated alloc+free pairs per CPU second (median of the rounds)."""
        return SIM_PAGES / self._ratios()[1]

    track_pairs_per_cpu_second.version = 1
    track_pairs_per_cpu_second.unit = "pairs/s"


class Explore:
    """The verdict search's own CPU time: one design against one context as ``benchframe compare`` explores it
    with the verdict cache cold (``explore(first_only=True)``: up to the first interleaving that breaks it)."""

    params = (DESIGNS, ["irq", "nmi", "smp", "preempt"])
    param_names = ["design", "context"]
    timeout = 300
    number = 1
    repeat = 3
    timer = time.process_time

    def setup(self, design, context):
        self.registry = registry()
        if design not in self.registry.designs:
            raise NotImplementedError(f"design {design!r} is not in this build")
        try:
            from benchframe.explore import explore
        except ImportError:
            raise NotImplementedError("this build has no benchframe.explore") from None
        if "first_only" not in inspect.signature(explore).parameters:
            raise NotImplementedError("this build's explore() cannot stop at the first failing interleaving")
        self.explore = explore

    def time_first_verdict(self, design, context):
        """CPU time of exploring the design against the context up to its verdict."""
        self.explore(design, context, registry=self.registry, first_only=True)

    time_first_verdict.version = 1
