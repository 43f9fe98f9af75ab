"""Sweeps (``run/sweep.py``, the grid in ``run/grid.py``): executors give identical files, interrupted sweeps
resume to the same files, a sweep directory is a result source for ``report`` and ``load_sweep_results``."""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path

import pytest

from benchframe.cli import main

SPEC = """
[sweep]
designs = ["single", "array", "llist"]
seeds = [1, 2]

[workloads.page_bench04]
bulk = [1, 64]
pages = [256]

[workloads.irq_latency]
bulk = [8]
bursts = [10]
"""


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def spec(tmp_path):
    f = tmp_path / "small.toml"
    f.write_text(SPEC)
    return f


def test_process_pool_and_serial_give_identical_files(tmp_path, spec):
    assert main(["sweep", str(spec), "--output", str(tmp_path / "a"), "--jobs", "2"]) == 0
    assert main(["sweep", str(spec), "--output", str(tmp_path / "b"), "--executor", "serial"]) == 0
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert len([k for k in a if k.startswith("cells/")]) == 3 * 2 * 3  # designs x seeds x (2 + 1) points
    assert a == b


def test_interrupted_sweep_resumes_to_the_same_results(tmp_path, spec):
    full, part = tmp_path / "full", tmp_path / "part"
    assert main(["sweep", str(spec), "--output", str(full), "--executor", "serial"]) == 0
    shutil.copytree(full, part)
    cells = sorted((part / "cells").glob("*.json"))
    for f in cells[::2]:  # the cells that were in flight when the sweep was killed
        f.unlink()
    (part / "cells" / ".x.json.123.tmp").write_text("{half")  # a write kill -9 interrupted
    assert main(["sweep", str(spec), "--output", str(part), "--resume"]) == 0
    assert tree(full) == tree(part)
    assert not filecmp.dircmp(full, part).diff_files


def test_rerun_without_resume_is_refused(tmp_path, spec, capsys):
    out = tmp_path / "s"
    assert main(["sweep", str(spec), "--output", str(out), "--executor", "serial"]) == 0
    before = tree(out)
    assert main(["sweep", str(spec), "--output", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert tree(out) == before


def test_resume_refuses_a_cell_that_is_not_a_regular_file(tmp_path, spec, capsys):
    """A FIFO where a cell should be would block the reader for ever; resume names it in one line instead."""
    import os

    out = tmp_path / "s"
    assert main(["sweep", str(spec), "--output", str(out), "--executor", "serial"]) == 0
    cell = sorted((out / "cells").glob("*.json"))[0]
    cell.unlink()
    os.mkfifo(cell)
    capsys.readouterr()
    assert main(["sweep", str(spec), "--output", str(out), "--resume", "--executor", "serial"]) == 2
    err = capsys.readouterr().err
    assert err == f"benchframe: error: {cell}: is a FIFO (named pipe), not a file\n"


def test_report_reads_a_sweep_directory(tmp_path, spec, capsys):
    out = tmp_path / "s"
    assert main(["sweep", str(spec), "--output", str(out), "--executor", "serial"]) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    assert "page_bench04" in text and "irq_latency" in text and "Amean bulk=64" in text


KILL_SPEC = """
[sweep]
designs = ["single", "list", "array", "twopass", "llist", "locallock"]
seeds = 2

[workloads.page_bench04]
bulk = [1, 8, 64, 512]
pages = [1024]
"""


def test_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path):
    """The acceptance test in small: SIGKILL a real sweep process mid-way, --resume, compare the trees."""
    import os
    import signal
    import subprocess
    import sys
    import time

    spec = tmp_path / "kill.toml"
    spec.write_text(KILL_SPEC)
    killed, full = tmp_path / "killed", tmp_path / "full"
    proc = subprocess.Popen([sys.executable, "-m", "benchframe.cli", "sweep", str(spec), "--output", str(killed),
                             "--executor", "serial"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list((killed / "cells").glob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    left = len(list((killed / "cells").glob("*.json")))
    assert 3 <= left < 6 * 2 * 4  # killed in the middle
    assert main(["sweep", str(spec), "--output", str(killed), "--resume", "--jobs", "2"]) == 0
    assert main(["sweep", str(spec), "--output", str(full), "--executor", "serial"]) == 0
    assert tree(killed) == tree(full) and len(tree(full)) == 6 * 2 * 4 + 1


def test_sweep_on_a_dask_cluster_writes_the_same_files(tmp_path, spec):
    assert main(["sweep", str(spec), "--output", str(tmp_path / "d"), "--executor", "dask", "--jobs", "2"]) == 0
    assert main(["sweep", str(spec), "--output", str(tmp_path / "s"), "--executor", "serial"]) == 0
    assert tree(tmp_path / "d") == tree(tmp_path / "s")


def test_load_sweep_results_in_spec_order_and_partial(tmp_path, spec):
    from benchframe.plugins import get_registry
    from benchframe.run.grid import cell_key, cells, load_spec
    from benchframe.run.sweep import load_sweep_results

    out = tmp_path / "s"
    assert main(["sweep", str(spec), "--output", str(out), "--executor", "serial"]) == 0
    order = cells(load_spec(spec, get_registry()))
    order.sort(key=lambda c: c.workload)  # the manifest stores workloads by name
    runs = load_sweep_results(out)
    assert len(runs) == len(order) == 18
    assert [(r.design, r.workload, r.seed, r.params["bulk"]) for r in runs] == \
        [(c.design, c.workload, c.seed, c.params["bulk"]) for c in order]
    (out / "cells" / f"{cell_key(order[0])}.json").unlink()  # an interrupted sweep: what is there
    assert load_sweep_results(out) == runs[1:]


def test_a_sweep_replays_a_trace_over_batch_windows(tmp_path, capsys):
    trace = Path(__file__).resolve().parents[1] / "data" / "traces" / "loopback-tcp.perf.txt"
    spec = tmp_path / "trace.toml"
    spec.write_text(f'[sweep]\ndesigns = ["single", "array"]\n[workloads.trace]\nfile = ["{trace}"]\n'
                    'batch = ["none", "window:4", "runs"]\n')
    assert main(["sweep", str(spec), "--output", str(tmp_path / "sw"), "--jobs", "1"]) == 0
    assert "6 cells run" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "sw")]) == 0
    text = capsys.readouterr().out
    assert "batch=window:4" in text and "bulk_share_pct" in text


def test_ctrl_c_during_a_dask_sweep_prints_one_line_with_the_resume_command(tmp_path):
    """Ctrl-C reaches the whole process group: before, every Dask worker printed its KeyboardInterrupt
    traceback and the sweep said only 'interrupted'. Now: one line, the cells saved, the --resume command."""
    import os
    import signal
    import subprocess
    import sys
    import time

    spec = tmp_path / "int.toml"
    spec.write_text("[sweep]\ndesigns = ['single', 'list', 'array', 'twopass']\nseeds = 4\n"
                    "[workloads.irq_latency]\nbulk = [64, 128, 256, 512]\nbursts = [1000]\n")
    out = tmp_path / "int"

    def default_sigint():  # a shell runs a background job with SIGINT ignored; a terminal's foreground job not
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    proc = subprocess.Popen([sys.executable, "-m", "benchframe.cli", "sweep", str(spec), "--output", str(out),
                             "--executor", "dask", "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=default_sigint)
    deadline = time.monotonic() + 120
    while len(list((out / "cells").glob("*.json"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: every process of the group
    stdout, stderr = proc.communicate(timeout=120)
    saved = len(list((out / "cells").glob("*.json")))
    assert proc.returncode == 130, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert f"interrupted: {saved} of 64 cells saved in {out}" in stderr
    assert stderr.rstrip().endswith(f"--output {out} --executor dask --jobs 2 --resume")
    assert 2 <= saved < 64


def test_duplicate_cells_run_once_and_the_sweep_says_how_many_are_distinct(tmp_path, capsys):
    """Before: bulk = [1, 1, 8] and designs = ['array', 'array'] ran 12 cells into 3 files, and said 12."""
    spec = tmp_path / "s.toml"
    spec.write_text("[sweep]\ndesigns = ['array', 'array']\nseeds = [1, 1]\n[workloads.page_bench04]\n"
                    "bulk = [1, 1, 8]\npages = [64]\n")
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--output", str(out), "--executor", "serial"]) == 0
    captured = capsys.readouterr()
    assert f"benchframe: warning: sweep {spec}: 12 cells listed, 2 distinct (each runs once)\n" == captured.err
    assert ": 2 cells run, 0 already done, 0 failed" in captured.out
    assert len(list((out / "cells").glob("*.json"))) == 2


def test_a_second_sweep_into_a_running_sweeps_directory_fails_naming_the_first(tmp_path, capsys, clean_env):
    """Before: two sweeps of different specs into one --output both 'succeeded' and interleaved their cells
    (the manifest came with the first finished cell, so neither saw the other). Then (#25), under load, the
    second named the first '(unknown)': the holder's line was written after the lock was taken."""
    import subprocess
    import sys
    import time

    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("[sweep]\ndesigns = ['array']\nseeds = 20\n[workloads.page_bench04]\nbulk = [8]\npages = [32768]\n")
    b.write_text("[sweep]\ndesigns = ['list']\n[workloads.page_bench04]\nbulk = [8]\npages = [64]\n")
    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "benchframe.cli", "sweep", str(a), "--output", str(out),
                              "--executor", "serial"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=clean_env())
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts Python slowly; the loop ends as soon as it can
        while time.monotonic() < deadline and not (out / "cells").is_dir():
            time.sleep(0.005)
        # cells/ is created after the lock is taken and its holder written (io/lock.py): the second sweep below
        # can never find the lock held without a holder ("another benchframe is writing there (unknown)")
        assert (out / "cells").is_dir() and not list((out / "cells").glob("*.json"))
        assert main(["sweep", str(b), "--output", str(out), "--executor", "serial"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"benchframe: error: --output {out}: another benchframe is writing there (pid "
                              f"{first.pid} on ") and f"benchframe sweep {a} --output {out}" in err
        assert err.count("\n") == 1
        # the first writes its manifest after cells/ and before its first cell: under load (the suite on every
        # core) the second can fail before that, and killing the first then leaves no manifest to look at
        while time.monotonic() < deadline and not (out / "manifest.json").exists():
            time.sleep(0.005)
    finally:
        first.kill()
        first.wait()
    assert json.loads((out / "manifest.json").read_text())["spec"]["designs"] == ["array"]
    assert all(json.loads(f.read_text())["design"] == "array" for f in (out / "cells").glob("*.json"))
    # the lock died with the first sweep (killed): its --resume runs
    assert main(["sweep", str(a), "--output", str(out), "--resume", "--executor", "serial"]) == 0


def test_a_value_listed_twice_in_two_types_runs_once(tmp_path, capsys):
    """Before (#25): bulk = [8, "8"] ran one point twice (two cell keys), and a report counted it twice."""
    spec = tmp_path / "s.toml"
    spec.write_text("[sweep]\ndesigns = ['array', 'array']\n[workloads.page_bench04]\nbulk = [8, '8']\n"
                    "pages = [64]\n")
    assert main(["sweep", str(spec), "--output", str(tmp_path / "out"), "--executor", "serial"]) == 0
    assert "4 cells listed, 1 distinct (each runs once)" in capsys.readouterr().err
    cells = list((tmp_path / "out" / "cells").glob("*.json"))
    assert len(cells) == 1 and json.loads(cells[0].read_text())["params"]["bulk"] == 8


def test_paths_in_a_spec_are_relative_to_its_folder(tmp_path, monkeypatch, capsys):
    """Before (#25): a spec's output resolved from the working directory."""
    from benchframe.hw.costs import DEFAULT_PROFILE, builtin_profile_paths

    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "mine.toml").write_text(builtin_profile_paths()[DEFAULT_PROFILE].read_text()
                                      .replace('name = "e5-1650v4"', 'name = "mine"'))
    (folder / "s.toml").write_text("[sweep]\ndesigns = ['array']\nprofile = 'mine.toml'\noutput = 'results'\n"
                                   "[workloads.page_bench04]\npages = [64]\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["sweep", "../specs/s.toml", "--executor", "serial"]) == 0
    assert list(elsewhere.iterdir()) == []
    cell = next((folder / "results" / "cells").glob("*.json"))
    assert json.loads(cell.read_text())["profile"] == "mine"
