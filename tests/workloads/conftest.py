"""What the workload tests share: small parameters per workload, so every design can run every workload
quickly, and a ``run`` fixture that applies them."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchframe.run import RunSpec, run_one

#: a real excerpt (perf script text, imported as the run reads it): order-3 frags, softirq frees, 2 CPUs
TRACE_EXCERPT = str(Path(__file__).resolve().parents[1] / "data" / "traces" / "loopback-tcp.perf.txt")

DESIGNS = ["single", "list", "array", "twopass", "llist", "llist_del_first", "locallock", "preempt"]
SMALL = {
    "page_bench04": {"pages": 1024},
    "page_pool": {"packets": 2048, "remote_free": 0.5},
    "sunrpc": {"calls": 20},
    "irq_latency": {"bursts": 40},
    "contention": {"bursts": 30, "cpus": 3},
    "numa": {"calls": 10},
    "trace": {"file": TRACE_EXCERPT},
}


def _run(design, workload, seed=1, config=(), **params):
    return run_one(RunSpec(design=design, workload=workload, params={**SMALL.get(workload, {}), **params},
                           seed=seed, config=config))


@pytest.fixture(scope="session")
def run():
    """``run(design, workload, seed=1, config=(), **params)``: one run with the workload's small parameters
    (``small``), ``params`` on top."""
    return _run


@pytest.fixture(scope="session")
def small() -> dict[str, dict]:
    return SMALL


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test here that takes ``design`` runs for every built-in design; one that takes ``workload`` for every
    workload with small parameters (all but nmi, whose point is that IRQ-disabling designs break)."""
    if "workload" in metafunc.fixturenames:
        metafunc.parametrize("workload", sorted(SMALL))
    if "design" in metafunc.fixturenames:
        metafunc.parametrize("design", DESIGNS)
