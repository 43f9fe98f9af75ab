"""The fused paths (``benchframe.mm.fast``, ``benchframe.mm.fast_alloc``) against the step-by-step ones: every
cell run both ways gives the same result, byte for byte, down to each CPU's clock and the kernel's counters.

The slow path is forced by making ``fusable`` refuse every kernel (``Kernel.__init__`` asks it once)."""

from __future__ import annotations

import pytest

from benchframe.mm import page_alloc
from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one

#: cells that cross each fused path where it applies: interrupt sources (irq_latency, nmi), several CPUs
#: (contention), the single-page path (single), a second prep pass (twopass), PREEMPT_RT's threaded handlers
CELLS = [
    ("single", "irq_latency", {"bulk": 64, "bursts": 40}, ()),
    ("single", "irq_latency", {"bulk": 8, "bursts": 60, "irq_interval": 700}, ()),
    ("single", "irq_latency", {"bulk": 64, "bursts": 40}, ("PREEMPT_RT",)),
    ("array", "irq_latency", {"bulk": 256, "bursts": 20}, ()),
    ("twopass", "irq_latency", {"bulk": 64, "bursts": 30, "irq_interval": 3000}, ()),
    ("locallock", "irq_latency", {"bulk": 64, "bursts": 40}, ()),
    ("locallock", "irq_latency", {"bulk": 8, "bursts": 60, "irq_interval": 700}, ()),
    ("single", "nmi", {"bulk": 64, "bursts": 30}, ()),
    ("single", "contention", {"cpus": 4, "bursts": 20}, ()),
    ("locallock", "contention", {"cpus": 4, "bursts": 20}, ()),
    ("single", "page_bench04", {"bulk": 8, "pages": 2048}, ()),
    ("locallock", "page_bench04", {"bulk": 64, "pages": 4096}, ()),
    ("array", "page_bench04", {"bulk": 64, "pages": 4096, "test": "single"}, ()),
    ("single", "page_pool", {"packets": 2048}, ()),
    ("single", "numa", {"calls": 20}, ()),
    ("array", "irq_latency", {"bulk": 64, "bursts": 40, "irq_interval": 700}, ()),
]


@pytest.fixture(scope="module")
def registry():
    return get_registry()


def _run(registry, monkeypatch, spec: RunSpec) -> str:
    kernels: list[page_alloc.Kernel] = []
    init = page_alloc.Kernel.__init__

    def spy(self, *args, **kwargs):
        init(self, *args, **kwargs)
        kernels.append(self)

    with monkeypatch.context() as m:
        m.setattr(page_alloc.Kernel, "__init__", spy)
        result = run_one(spec, registry)
    state = [([cpu.clock for cpu in k.machine.cpus], k.stat.as_dict(), k.fused) for k in kernels]
    return result.model_dump_json() + repr(state)


@pytest.mark.parametrize("design,workload,params,config", CELLS, ids=lambda v: str(v))
def test_the_fused_paths_give_the_slow_paths_numbers(registry, monkeypatch, design, workload, params, config):
    spec = RunSpec(design=design, workload=workload, params=params, seed=2, config=config)
    fused = _run(registry, monkeypatch, spec)
    monkeypatch.setattr(page_alloc, "fusable", lambda k: False)
    slow = _run(registry, monkeypatch, spec)
    assert "True)]" in fused and "True)" not in slow  # each way was taken
    assert fused.replace("True)", "False)") == slow
