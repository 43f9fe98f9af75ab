"""The simulator's own speed and memory, so a slowdown of the model shows up in history: simulating SIM_PAGES
pages of page_bench04 (bulk=64) per design. Plugin loading and the run's spec happen in setup, outside the
timed body; the body is one complete run (boot of the simulated kernel, warm-up, the pages, the metrics)."""

from __future__ import annotations

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
