"""Every design runs every workload cleanly (no invariant violation, pages allocated), and under each kernel
config; the per-workload files test what each workload is for. ``design`` and ``workload`` are
parametrised by ``conftest.py``."""

from __future__ import annotations

import pytest


def test_every_design_runs_every_workload_cleanly(run, design, workload):
    r = run(design, workload)
    assert r.metrics["invariant_violations"] == 0, r.violations
    assert r.metrics["pages_allocated"] > 0


@pytest.mark.parametrize("config", [("PREEMPT_RT",), ("PAGE_OWNER",), ("NUMA",)])
def test_kernel_configs_run_every_workload_cleanly(run, config, design, workload):
    r = run(design, workload, config=config)
    assert r.metrics["invariant_violations"] == 0, (design, r.violations)
    assert r.config == list(config)
