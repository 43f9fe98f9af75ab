"""``benchframe compare``, the main job: the report with its header and plots written atomically, every output
format, and the same report whatever the number of workers. (Bad arguments are in the bad-input catalogue,
``test_bad_input.py``.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchframe.cli import main


def test_compare_writes_report_and_plots_atomically(tmp_path):
    out = tmp_path / "rep"
    assert main(["compare", "--designs", "single,array", "--workloads", "page_bench04,irq_latency",
                 "--seeds", "1,2", "--output", str(out), "--jobs", "1"]) == 0
    text = (out / "comparison.md").read_text()
    assert "git commit" in text and "reproduce with" in text and "cost profile" in text
    assert "![cost_per_page_vs_bulk](cost_per_page_vs_bulk.png)" in text
    for png in ("cost_per_page_vs_bulk.png", "irqs_off_vs_bulk.png", "irq_latency_ccdf.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("fmt, ext, marker", [
    ("latex", "tex", "\\begin{tabular}"), ("html", "html", "<table>"),
    ("csv", "csv", "table,row,design,value,ratio,pct_better,p_value,p_adjusted,significant"),
    ("json", "json", '"p_adjusted"'), ("plain", "txt", "Amean")])
def test_other_formats(tmp_path, fmt, ext, marker):
    out = tmp_path / fmt
    assert main(["compare", "--designs", "single,array", "--workloads", "page_bench04", "--seeds", "1",
                 "--format", fmt, "--output", str(out), "--executor", "serial"]) == 0
    text = (out / f"comparison.{ext}").read_text()
    assert marker in text
    if fmt == "latex":  # everything outside the tables is a TeX comment
        outside = [ln for ln in text.splitlines() if ln and not ln.startswith("%") and "&" not in ln
                   and not ln.startswith("\\") and not ln.rstrip().endswith("\\\\")]
        assert outside == []


def test_compare_output_does_not_depend_on_the_number_of_workers(tmp_path):
    common = ["compare", "--designs", "single,llist", "--workloads", "irq_latency", "--seeds", "1,2"]
    assert main(common + ["--output", str(tmp_path / "serial"), "--jobs", "1"]) == 0
    assert main(common + ["--output", str(tmp_path / "pool"), "--jobs", "2"]) == 0

    def body(name: str) -> str:  # everything after the header, whose command line names --jobs/--output
        text = (tmp_path / name / "comparison.md").read_text()
        return text[text.index("Baseline:"):]

    assert body("serial") == body("pool")
    runs = [json.loads((tmp_path / n / "results.json").read_text())["runs"] for n in ("serial", "pool")]
    assert runs[0] == runs[1] and len(runs[0]) == 2 * 2 * 6  # designs x seeds x (3 bulks x 2 kernels)
    for png in ("irq_latency_ccdf.png", "irq_latency_ccdf_rt.png"):
        assert (tmp_path / "serial" / png).read_bytes() == (tmp_path / "pool" / png).read_bytes()


TRACE = Path(__file__).resolve().parents[1] / "data" / "traces" / "loopback-tcp.perf.txt"


def test_compare_replays_a_trace_on_every_design(tmp_path):
    """``--workloads trace:FILE``: the designs, batch=none and batch=runs, deterministic (across seeds, runs and
    workers), no violation. Every design replays traces in tests/workloads/test_trace.py; three keep this fast."""
    out = tmp_path / "rep"
    designs = "single,array,llist"
    assert main(["compare", "--designs", designs, "--workloads", f"trace:{TRACE}", "--seeds", "1,2",
                 "--output", str(out)]) == 0
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert len(runs) == 3 * 2 * 2  # designs x batch x seeds
    assert {r["params"]["file"] for r in runs} == {str(TRACE)}
    assert all(r["metrics"]["invariant_violations"] == 0 for r in runs)
    for r in runs:  # the seed changes nothing in a replay
        twin = next(x for x in runs if (x["design"], x["params"]) == (r["design"], r["params"]) and x is not r)
        assert twin["metrics"] == r["metrics"]
    text = (out / "comparison.md").read_text()
    assert "A recorded workload replayed" in text
    for metric in ("allocator_cycles_total", "bulk_share_pct", "high_order_cycles_per_page", "zone_lock_wait_cycles"):
        assert f"### trace: {metric}" in text
    assert "Amean batch=none" in text and "Amean batch=runs" in text
    again = tmp_path / "again"
    assert main(["compare", "--designs", designs, "--workloads", f"trace:{TRACE}", "--seeds", "1,2",
                 "--output", str(again), "--jobs", "1"]) == 0
    def runs_of(folder):  # the header's command names the output folder
        return json.loads((folder / "results.json").read_text())["runs"]

    assert runs_of(again) == runs_of(out)


SMALL = ["compare", "--designs", "single,array", "--workloads", "page_bench04", "--seeds", "1", "--executor",
         "serial"]


def test_a_report_is_replaced_whole_never_mixed_with_the_previous_one(tmp_path, monkeypatch):
    """kill -9 (here: an interrupt) after the plots are written must not leave new PNGs beside the old
    report: until the new report is complete, the directory holds the old one, unchanged."""
    import benchframe.cli.compare as compare_cli

    out = tmp_path / "rep"
    assert main(SMALL + ["--output", str(out)]) == 0
    (out / "NOTES.txt").write_text("mine\n")  # not the report's: carried over
    (out / "old_plot.png").write_bytes(b"old")  # an earlier report's plot: replaced with the report
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = compare_cli.write_atomic
    seen = {}

    def interrupted(path, text):
        if str(path).endswith("comparison.md"):  # the plots and results.json are written by now
            seen["during"] = {p.name: p.read_bytes() for p in out.iterdir()}
            raise KeyboardInterrupt
        return real(path, text)

    monkeypatch.setattr(compare_cli, "write_atomic", interrupted)
    with pytest.raises(KeyboardInterrupt):
        compare_cli.main(build_args(SMALL + ["--designs", "array", "--baseline", "array", "--output", str(out)]))
    assert seen["during"] == before  # a reader saw the old report only
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary directory left
    monkeypatch.setattr(compare_cli, "write_atomic", real)
    assert main(SMALL + ["--output", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert "NOTES.txt" in names and "old_plot.png" not in names


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_full_disk_leaves_no_orphan_pngs(tmp_path, monkeypatch, jobs):
    """The disk fills up while the second plot is written (after the first): no PNG and no temporary
    directory stays behind, and the error is one line (exit 2)."""
    import os

    out = tmp_path / "rep"
    calls = []
    real = os.replace

    def full(src, dst, *args, **kwargs):
        calls.append(str(dst))
        if str(dst).endswith("irqs_off_vs_bulk.png"):  # the second plot
            raise OSError(28, "No space left on device")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr("benchframe.io.write.os.replace", full)
    executor = "serial" if jobs == 1 else "process"
    assert main([*SMALL[:-1], executor, "--output", str(out), "--jobs", str(jobs)]) == 2
    assert [c for c in calls if c.endswith(".png")][0].endswith("cost_per_page_vs_bulk.png")  # written first
    assert list(tmp_path.iterdir()) == []  # neither a PNG nor a temporary directory stays behind


def test_a_killed_writers_temporary_directory_is_removed_by_the_next(tmp_path):
    stale = tmp_path / ".rep.new-999999999-abc"
    stale.mkdir()
    (stale / "cost_per_page_vs_bulk.png").write_bytes(b"half")
    assert main(SMALL + ["--output", str(tmp_path / "rep")]) == 0
    assert not stale.exists()


def build_args(argv):
    from benchframe.cli.main import build_parser

    args = build_parser().parse_args(argv)
    args.argv = argv
    return args
