"""Sweeps: executors give identical results, interrupted sweeps resume to the same files."""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path

import pytest

from benchframe.cli import main
from benchframe.executors import run_specs
from benchframe.runner import RunSpec

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


def test_dask_local_cluster_gives_identical_results():
    specs = [RunSpec(design=d, workload="page_bench04", params={"bulk": 8, "pages": 256}, seed=1)
             for d in ("single", "array", "twopass")]
    local = run_specs(specs, jobs=1, executor="serial")
    dask = run_specs(specs, jobs=2, executor="dask")
    assert json.dumps(local, sort_keys=True) == json.dumps(dask, sort_keys=True)


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


def test_report_reads_a_sweep_directory(tmp_path, spec, capsys):
    out = tmp_path / "s"
    assert main(["sweep", str(spec), "--output", str(out), "--executor", "serial"]) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    assert "page_bench04" in text and "irq_latency" in text and "Amean bulk=64" in text


def test_report_keeps_a_second_varied_parameter_apart(tmp_path, capsys):
    spec = tmp_path / "two.toml"
    spec.write_text("[sweep]\ndesigns = ['single', 'array']\n[workloads.page_bench04]\nbulk = [8, 64]\n"
                    "pages = [128, 512]\n")
    out = tmp_path / "two"
    assert main(["sweep", str(spec), "--output", str(out), "--executor", "serial"]) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    for label in ("bulk=8, pages=128", "bulk=8, pages=512", "bulk=64, pages=128", "bulk=64, pages=512"):
        assert f"Amean {label} |" in text
