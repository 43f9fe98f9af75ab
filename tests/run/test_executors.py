"""Executors: serial, local process pool and Dask give the same results (``RunResult`` or ``CellFailure``), in
spec order."""

from __future__ import annotations

import gc
import json
import os
import pickle
import subprocess
import sys
import time

import pytest

from benchframe import BenchframeError
from benchframe.results import CellFailure, RunResult
from benchframe.run import RunSpec, executors
from benchframe.run.executors import iter_results, run_specs, seed_groups


def specs() -> list[RunSpec]:
    """Single-CPU cells plus two-CPU ones (greenlets per CPU inside whatever thread runs the cell), and one
    cell twice: equal specs are still two results."""
    out = [RunSpec(design=d, workload="page_bench04", params={"bulk": b, "pages": 128}, seed=1)
           for d in ("single", "array", "llist:free=splice") for b in (1, 16)]
    out += [RunSpec(design=d, workload="contention", params={"cpus": 2, "bulk": 16, "bursts": 20}, seed=s)
            for d in ("array", "locallock") for s in (1, 2)]
    return out + [out[0]]


def canon(results: list) -> str:
    return json.dumps([r.model_dump() for r in results], sort_keys=True)


@pytest.fixture(scope="module")
def serial() -> list:
    return run_specs(specs(), executor="serial")


def test_serial_results_are_in_spec_order(serial):
    assert [(r.design, r.workload, r.seed) for r in serial] == [(s.design, s.workload, s.seed) for s in specs()]
    assert serial[0] == serial[-1]
    assert all(r.metrics["invariant_violations"] == 0 for r in serial)


def test_runspec_pickles():
    s = RunSpec(design="llist:free=splice", workload="page_bench04", params={"bulk": 8}, seed=3,
                config=("PREEMPT_RT",), plugins=("x.py",))
    assert pickle.loads(pickle.dumps(s)) == s


def test_process_pool_matches_serial_and_reports_each_cell_once(serial):
    seen: dict[int, RunResult] = {}
    ticks = []
    pool = run_specs(specs(), jobs=2, executor="process", progress=ticks.append,
                     on_result=lambda i, r: seen.setdefault(i, r))
    assert canon(pool) == canon(serial)
    assert sorted(seen) == list(range(len(serial))) and [seen[i] for i in range(len(serial))] == pool
    assert len(ticks) == len(serial)


def test_dask_thread_workers_match_serial(serial):
    """A 2-worker LocalCluster of threads: greenlet-based 2-CPU runs work in dask worker threads."""
    got = [None] * len(serial)
    for i, r in iter_results(specs(), jobs=2, executor="dask", dask_processes=False):
        got[i] = r
    assert canon(got) == canon(serial)


def test_dask_process_workers_match_serial(serial):
    assert canon(run_specs(specs(), jobs=2, executor="dask")) == canon(serial)


def test_a_raising_plugin_is_a_result_not_a_crash(tmp_path, raiser_plugin):
    plugin = raiser_plugin
    cells = [RunSpec(design=d, workload="page_bench04", params={"pages": 64}, plugins=(str(plugin),))
             for d in ("raiser", "array")]
    for executor in ("serial", "process"):
        bad, good = run_specs(cells, jobs=2, executor=executor)
        assert isinstance(bad, CellFailure) and (bad.plugin, bad.design, bad.workload) == (str(plugin), "raiser",
                                                                                          "page_bench04")
        assert "raiser" in bad.message and "broken" in bad.message and "\n" not in bad.message
        assert isinstance(good, RunResult) and good.design == "array"


@pytest.mark.parametrize("kwargs, needle", [
    ({"executor": "cloud"}, "--executor must be one of"),
    ({"jobs": 0}, "--jobs must be at least 1"),
    ({"jobs": -3}, "--jobs must be at least 1"),
])
def test_bad_executor_arguments(kwargs, needle):
    with pytest.raises(BenchframeError, match=needle):
        run_specs(specs()[:1], **kwargs)


def test_unreachable_scheduler_is_one_line(monkeypatch):
    monkeypatch.setattr("benchframe.remote.DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(BenchframeError, match="cannot connect") as info:
        run_specs(specs()[:1], scheduler="tcp://127.0.0.1:9")
    assert "\n" not in str(info.value)


def test_nothing_to_run_starts_nothing():
    assert run_specs([], executor="dask", scheduler="tcp://127.0.0.1:9") == []


HANGS = {"loops": "while True:\n            try:\n                pass\n"
                  "            except Exception:\n                pass",
         "sleeps": "import time; time.sleep(10**6)"}


@pytest.mark.parametrize("executor, body", [("serial", "loops"), ("serial", "sleeps"), ("process", "loops"),
                                            ("process", "sleeps"), ("dask-threads", "loops")])
def test_a_hanging_design_is_that_cells_error_after_the_cell_timeout(design_plugin, executor, body):
    """Before: no limit; a design that loops forever (even one catching every Exception) hung the command. A
    hang in C code on a Dask worker thread (``sleeps`` there) is only ended when that code returns."""
    plugin = design_plugin("hangs", body=HANGS[body])
    cells = [RunSpec(design=d, workload="page_bench04", params={"pages": 64}, plugins=(str(plugin),))
             for d in ("hangs", "array")]
    got: list = [None, None]
    for i, r in iter_results(cells, jobs=2, executor=executor.split("-")[0], timeout=0.5,
                             dask_processes=executor != "dask-threads"):
        got[i] = r
    hung, fine = got
    assert hung == CellFailure(str(plugin), "hangs", "page_bench04", f"plugin {plugin}: design hangs did not "
                               "finish: no result within 0.5 s (--cell-timeout) (workload page_bench04)")
    assert isinstance(fine, RunResult) and fine.design == "array"


def test_no_cell_timeout_means_no_alarm_left_behind():
    import signal

    before = signal.getsignal(signal.SIGALRM)
    assert run_specs(specs()[:1], executor="serial", timeout=0)[0].design == "single"
    assert run_specs(specs()[:1], executor="serial", timeout=30)[0].design == "single"
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize("argv", [
    ["sweep", "{spec}", "--output", "{tmp}/out", "--jobs", "2"],
    ["compare", "--output", "{tmp}/rep", "--jobs", "2"],
    ["sweep", "{spec}", "--output", "{tmp}/out", "--jobs", "2", "--executor", "dask"],
], ids=["sweep-process", "compare-process", "sweep-dask"])
def test_workers_exit_when_their_parent_is_killed(tmp_path, clean_env, argv):
    """Before: kill -9 of compare or sweep left both process-pool workers running, adopted by init."""
    psutil = pytest.importorskip("psutil")
    spec = tmp_path / "s.toml"
    spec.write_text("[sweep]\ndesigns = ['array', 'list']\nseeds = 50\n[workloads.page_bench04]\n"
                    "bulk = [1, 8, 64]\npages = [65536]\n")
    argv = [a.replace("{spec}", str(spec)).replace("{tmp}", str(tmp_path)) for a in argv]
    proc = subprocess.Popen([sys.executable, "-m", "benchframe.cli", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=clean_env())
    parent = psutil.Process(proc.pid)
    workers = []
    try:
        for _ in range(600):  # until the pool's (or the cluster's) worker processes are up
            workers = [p for p in parent.children(recursive=True) if "resource_tracker" not in " ".join(p.cmdline())]
            if len(workers) >= 2:
                break
            time.sleep(0.1)
        assert len(workers) >= 2, "the workers never started"
        time.sleep(0.5)
        proc.kill()
        proc.wait()
        gone, alive = psutil.wait_procs(workers, timeout=30)
        assert alive == [], f"workers left running after their parent was killed: {alive}"
    finally:
        for p in workers:
            try:
                p.kill()
            except psutil.Error:
                pass


def test_cells_of_an_unseeded_workload_that_differ_only_in_seed_run_once(monkeypatch):
    """page_bench04 is declared seeded=False: its three seeds are one run, reported under each seed; a seeded
    workload's seeds and an unseeded one's other parameters are runs of their own."""
    cells = [RunSpec(design="array", workload="page_bench04", params={"bulk": b, "pages": 128}, seed=s)
             for b in (8, 16) for s in (1, 2, 3)]
    cells += [RunSpec(design="array", workload="sunrpc", params={"calls": 5}, seed=s) for s in (1, 2)]
    assert seed_groups(cells) == [[0, 1, 2], [3, 4, 5], [6], [7]]
    ran: list[RunSpec] = []
    real = executors.run_cell
    monkeypatch.setattr(executors, "run_cell", lambda spec, timeout=None: ran.append(spec) or real(spec, timeout))
    got = run_specs(cells, executor="serial")
    assert [(s.workload, s.params.get("bulk"), s.seed) for s in ran] == \
        [("page_bench04", 8, 1), ("page_bench04", 16, 1), ("sunrpc", None, 1), ("sunrpc", None, 2)]
    assert [r.seed for r in got] == [1, 2, 3, 1, 2, 3, 1, 2]
    alone = run_specs([cells[1]], executor="serial")[0]
    assert got[1] == alone and got[1] is not got[0]
    got[0].metrics["alloc_cycles_per_page"] = -1.0  # each seed's result is its own copy
    assert got[2].metrics["alloc_cycles_per_page"] == alone.metrics["alloc_cycles_per_page"]


def _frozen_in_worker() -> int:
    return gc.get_freeze_count()


def test_a_pool_worker_keeps_what_it_inherited_out_of_the_cyclic_collector():
    """``init_worker`` freezes what the worker inherited (modules, the registry): the collections the cells'
    garbage sets off then do not traverse it again and again."""
    from concurrent.futures import ProcessPoolExecutor

    from benchframe.signals import init_worker

    with ProcessPoolExecutor(max_workers=1, initializer=init_worker, initargs=(os.getpid(),)) as pool:
        frozen = pool.submit(_frozen_in_worker).result()
    assert frozen > 1000
