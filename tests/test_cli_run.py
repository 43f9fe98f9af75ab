"""`benchframe run` and `benchframe list`: determinism, calibration, bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchframe.cli import main
from benchframe.hw.costs import DEFAULT_PROFILE, builtin_profile_paths

DESIGNS = ["single", "list", "array", "twopass", "llist", "locallock"]


def run_json(tmp_path: Path, name: str, *args: str) -> dict:
    out = tmp_path / name
    assert main(["run", *args, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_list_designs_in_thread_order(capsys):
    assert main(["list", "designs"]) == 0
    out = capsys.readouterr().out
    positions = [out.index(f"\n{name} ") for name in DESIGNS]
    assert positions == sorted(positions)


def test_run_writes_three_runs_and_is_byte_identical(tmp_path):
    args = ["--design", "single", "--workload", "page_bench04", "--param", "bulk=1,8,64"]
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    assert main(["run", *args, "--json", str(a)]) == 0
    assert main(["run", *args, "--json", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    doc = json.loads(a.read_text())
    assert doc["schema"] == 1 and doc["profile"] == DEFAULT_PROFILE
    assert [r["params"]["bulk"] for r in doc["runs"]] == [1, 8, 64]
    assert all(r["metrics"]["invariant_violations"] == 0 for r in doc["runs"])
    assert all(r["units"]["alloc_free_cycles_per_page"] == "cycles" for r in doc["runs"])


def test_single_lands_on_the_published_baseline(tmp_path):
    """kernel-facts §2.1: 194-207 cycles per order-0 alloc+free on the E5-1650 v4."""
    doc = run_json(tmp_path, "r.json", "--design", "single", "--workload", "page_bench04", "--param", "bulk=1")
    value = doc["runs"][0]["metrics"]["alloc_free_cycles_per_page"]
    assert 194 <= value <= 207


def test_a_primitive_cost_change_moves_the_figure(tmp_path):
    profile = builtin_profile_paths()[DEFAULT_PROFILE].read_text()
    assert "\nirq_save_restore = 27\n" in profile
    changed = tmp_path / "slow-irq.toml"
    changed.write_text(profile.replace("\nirq_save_restore = 27\n", "\nirq_save_restore = 47\n"))
    base = run_json(tmp_path, "a.json", "--design", "single", "--workload", "page_bench04", "--param", "bulk=8")
    slow = run_json(tmp_path, "b.json", "--design", "single", "--workload", "page_bench04", "--param", "bulk=8",
                    "--profile", str(changed))
    delta = slow["runs"][0]["metrics"]["alloc_free_cycles_per_page"] - \
        base["runs"][0]["metrics"]["alloc_free_cycles_per_page"]
    # single pays one local_irq_save/restore on alloc and one on free per page
    assert delta == pytest.approx(2 * (47 - 27))


def test_bulk_designs_amortise_the_irq_cost(tmp_path):
    doc = run_json(tmp_path, "r.json", "--design", ",".join(DESIGNS), "--workload", "page_bench04",
                   "--param", "bulk=64", "--param", "pages=4096")
    per = {r["design"]: r["metrics"] for r in doc["runs"]}
    assert per["array"]["alloc_cycles_per_page"] < per["single"]["alloc_cycles_per_page"]
    assert per["twopass"]["irqs_off_max_cycles"] < per["list"]["irqs_off_max_cycles"]
    assert per["llist"]["irqs_off_max_cycles"] == 0 and per["llist"]["atomics_per_page"] > 0
    assert all(m["invariant_violations"] == 0 for m in per.values())


@pytest.mark.parametrize("args, needle", [
    (["run", "--design", "nosuch", "--workload", "page_bench04"], "unknown design"),
    (["run", "--design", "single", "--workload", "nosuch"], "unknown workload"),
    (["run", "--design", "single", "--workload", "page_bench04", "--param", "nosuch=1"], "unknown parameter"),
    (["run", "--design", "single", "--workload", "page_bench04", "--param", "bulk"], "expected key=value"),
    (["run", "--design", "single", "--workload", "page_bench04", "--param", "bulk=x"], "is not an integer"),
    (["run", "--design", "single", "--workload", "page_bench04", "--param", "bulk=0"], "must be >="),
    (["run", "--design", "single", "--workload", "page_bench04", "--profile", "/nonexistent/p.toml"],
     "cannot read"),
    (["run", "--design", "single", "--workload", "page_bench04", "--seed", "abc"], "not an integer"),
    (["run", "--design", "single", "--workload", "page_bench04", "--config", "NOPE"], "unknown kernel config"),
    (["run", "--workload", "page_bench04"], "required"),
])
def test_bad_arguments_exit_2_with_one_line(args, needle, tmp_path, capsys):
    out = tmp_path / "never.json"
    assert main([*args, "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and err.startswith("benchframe: error:")
    assert not out.exists()


def test_bad_argument_has_no_traceback_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchframe.cli", "run", "--design", "nosuch", "--workload",
                           "page_bench04"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
