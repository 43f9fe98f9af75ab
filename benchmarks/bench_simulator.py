"""The simulator's own speed and memory: simulating SIM_PAGES pages of page_bench04 (bulk=64) per design."""

from __future__ import annotations

from .common import DESIGNS, SEED, SIM_PAGES, check


class Simulate:
    params = (DESIGNS,)
    param_names = ["design"]
    timeout = 120

    def setup(self, design):
        check(design, "page_bench04", {"bulk": 64, "pages": SIM_PAGES})
        from benchframe.plugins import get_registry
        from benchframe.runner import RunSpec

        self.registry = get_registry()
        self.spec = RunSpec(design=design, workload="page_bench04", params={"bulk": 64, "pages": SIM_PAGES},
                            seed=SEED)

    def time_page_bench04(self, design):
        from benchframe.runner import run_one

        run_one(self.spec, self.registry)

    time_page_bench04.version = 1

    def peakmem_page_bench04(self, design):
        from benchframe.runner import run_one

        run_one(self.spec, self.registry)

    peakmem_page_bench04.version = 1
