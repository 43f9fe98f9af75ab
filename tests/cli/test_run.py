"""``benchframe run``: one JSON document of every run, byte-identical for the same inputs; the single-page
baseline lands on the published figure and moves with a primitive cost of a ``--profile`` file. (Bad
arguments are in the bad-input catalogue, ``test_bad_input.py``.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchframe.cli import main
from benchframe.hw.costs import DEFAULT_PROFILE, builtin_profile_paths

# kernel-facts §2.1/§6.1: order-0 alloc+free on the E5-1650 v4, three 2021 trees: 207, 199, 194 cycles.
PUBLISHED_SINGLE_PAGE = (194, 207)


def run_json(tmp_path: Path, name: str, *args: str) -> dict:
    out = tmp_path / name
    assert main(["run", *args, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_run_writes_three_runs_and_is_byte_identical(tmp_path, monkeypatch):
    args = ["--design", "single", "--workload", "page_bench04", "--param", "bulk=1,8,64"]
    a = tmp_path / "a" / "r.json"
    b = tmp_path / "b" / "r.json"
    for path in (a, b):  # the same command line (it is recorded), in two directories
        path.parent.mkdir()
        monkeypatch.chdir(path.parent)
        assert main(["run", *args, "--json", "r.json"]) == 0
    assert a.read_bytes() == b.read_bytes()
    doc = json.loads(a.read_text())
    assert doc["schema"] == 1 and doc["profile"] == DEFAULT_PROFILE
    # what reproduces it: the command line (it was ""), every plugin distribution's version, the verdicts
    assert doc["command"] == "benchframe run " + " ".join(args) + " --json r.json"
    assert doc["plugins"]["benchframe"] and set(doc["verdicts"]["single"]) == {"irq", "nmi", "smp", "preempt"}
    assert [r["params"]["bulk"] for r in doc["runs"]] == [1, 8, 64]
    assert all(r["metrics"]["invariant_violations"] == 0 for r in doc["runs"])
    assert all(r["metrics"]["pages_allocated"] > 0 for r in doc["runs"])
    assert all(r["units"]["alloc_free_cycles_per_page"] == "cycles" for r in doc["runs"])


def _single_cycles(tmp_path: Path, name: str, *extra: str) -> dict[int, float]:
    """single's alloc+free cycles per page by bulk (1 and 8), page_bench04's default pages."""
    doc = run_json(tmp_path, name, "--design", "single", "--workload", "page_bench04", "--param", "bulk=1,8",
                   *extra)
    assert all(r["metrics"]["invariant_violations"] == 0 for r in doc["runs"])
    return {r["params"]["bulk"]: r["metrics"]["alloc_free_cycles_per_page"] for r in doc["runs"]}


def test_single_is_calibrated_and_moves_with_a_primitive_cost(tmp_path):
    base = _single_cycles(tmp_path, "base.json")
    lo, hi = PUBLISHED_SINGLE_PAGE
    assert lo * 0.9 <= base[1] <= hi * 1.1  # validate's tolerance around the three 2021 trees' range
    text = builtin_profile_paths()[DEFAULT_PROFILE].read_text()
    irq = int(re.search(r"^irq_save_restore = (\d+)", text, re.MULTILINE)[1])
    for change in (+13, -9, +20):
        changed = re.sub(r"^irq_save_restore = .*$", f"irq_save_restore = {irq + change}", text, count=1,
                         flags=re.MULTILINE)
        changed = changed.replace(f'name = "{DEFAULT_PROFILE}"', 'name = "edited"')
        profile = tmp_path / f"p{change}.toml"
        profile.write_text(changed)
        moved = _single_cycles(tmp_path, f"r{change}.json", "--profile", str(profile))
        # single pays one local_irq_save/restore pair on alloc and one on free, per page, whatever the bulk
        for bulk in (1, 8):
            assert moved[bulk] - base[bulk] == pytest.approx(2 * change), (change, bulk)


def _tables(out: str) -> list[tuple[list[str], list[list[str]]]]:
    """The tables of ``run``'s output (a table split in groups of columns is several): each column's header (a
    metric's name wrapped at its underscores joined again, its unit after a space) and the rows' cells, read
    at the spans of the rule under the headers."""
    lines = out.splitlines()
    tables = []
    for i, rule in enumerate(lines):
        if not re.fullmatch(r"-+( +-+)*", rule):
            continue
        spans = [m.span() for m in re.finditer(r"-+", rule)]
        start = i
        while start > 0 and lines[start - 1].strip() and not re.fullmatch(r"\(\d+/\d+\)", lines[start - 1]):
            start -= 1
        heads = []
        for a, b in spans:
            parts = [ln[a:b].strip() for ln in lines[start:i] if ln[a:b].strip()]
            heads.append("".join(p if p.endswith("_") else p + " " for p in parts).strip())
        rows = []
        for ln in lines[i + 1:]:
            if not ln.strip() or ln.startswith("["):
                break
            rows.append([ln[a:b].strip() for a, b in spans])
        tables.append((heads, rows))
    return tables


def test_run_shows_the_workloads_headline_metrics_with_units_and_marks_unsafe_designs(capsys):
    assert main(["run", "--designs", "array,llist,llist_del_first", "--workload", "irq_latency", "--param",
                 "bulk=64", "--param", "bursts=50"]) == 0
    out = capsys.readouterr().out
    tables = _tables(out)
    headers = [h for heads, _ in tables for h in heads]
    assert "irq_latency_p99_cycles (cycles)" in headers and "irq_latency_samples (interrupts)" in headers
    assert not any("alloc_free_cycles_per_page" in h for h in headers)  # page_bench04's were shown for all
    for _, rows in tables:
        assert [r[0] for r in rows] == ["array", "llist", "llist_del_first [UNSAFE]"]
    assert "array [UNSAFE]" not in out and "llist [UNSAFE]" not in out
    assert "UNSAFE against an IRQ" in out


@pytest.mark.parametrize("extra", [["--json", "{tmp}"], ["--json", "/proc/r.json"], ["--metrics", "nosuch"]])
def test_output_and_metrics_are_checked_before_any_run(tmp_path, capsys, design_plugin, extra):
    """Before: a --json that is a directory or cannot be written, or an unknown --metrics name, was found
    only after every run had finished."""
    ran = tmp_path / "ran"
    plugin = design_plugin("marks", body=f"open({str(ran)!r}, 'w').close(); return 0")
    argv = ["run", "--designs", "marks", "--workload", "page_bench04", "--param", "pages=64", "--plugin",
            str(plugin), "--executor", "serial"] + [a.replace("{tmp}", str(tmp_path)) for a in extra]
    assert main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not ran.exists()


def test_a_point_design_or_seed_named_twice_runs_once(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", "--design", "array,array", "--workload", "page_bench04", "--param", "pages=64",
                 "--param", "bulk=8,08", "--seeds", "1,1", "--executor", "serial", "--json", str(out)]) == 0
    err = sorted(capsys.readouterr().err.splitlines())
    assert err == ["benchframe: warning: --designs: array named more than once; each counted once",
                   "benchframe: warning: --param: 2 points named, 1 distinct; each runs once",
                   "benchframe: warning: --seeds: 2 seeds named, 1 distinct; each runs once"]
    assert len(json.loads(out.read_text())["runs"]) == 1
