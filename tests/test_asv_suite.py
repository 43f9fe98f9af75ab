"""The asv suite covers every registered design and skips what an older build lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchframe.plugins import get_registry

ROOT = Path(__file__).resolve().parent.parent


def test_every_registered_builtin_design_is_in_the_suite():
    from benchmarks import bench_designs, bench_simulator, common

    builtin = [n for n, d in get_registry().designs.items() if d.factory.__module__.startswith("benchframe_plugins")]
    assert builtin and set(builtin) <= set(common.DESIGNS)
    for cls in (bench_designs.PageBench04, bench_designs.IrqLatency, bench_designs.Callers,
                bench_simulator.Simulate):
        assert set(builtin) <= set(cls.params[0])


def test_unknown_design_is_skipped_not_failed():
    from benchmarks import bench_designs

    bench = bench_designs.PageBench04()
    with pytest.raises(NotImplementedError):
        bench.setup("no_such_design", 64)


def test_a_track_benchmark_returns_the_simulated_metric():
    from benchmarks import bench_designs

    bench = bench_designs.PageBench04()
    bench.setup("single", 8)
    assert 150 < bench.track_alloc_free_cycles_per_page("single", 8) < 300


def test_asv_conf():
    conf = json.loads((ROOT / "asv.conf.json").read_text())
    assert conf["environment_type"] == "virtualenv" and conf["branches"] == ["HEAD"]
    assert conf["benchmark_dir"] == "benchmarks"
    assert conf["build_command"] == ["python -m build --wheel -o {build_cache_dir} {build_dir}"]
    assert ".asv/" in (ROOT / ".gitignore").read_text()
