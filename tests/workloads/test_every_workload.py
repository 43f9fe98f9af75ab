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


UNSEEDED = [name for name, w in get_registry().workloads.items() if not w.seeded]


def test_the_unseeded_workloads_are_the_deterministic_ones():
    assert sorted(UNSEEDED) == ["numa", "page_bench04", "trace"]


@pytest.mark.parametrize("unseeded", UNSEEDED)
@pytest.mark.parametrize("config", [(), ("PREEMPT_RT",)])
def test_a_workload_declared_seeded_false_gives_every_seed_the_same_run(run, design, unseeded, config):
    """What lets the executors run such a cell once for all seeds (``seed_groups``)."""
    one, other = (run(design, unseeded, seed=s, config=config).as_dict() for s in (1, 7))
    assert one.pop("seed") == 1 and other.pop("seed") == 7
    assert one == other
