"""Plugin errors are not bad input: a plugin that fails to import, or raises in a design or a hook during
``run``, ``sweep`` or ``report``, is named in one line, the exit status is 1, and everything else still runs
(the other designs' results, the other rows, the report)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from benchframe.build import compiled_modules
from benchframe.cli import main

#: what the compiled core (benchframe.build) says when a design stores a float in an int field such as cpu.clock
NOT_AN_INT = "TypeError: int object expected; got float"
RUN = ["run", "--design", "array", "--workload", "page_bench04", "--param", "pages=64"]

OBSERVER = '''
from benchframe import hookimpl

@hookimpl
def benchframe_check_invariants(kernel, design):
    return []

@hookimpl
def benchframe_run_finished(run):
    if run.params["bulk"] == 8:
        raise ValueError("observer broke")

@hookimpl
def benchframe_report_sections(runs, baseline):
    raise KeyError("no section today")
'''


def test_a_design_that_raises_is_named_and_the_other_designs_still_run(tmp_path, capsys, raiser_plugin):
    """Documented convention: bad input exits 2; a plugin that breaks during a run exits 1 and the other
    designs' results still come out."""
    out = tmp_path / "r.json"
    assert main(["run", "--design", "raiser,array", "--workload", "page_bench04", "--param", "pages=64",
                 "--plugin", str(raiser_plugin), "--json", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert [ln for ln in err.splitlines() if "broken" in ln] == [
        f"benchframe: plugin error: plugin {raiser_plugin}: design raiser raised ValueError: broken "
        "(workload page_bench04)"]
    assert [r["design"] for r in json.loads(out.read_text())["runs"]] == ["array"]


def test_a_design_that_raises_in_a_sweep(tmp_path, capsys, raiser_plugin):
    """Same convention in a sweep: exit 1, the plugin named, the other designs' cells saved, the failed cells
    left for --resume to retry."""
    spec = tmp_path / "s.toml"
    spec.write_text("[sweep]\ndesigns = ['raiser', 'array']\n[workloads.page_bench04]\nbulk = [1, 8]\n"
                    "pages = [64]\n")
    out = tmp_path / "out"
    argv = ["sweep", str(spec), "--output", str(out), "--plugin", str(raiser_plugin), "--jobs", "2"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "plugin error" in err and "raiser" in err and "Traceback" not in err
    assert len(list((out / "cells").glob("*.json"))) == 2  # array's two cells
    assert main(argv + ["--resume"]) == 1
    assert "0 already done" not in capsys.readouterr().out


def test_a_design_raising_in_a_kernel_helper_is_blamed_on_the_design(capsys, design_plugin):
    plugin = design_plugin("hboom", body="return self.k.rmqueue(cpu, None, 0, gfp, 0)")
    status = main(["run", "--design", "hboom", "--workload", "page_bench04", "--param", "pages=128",
                   "--plugin", str(plugin), "--executor", "serial"])
    err = capsys.readouterr().err
    assert status == 1
    assert f"plugin {plugin}: design hboom raised AttributeError" in err and "(workload page_bench04)" in err


def test_a_raising_observer_hook_is_reported_by_plugin_and_other_rows_still_print(tmp_path, capsys):
    observer = tmp_path / "observer.py"
    observer.write_text(OBSERVER)
    out = tmp_path / "r.json"
    status = main(["run", "--design", "array", "--workload", "page_bench04", "--param", "pages=128",
                   "--param", "bulk=1,8", "--plugin", str(observer), "--executor", "serial", "--json", str(out)])
    captured = capsys.readouterr()
    assert status == 1
    errors = [ln for ln in captured.err.splitlines() if "observer broke" in ln]
    assert errors == [f"benchframe: plugin error: plugin {observer}: benchframe_run_finished raised ValueError: "
                      "observer broke (design array, workload page_bench04)"]
    assert [r["params"]["bulk"] for r in json.loads(out.read_text())["runs"]] == [1]


def test_a_raising_report_section_still_writes_the_report(tmp_path, capsys):
    observer = tmp_path / "observer.py"
    observer.write_text(OBSERVER.replace("bulk\"] == 8", "bulk\"] == -1"))
    results = tmp_path / "r.json"
    assert main(["run", "--design", "array,single", "--workload", "page_bench04", "--param", "pages=128",
                 "--executor", "serial", "--json", str(results)]) == 0
    capsys.readouterr()
    status = main(["report", str(results), "--plugin", str(observer), "--output", str(tmp_path / "rep")])
    err = capsys.readouterr().err
    assert status == 1 and "benchframe_report_sections raised KeyError" in err and str(observer) in err
    assert (tmp_path / "rep" / "report.md").stat().st_size > 0


def test_a_plugin_that_fails_to_import_makes_the_exit_status_say_so(tmp_path, capsys):
    bad = tmp_path / "bad_plugin.py"
    bad.write_text("raise ImportError('missing dependency')\n")
    assert main(["list", "designs", "--plugin", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "array" in captured.out
    assert "failed to import" in captured.err and "missing dependency" in captured.err


EXITS = [("sys.exit(0)", "SystemExit(0)"), ("sys.exit(7)", "SystemExit(7)"),
         ("raise KeyboardInterrupt", "KeyboardInterrupt")]


@pytest.mark.parametrize("body, named", EXITS)
def test_a_plugin_that_exits_on_import_is_a_plugin_error(tmp_path, capsys, body, named):
    """Before: ``sys.exit(0)`` on import ended ``run`` with exit 0, no table and no JSON; ``sys.exit(7)``
    exited 7."""
    plugin = tmp_path / "exits.py"
    plugin.write_text(f"import sys\n{body}\n")
    out = tmp_path / "r.json"
    assert main(RUN + ["--plugin", str(plugin), "--json", str(out)]) == 1
    captured = capsys.readouterr()
    assert "array" in captured.out and json.loads(out.read_text())["runs"][0]["design"] == "array"
    assert f"benchframe: plugin error: plugin {plugin}: failed to import: {named}" in captured.err


@pytest.mark.parametrize("executor", ["serial", "process"])
@pytest.mark.parametrize("body, named", EXITS)
def test_a_design_that_exits_in_alloc_bulk_is_named(tmp_path, capsys, design_plugin, executor, body, named):
    """Before: the design's ``sys.exit(7)`` ended the command with exit 7 and no output; its
    ``KeyboardInterrupt`` looked like the user's Ctrl-C (exit 130)."""
    plugin = design_plugin("exits", body=f"import sys; {body}")
    out = tmp_path / "r.json"
    status = main(["run", "--design", "exits,array", "--workload", "page_bench04", "--param", "pages=64",
                   "--plugin", str(plugin), "--json", str(out), "--executor", executor, "--jobs", "2"])
    err = capsys.readouterr().err
    assert status == 1
    assert f"benchframe: plugin error: plugin {plugin}: design exits raised {named}" in err
    assert [r["design"] for r in json.loads(out.read_text())["runs"]] == ["array"]


def test_a_hook_that_exits_is_named(tmp_path, capsys):
    observer = tmp_path / "observer.py"
    observer.write_text("import sys\nfrom benchframe import hookimpl\n\n@hookimpl\n"
                        "def benchframe_run_finished(run):\n    sys.exit(3)\n")
    assert main(RUN + ["--plugin", str(observer), "--executor", "serial"]) == 1
    assert f"plugin {observer}: benchframe_run_finished raised SystemExit(3)" in capsys.readouterr().err


def test_a_design_whose_constructor_raises_is_named(capsys, design_plugin):
    """Before: the design's ``__init__`` ran outside the blame, so its error was benchframe's internal
    error (exit 3)."""
    plugin = design_plugin("ctor", body="return 0")
    plugin.write_text(plugin.read_text().replace(
        "    def alloc_bulk", "    def __init__(self, k, **options):\n        raise RuntimeError('no ctor')\n"
        "    def alloc_bulk"))
    assert main(["run", "--design", "ctor", "--workload", "page_bench04", "--param", "pages=64",
                 "--plugin", str(plugin), "--executor", "serial"]) == 1
    assert f"plugin {plugin}: design ctor raised RuntimeError: no ctor" in capsys.readouterr().err


def test_the_users_ctrl_c_still_interrupts(tmp_path, design_plugin, clean_env):
    """A real SIGINT is not mistaken for a plugin's KeyboardInterrupt: exit 130, 'interrupted'."""
    started = tmp_path / "started"
    plugin = design_plugin("spins", body=f"open({str(started)!r}, 'w').close()\n        while True: pass")
    proc = subprocess.Popen([sys.executable, "-m", "benchframe.cli", "run", "--design", "spins", "--workload",
                             "page_bench04", "--param", "pages=64", "--plugin", str(plugin), "--executor",
                             "serial"], stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        for _ in range(600):
            if started.exists():
                break
            time.sleep(0.05)
        assert started.exists()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and err == "benchframe: interrupted\n"


def test_a_hanging_design_is_named_after_the_cell_timeout(tmp_path, capsys, design_plugin):
    """Before: no --cell-timeout; ``run`` hung for good. Now that cell is the plugin's error, the others come out."""
    plugin = design_plugin("hangs", body="while True: pass")
    out = tmp_path / "r.json"
    assert main(["run", "--design", "hangs,array", "--workload", "page_bench04", "--param", "pages=64",
                 "--plugin", str(plugin), "--json", str(out), "--cell-timeout", "0.5", "--executor", "serial"]) == 1
    assert (f"benchframe: plugin error: plugin {plugin}: design hangs did not finish: no result within 0.5 s "
            "(--cell-timeout) (workload page_bench04)\n") in capsys.readouterr().err
    assert [r["design"] for r in json.loads(out.read_text())["runs"]] == ["array"]


NAN_WORKLOAD = '''
from benchframe import hookimpl
from benchframe.api import Workload

def run(ctx):
    ctx.extra["nan_metric"] = float("nan")

@hookimpl
def benchframe_register_workloads():
    return [Workload(name="nanwl", run=run, description="x", metrics={"nan_metric": ("x", "lower", "x")})]
'''


@pytest.mark.parametrize("body, needle", [
    ("BulkAllocator.alloc_bulk(self, cpu, gfp, nr_pages, page_array=page_array); return float('nan')",
     "design nans alloc_bulk(array) returned nan, not a page count, for 64 pages (workload page_bench04)"),
    ("n = BulkAllocator.alloc_bulk(self, cpu, gfp, nr_pages, page_array=page_array); cpu.clock = float('nan'); "
     "return n", "design nans left CPU0's clock at nan (workload page_bench04)"),
])
def test_a_nan_a_design_returns_is_blamed_on_the_design(tmp_path, capsys, design_plugin, body, needle):
    """Before: the workload tripped over the design's NaN and was blamed for it ('workload page_bench04 raised
    TypeError'); a NaN clock hung the run."""
    plugin = design_plugin("nans", body=body)
    out = tmp_path / "r.json"
    assert main(["run", "--design", "nans,array", "--workload", "page_bench04", "--param", "pages=64",
                 "--plugin", str(plugin), "--json", str(out), "--executor", "serial", "--cell-timeout", "60"]) == 1
    if "clock" in needle and compiled_modules():  # the compiled CPU's clock is an int: the assignment fails
        needle = f"design nans raised {NOT_AN_INT} (workload page_bench04)"
    assert f"benchframe: plugin error: plugin {plugin}: {needle}\n" in capsys.readouterr().err
    assert [r["design"] for r in json.loads(out.read_text())["runs"]] == ["array"]


def test_a_nan_clock_set_while_freeing_is_blamed_on_the_design(tmp_path, capsys):
    """Before: the interrupt controller looped for good on a NaN clock."""
    plugin = tmp_path / "nanfree.py"
    plugin.write_text("from benchframe import hookimpl\nfrom benchframe.api import ARRAY, BulkAllocator, Design\n"
                      "class R(BulkAllocator):\n    shape = ARRAY\n    def free_page(self, cpu, page):\n"
                      "        super().free_page(cpu, page)\n        cpu.clock = float('nan')\n"
                      "@hookimpl\ndef benchframe_register_designs():\n"
                      "    return [Design(name='nanfree', factory=R, description='x')]\n")
    assert main(["run", "--design", "nanfree", "--workload", "page_bench04", "--param", "pages=64", "--plugin",
                 str(plugin), "--executor", "serial", "--cell-timeout", "60"]) == 1
    err = capsys.readouterr().err
    if compiled_modules():  # the compiled CPU refuses the float at once
        assert f"plugin {plugin}: design nanfree raised {NOT_AN_INT} (workload page_bench04)" in err
        return
    assert f"plugin {plugin}: design nanfree raised ValueError: CPU0: " in err
    assert " cycles charged at clock nan: not a finite time" in err


def test_a_nan_metric_of_a_workload_is_blamed_on_the_workload(tmp_path, capsys):
    """Before: the NaN reached the JSON writer: an internal error, exit 3."""
    plugin = tmp_path / "nanwl.py"
    plugin.write_text(NAN_WORKLOAD)
    out = tmp_path / "r.json"
    assert main(["run", "--design", "array", "--workload", "nanwl", "--plugin", str(plugin), "--json", str(out),
                 "--executor", "serial"]) == 1
    assert (f"plugin {plugin}: workload nanwl produced non-finite or negative metric(s) nan_metric=nan (design array)"
            in capsys.readouterr().err)
    assert json.loads(out.read_text())["runs"] == []


SEED_READER = '''
from benchframe import hookimpl
from benchframe.api import Workload

def run(ctx):
    ctx.rng.random()

@hookimpl
def benchframe_register_workloads():
    return [Workload(name="liar", run=run, description="x", seeded=False)]
'''


def test_a_workload_declared_seeded_false_that_reads_the_seed_is_blamed(tmp_path, capsys):
    """One run stands for every seed of a seeded=False workload: one that draws on the seed anyway would make
    that a lie, so its run is the workload's error."""
    plugin = tmp_path / "liar.py"
    plugin.write_text(SEED_READER)
    assert main(["run", "--design", "array", "--workload", "liar", "--seeds", "1,2", "--plugin", str(plugin),
                 "--executor", "serial"]) == 1
    assert (f"plugin {plugin}: workload liar raised WorkloadContractError: workload liar is declared seeded=False "
            "but reads ctx.rng") in capsys.readouterr().err


def test_a_run_declared_unseeded_for_its_parameters_that_reads_the_seed_is_blamed(tmp_path, capsys):
    plugin = tmp_path / "liar2.py"
    plugin.write_text(SEED_READER.replace('seeded=False', 'seeded=lambda p: False'))
    assert main(["run", "--design", "array", "--workload", "liar", "--plugin", str(plugin),
                 "--executor", "serial"]) == 1
    assert "workload liar is declared seeded=False with these parameters but reads ctx.rng" in capsys.readouterr().err
