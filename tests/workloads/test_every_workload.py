"""Every design runs every workload cleanly (no invariant violation, pages allocated), and under each kernel
config; the per-workload files test what each workload is for. ``design`` and ``workload`` are
parametrised by ``conftest.py``."""

from __future__ import annotations

import pytest

from benchframe.plugins import get_registry


def test_every_design_runs_every_workload_cleanly(run, design, workload):
    r = run(design, workload)
    assert r.metrics["invariant_violations"] == 0, r.violations
    assert r.metrics["pages_allocated"] > 0


@pytest.mark.parametrize("config", [("PREEMPT_RT",), ("PAGE_OWNER",), ("NUMA",)])
def test_kernel_configs_run_every_workload_cleanly(run, config, design, workload):
    r = run(design, workload, config=config)
    assert r.metrics["invariant_violations"] == 0, (design, r.violations)
    assert r.config == list(config)


UNSEEDED = [name for name, w in get_registry().workloads.items() if w.seeded is False]
#: runs whose workload declares them unseeded: always, or with these parameters only
UNSEEDED_RUNS = [(name, {}) for name in UNSEEDED] + [
    ("page_pool", {"remote_free": 0.0}), ("contention", {"cpus": 1}), ("contention", {"cpus": 2, "remote_free": 1.0})]


def test_the_unseeded_workloads_are_the_deterministic_ones():
    assert sorted(UNSEEDED) == ["numa", "page_bench04", "pagealloc", "trace"]
    reg = get_registry()
    for name, params in [("page_pool", {"remote_free": 0.5}), ("contention", {"cpus": 2}), ("sunrpc", {}),
                         ("irq_latency", {}), ("nmi", {})]:
        w = reg.workload(name)
        assert w.uses_seed(w.resolve_params(params)), name


@pytest.mark.parametrize("unseeded, params", UNSEEDED_RUNS)
@pytest.mark.parametrize("config", [(), ("PREEMPT_RT",)])
def test_a_run_declared_unseeded_is_the_same_for_every_seed(run, design, unseeded, params, config):
    """What lets the executors run such a cell once for all seeds (``seed_groups``)."""
    w = get_registry().workload(unseeded)
    assert not w.uses_seed(w.resolve_params(params))
    one, other = (run(design, unseeded, seed=s, config=config, **params).model_dump() for s in (1, 7))
    assert one.pop("seed") == 1 and other.pop("seed") == 7
    assert one == other


def test_a_seeded_run_differs_by_seed(run):
    one, other = (run("array", "contention", seed=s, cpus=2).metrics for s in (1, 7))
    assert one["remote_frees"] != other["remote_frees"]
