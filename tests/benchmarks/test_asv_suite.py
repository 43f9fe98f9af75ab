"""The asv suite (`benchmarks/`) covers every registered design and skips what an older build lacks."""

from __future__ import annotations

import copy
import inspect
import json
import sys
from pathlib import Path

import pytest

from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # asv imports the suite as the package `benchmarks` from the repository root
    sys.path.insert(0, str(ROOT))
# Distributions this repository ships: the core with its built-in designs, and the example plugin.
REPO_DISTS = {"benchframe", "benchframe-pcpspin"}


def suite_classes():
    """Every asv benchmark class in benchmarks/bench_*.py that is parameterised by design."""
    from benchmarks import bench_designs, bench_simulator

    classes = [cls for mod in (bench_designs, bench_simulator) for _, cls in inspect.getmembers(mod, inspect.isclass)
               if cls.__module__ == mod.__name__ and getattr(cls, "params", None)]
    assert classes
    for cls in classes:
        assert cls.param_names[0] == "design", cls
    return classes


@pytest.fixture
def common(monkeypatch):
    """benchmarks.common with its registry cache reset after the test."""
    from benchmarks import common

    monkeypatch.setattr(common, "_registry", None)
    return common


def test_every_registered_design_is_in_every_suite_class():
    reg = get_registry()
    ours = sorted(n for p in reg.plugins if p.dist in REPO_DISTS for n in p.registered.get("designs", []))
    assert {"single", "list", "array", "twopass", "llist", "locallock"} <= set(ours)
    from benchmarks import common

    missing = sorted(set(ours) - set(common.DESIGNS))
    assert not missing, f"add {missing} to benchmarks/common.py DESIGNS"
    for cls in suite_classes():
        assert list(cls.params[0]) == common.DESIGNS, cls


def test_params_do_not_depend_on_the_installed_build(common, monkeypatch):
    """asv runs the current files against old builds: the parameter lists are fixed, not read from the registry."""
    before = [(cls.__name__, cls.params) for cls in suite_classes()]
    monkeypatch.setattr(common, "get_registry", None)
    assert [(cls.__name__, cls.params) for cls in suite_classes()] == before
    assert all(isinstance(v, list) for _, params in before for v in params)


@pytest.mark.parametrize("cls_name,args", [
    ("PageBench04", ("no_such_design", 64)),
    ("IrqLatency", ("no_such_design", 64, "default")),
    ("Callers", ("no_such_design", "sunrpc")),
    ("Simulate", ("no_such_design",)),
    ("Explore", ("no_such_design", "irq")),
])
def test_setup_skips_an_unknown_design(common, cls_name, args):
    cls = next(c for c in suite_classes() if c.__name__ == cls_name)
    with pytest.raises(NotImplementedError, match="no_such_design"):
        cls().setup(*args)


def without(reg, kind: str, name: str):
    other = copy.copy(reg)
    setattr(other, kind, {k: v for k, v in getattr(reg, kind).items() if k != name})
    return other


def test_setup_skips_what_an_older_build_lacks(common, monkeypatch):
    from benchmarks import bench_designs

    reg = get_registry()
    # a build without the irq_latency workload (it came after the core)
    monkeypatch.setattr(common, "_registry", without(reg, "workloads", "irq_latency"))
    with pytest.raises(NotImplementedError, match="irq_latency"):
        bench_designs.IrqLatency().setup("array", 64, "default")
    # a build without the sunrpc workload
    monkeypatch.setattr(common, "_registry", without(reg, "workloads", "sunrpc"))
    with pytest.raises(NotImplementedError, match="sunrpc"):
        bench_designs.Callers().setup("array", "sunrpc")
    # a build whose workload lacks a parameter the suite sets
    monkeypatch.setattr(common, "_registry", reg)
    with pytest.raises(NotImplementedError, match="no_such_param"):
        common.spec("array", "page_bench04", {"no_such_param": 1})
    # a kernel config the build does not know
    with pytest.raises(NotImplementedError, match="NO_SUCH_CONFIG"):
        common.spec("array", "irq_latency", {"bulk": 8}, kernel="NO_SUCH_CONFIG")
    # a metric the build does not report
    with pytest.raises(NotImplementedError, match="no_such_metric"):
        common.simulate("array", "page_bench04", {"bulk": 8, "pages": 64}, ("no_such_metric",))
    # a build from before the plugin registry
    monkeypatch.setattr(common, "_registry", None)
    monkeypatch.setattr(common, "get_registry", None)
    with pytest.raises(NotImplementedError):
        bench_designs.PageBench04().setup("single", 8)


def test_track_benchmarks_return_the_simulated_metrics(common):
    from benchmarks import bench_designs

    bench = bench_designs.PageBench04()
    bench.setup("list", 8)
    direct = run_one(RunSpec(design="list", workload="page_bench04", params={"bulk": 8, "pages": 4096},
                             seed=common.SEED))
    assert bench.track_alloc_free_cycles_per_page("list", 8) == direct.metrics["alloc_free_cycles_per_page"]
    assert bench.track_irqs_off_max_cycles("list", 8) == direct.metrics["irqs_off_max_cycles"]

    rt = bench_designs.IrqLatency()
    rt.setup("locallock", 64, "PREEMPT_RT")
    direct = run_one(RunSpec(design="locallock", workload="irq_latency", params={"bulk": 64, "bursts": 300},
                             seed=common.SEED, config=("PREEMPT_RT",)))
    assert direct.config == ["PREEMPT_RT"]
    assert rt.track_irq_latency_p99_cycles("locallock", 64, "PREEMPT_RT") == direct.metrics["irq_latency_p99_cycles"]

    for caller, (workload, params, metric) in bench_designs.CALLERS.items():
        bench = bench_designs.Callers()
        bench.setup("array", caller)
        direct = run_one(RunSpec(design="array", workload=workload, params=params, seed=common.SEED))
        assert bench.track_cycles("array", caller) == direct.metrics[metric]


def test_track_benchmarks_have_units_and_pinned_versions():
    for cls in suite_classes():
        names = [n for n in dir(cls) if n.startswith(("track_", "time_", "peakmem_"))]
        assert names, cls
        for name in names:
            fn = getattr(cls, name)
            assert isinstance(getattr(fn, "version", None), int), f"{cls.__name__}.{name}"
            if name.startswith("track_") and cls.__module__.endswith("bench_designs"):  # the simulated history
                assert fn.unit == "cycles", f"{cls.__name__}.{name}"
            elif name.startswith("track_"):  # the simulator's own speed (Throughput): a ratio or a rate
                assert fn.unit in ("x", "pairs/s"), f"{cls.__name__}.{name}"


def test_asv_conf():
    conf = json.loads((ROOT / "asv.conf.json").read_text())
    assert conf["environment_type"] == "virtualenv" and conf["branches"] == ["main"]
    assert conf["benchmark_dir"] == "benchmarks" and conf["repo"] == "."
    assert conf["build_command"] == ["python -m build --wheel -o {build_cache_dir} {build_dir}"]
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".asv/" in ignored
    for key in ("html_dir", "env_dir"):
        assert conf[key].startswith(".asv/"), key
    # the results directory is in git, but only the simulated history's machine (benchmarks/record.py)
    assert conf["results_dir"] == "benchmarks/history"
    kept = {"benchmarks/history/*", "!benchmarks/history/benchmarks.json", "!benchmarks/history/benchframe-sim/"}
    assert kept <= set(ignored)
    assert conf["show_commit_url"].startswith("https://")
