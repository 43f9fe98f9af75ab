"""``benchmarks/record.py``: the simulated metrics' history in the repository, and the history it recorded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import record  # noqa: E402 - after the path

# the shape of the file asv writes for an existing environment (asv 0.6, api version 2)
ASV_DOC = {
    "commit_hash": "a8082849aa8e290afc62150ff46dd7f5e7371d4d", "env_name": "existing-py_home_me_.venv_bin_python3",
    "date": 1796595442000, "python": "/home/me/.venv/bin/python3",
    "params": {"arch": "any", "machine": "benchframe-sim", "python": "/home/me/.venv/bin/python3"},
    "requirements": {}, "env_vars": {}, "version": 2,
    "result_columns": ["result", "params", "version", "started_at", "duration", "stats_ci_99_a"],
    "results": {
        "bench_designs.PageBench04.track_irqs_off_max_cycles": [
            [33, 241, 33, None], [["'single'", "'list'"], ["1", "8"]], "1", 1796595768250, 102.19],
        "bench_designs.Plain.track_x": [7.5, [], "3", 1796595768251, 1.5],
    },
    "durations": {"<build>": 0.0001},
}


def test_normalize_keeps_what_belongs_to_the_commit():
    doc = record.normalize(ASV_DOC)
    assert doc["env_name"] == record.ENV_NAME == f"existing-py{sys.version_info[0]}.{sys.version_info[1]}"
    assert doc["python"] == doc["params"]["python"] == record.PYTHON and doc["durations"] == {}
    assert doc["results"]["bench_designs.PageBench04.track_irqs_off_max_cycles"] == [
        [33, 241, 33, None], [["'single'", "'list'"], ["1", "8"]], "1"]
    assert record.normalize(doc) == doc  # twice: the same
    assert ASV_DOC["env_name"].startswith("existing-py_home")  # the original is left alone


def test_values_and_changes_name_each_parameter_set():
    doc = record.normalize(ASV_DOC)
    vals = record.values(doc)
    assert vals == {"bench_designs.PageBench04.track_irqs_off_max_cycles('single', 1)": 33,
                    "bench_designs.PageBench04.track_irqs_off_max_cycles('single', 8)": 241,
                    "bench_designs.PageBench04.track_irqs_off_max_cycles('list', 1)": 33,
                    "bench_designs.PageBench04.track_irqs_off_max_cycles('list', 8)": None,
                    "bench_designs.Plain.track_x()": 7.5}
    assert record.describe_changes(doc, ASV_DOC) == ["no number moved"]
    moved = json.loads(json.dumps(ASV_DOC))
    moved["results"]["bench_designs.Plain.track_x"][0] = 8.0
    assert record.describe_changes(doc, moved) == ["bench_designs.Plain.track_x(): 7.5 -> 8.0"]


def test_record_refuses_uncommitted_changes(monkeypatch, tmp_path):
    calls = []

    def git(*args):
        calls.append(args)
        return " M benchframe/mm/zone.py" if args[0] == "status" else ""

    monkeypatch.setattr(record, "git", git)
    monkeypatch.setattr(record, "run_asv", lambda *a: pytest.fail("asv must not run"))
    with pytest.raises(record.RecordError, match="commit the change first"):
        record.record(tmp_path)
    assert ":(exclude)benchmarks/history" in calls[0]  # a previous record left uncommitted does not count


def test_check_without_a_recorded_ancestor_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(record, "newest_recorded_ancestor", lambda: None)
    with pytest.raises(record.RecordError, match="run python benchmarks/record.py"):
        record.check(tmp_path)


def test_the_script_fails_in_one_line_outside_an_editable_install(tmp_path):
    """Run from a copy of the repository's benchmarks: the installed benchframe is not that checkout's."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "benchmarks", copy / "benchmarks", ignore=shutil.ignore_patterns("history", "__pycache__"))
    out = subprocess.run([sys.executable, str(copy / "benchmarks" / "record.py"), "--check"], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert "not this checkout: pip install -e" in out.stderr


# ---- the committed history ------------------------------------------------------------------------------------

def committed() -> list[Path]:
    files = sorted((record.HISTORY / record.MACHINE).glob("*.json"))
    return [p for p in files if p.name != "machine.json"]


def test_the_committed_history_is_there_and_normalized():
    files = committed()
    assert files, "benchmarks/history/benchframe-sim holds no record: run python benchmarks/record.py"
    for path in files:
        doc = json.loads(path.read_text())
        assert path.name == f"{doc['commit_hash'][:8]}-{doc['env_name']}.json" and doc["env_name"] == record.ENV_NAME
        assert record.normalize(doc) == doc, path  # as record.py writes it: no paths, times or durations
        assert all(name.split(".")[-1].startswith("track_") for name in doc["results"]), path
        assert doc["params"]["machine"] == record.MACHINE
    machine = json.loads((record.HISTORY / record.MACHINE / "machine.json").read_text())
    assert machine == {"machine": record.MACHINE, **record.MACHINE_INFO, "version": 1}


def test_benchframe_history_prints_the_committed_series_without_running_asv(capsys):
    pytest.importorskip("asv")
    from benchframe.cli import main
    from benchframe.report.history import load_asv_history

    series = load_asv_history(record.HISTORY)
    newest = json.loads(committed()[-1].read_text())
    assert len(series) == len(record.values(newest)) and {s.machine for s in series} == {record.MACHINE}
    assert {s.unit for s in series} == {"cycles"}
    assert main(["history", "--results", str(record.HISTORY), "--series", "--all", "--benchmark", "PageBench04"]) == 0
    out = capsys.readouterr().out
    assert "### bench_designs.PageBench04.track_alloc_free_cycles_per_page('single', 1) on benchframe-sim" in out
    assert main(["history", "--results", str(record.HISTORY), "--all", "--benchmark", "PageBench04"]) == 0
    out = capsys.readouterr().out
    assert "### bench_designs.PageBench04.track_alloc_free_cycles_per_page on benchframe-sim/" in out


def test_the_newest_recorded_ancestor_has_the_current_numbers():
    """A quick part of CI's `record.py --check`: page_bench04's cost per page, simulated now, is what the newest
    record of HEAD's history says (a change that moves it must record it)."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout: the records are found by HEAD's history")
    base = record.newest_recorded_ancestor()
    assert base is not None, "no commit of HEAD's history is recorded: run python benchmarks/record.py"
    recorded = record.values(json.loads(record.recorded(base).read_text()))
    from benchframe.plugins import get_registry
    from benchmarks.bench_designs import PageBench04
    from benchmarks.common import DESIGNS

    installed = [d for d in DESIGNS if d in get_registry().designs]
    assert {"single", "list", "array"} <= set(installed)
    for design in installed:
        bench = PageBench04()
        bench.setup(design, 8)
        key = f"bench_designs.PageBench04.track_alloc_free_cycles_per_page('{design}', 8)"
        assert bench.track_alloc_free_cycles_per_page(design, 8) == recorded[key], (design, base[:8])
