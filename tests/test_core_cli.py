"""Issue 2 acceptance, ``benchframe run``: determinism, calibration against the published single-page
baseline and its sensitivity to a primitive cost, and bad arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchframe.cli import main
from benchframe.hw.costs import DEFAULT_PROFILE, builtin_profile_paths

# kernel-facts §2.1/§6.1: order-0 alloc+free on the E5-1650 v4, three 2021 trees: 207, 199, 194 cycles.
PUBLISHED_SINGLE_PAGE = (194, 207)


def _run(tmp_path: Path, name: str, *args: str) -> tuple[bytes, dict]:
    out = tmp_path / name
    assert main(["run", *args, "--json", str(out)]) == 0
    data = out.read_bytes()
    return data, json.loads(data)


def test_run_twice_is_byte_identical_with_three_clean_runs(tmp_path, capsys):
    args = ["--design", "single", "--workload", "page_bench04", "--param", "bulk=1,8,64"]
    a, doc = _run(tmp_path, "a.json", *args)
    b, _ = _run(tmp_path, "b.json", *args)
    assert a == b
    assert len(doc["runs"]) == 3
    assert sorted(r["params"]["bulk"] for r in doc["runs"]) == [1, 8, 64]
    assert all(r["metrics"]["invariant_violations"] == 0 for r in doc["runs"])
    assert all(r["metrics"]["pages_allocated"] > 0 for r in doc["runs"])


def _single_cycles(tmp_path: Path, name: str, *extra: str) -> float:
    _, doc = _run(tmp_path, name, "--design", "single", "--workload", "page_bench04", "--param", "bulk=1",
                  "--param", "pages=2048", *extra)
    (run,) = doc["runs"]
    assert run["metrics"]["invariant_violations"] == 0
    return run["metrics"]["alloc_free_cycles_per_page"]


def test_single_is_calibrated_and_moves_with_a_primitive_cost(tmp_path):
    base = _single_cycles(tmp_path, "base.json")
    lo, hi = PUBLISHED_SINGLE_PAGE
    assert lo <= base <= hi
    text = builtin_profile_paths()[DEFAULT_PROFILE].read_text()
    old = int(re.search(r"^irq_save_restore = (\d+)", text, re.M).group(1))
    for change in (+13, -9):
        changed = re.sub(r"^irq_save_restore = \d+", f"irq_save_restore = {old + change}", text, flags=re.M)
        changed = changed.replace(f'name = "{DEFAULT_PROFILE}"', 'name = "edited"')
        profile = tmp_path / f"p{change}.toml"
        profile.write_text(changed)
        moved = _single_cycles(tmp_path, f"r{change}.json", "--profile", str(profile))
        # single pays one local_irq_save/restore pair on alloc and one on free, per page
        assert moved - base == pytest.approx(2 * change)


RUN = ["run", "--design", "single", "--workload", "page_bench04"]


@pytest.mark.parametrize("args, needle", [
    (["run", "--design", "nonesuch", "--workload", "page_bench04"], "nonesuch"),
    (["run", "--design", "single", "--workload", "nonesuch"], "nonesuch"),
    ([*RUN, "--param", "nonesuch=3"], "nonesuch"),
    ([*RUN, "--param", "bulk"], "bulk"),
    ([*RUN, "--param", "=5"], "="),
    ([*RUN, "--param", "bulk=abc"], "bulk"),
    ([*RUN, "--profile", "/nonexistent/dir/p.toml"], "p.toml"),
])
def test_bad_arguments_exit_2_with_one_line_and_no_json(tmp_path, capsys, args, needle):
    out = tmp_path / "out.json"
    assert main([*args, "--json", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("benchframe: error:")
    assert captured.err.count("\n") == 1 and captured.err.endswith("\n")
    assert needle in captured.err
    assert "Traceback" not in captured.err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
