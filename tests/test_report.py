"""The report renderer: golden tables, the sign convention, significance marking, report/history commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tabulate as tabulate_module

from benchframe.cli import main
from benchframe.report.stats import pct_better, significant
from benchframe.report.tables import TABLEFMT, compare_table, render

GOLDEN = Path(__file__).parent / "golden"


def synthetic_table():
    # lower is better; "fast" is clearly and consistently faster, "noisy" overlaps the baseline
    samples = {
        ("base", "bulk=8"): [100.0, 101.0, 99.0],
        ("fast", "bulk=8"): [80.0, 80.5, 79.5],
        ("noisy", "bulk=8"): [90.0, 110.0, 101.0],
        ("base", "bulk=64"): [200.0, 202.0, 198.0],
        ("fast", "bulk=64"): [150.0, 151.0, 149.0],
        ("noisy", "bulk=64"): [180.0, 230.0, 200.0],
    }
    return compare_table("synthetic: cycles (lower is better)", ["base", "fast", "noisy"], "base",
                         ["bulk=8", "bulk=64"], samples, "lower")


def test_markdown_table_matches_golden():
    # pinned: tabulate's "pipe" format for --format md, as rendered by the tabulate range in pyproject
    assert TABLEFMT["md"] == "pipe"
    assert tabulate_module.__version__.startswith(("0.9", "0.10"))
    text = render(synthetic_table(), "md")
    golden = GOLDEN / "synthetic_table.md"
    assert text == golden.read_text()


def test_plain_table_matches_golden():
    assert render(synthetic_table(), "plain") == (GOLDEN / "synthetic_table.txt").read_text()


@pytest.mark.parametrize("value, base, better, sign", [
    (80, 100, "lower", 1),    # fewer cycles: better
    (120, 100, "lower", -1),  # more cycles: worse
    (120, 100, "higher", 1),  # more packets/s: better
    (80, 100, "higher", -1),  # fewer packets/s: worse
])
def test_positive_percentage_means_better(value, base, better, sign):
    pct = pct_better(value, base, better)
    assert pct * sign > 0
    assert abs(pct) == pytest.approx(20.0)


def test_equal_values_are_zero_not_negative_zero():
    assert str(pct_better(5.0, 5.0, "lower")) == "0.0"


def test_significance_on_known_samples():
    assert significant([80.0, 80.5, 79.5], [100.0, 101.0, 99.0])  # clearly different
    assert not significant([90.0, 110.0, 101.0], [100.0, 101.0, 99.0])  # overlapping noise
    assert not significant([5.0, 5.0, 5.0], [7.0, 7.0, 7.0])  # deterministic: never starred
    assert not significant([5.0], [7.0])  # one seed: no test


def test_cells_star_only_significant_amean():
    table = synthetic_table()
    rows = {r[0]: r for r in table.rows}
    assert rows["Amean bulk=8"][2].endswith("*)") and "*20." in rows["Amean bulk=8"][2]
    assert "*" not in rows["Amean bulk=8"][3]
    assert "*" not in rows["Min bulk=8"][2]
    assert rows["Gmean ratio"][1].startswith("1.000")


def test_deterministic_metric_shows_only_amean_without_stars():
    samples = {("a", ""): [5.0, 5.0], ("b", ""): [4.0, 4.0]}
    t = compare_table("det", ["a", "b"], "a", [""], samples, "lower")
    assert [r[0] for r in t.rows] == ["Amean", "Gmean ratio"]
    assert "*" not in t.rows[0][2] and "20.00%" in t.rows[0][2]
    assert "Deterministic" in t.note


def test_report_renders_saved_run_results(tmp_path, capsys):
    result = tmp_path / "r.json"
    assert main(["run", "--design", "single,array", "--workload", "page_bench04", "--param", "bulk=1,8",
                 "--param", "pages=512", "--json", str(result)]) == 0
    capsys.readouterr()
    assert main(["report", str(result)]) == 0
    out = capsys.readouterr().out
    assert "alloc_free_cycles_per_page" in out
    header = next(ln for ln in out.splitlines() if "single" in ln and "array" in ln and ln.startswith("|"))
    assert header.index("single") < header.index("array")  # baseline first
    assert "Amean bulk=8" in out


def test_report_rejects_a_corrupted_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"runs": [{"design": "x"')
    assert main(["report", str(bad)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_history_from_asv_results(tmp_path, capsys):
    machine = tmp_path / "results" / "box"
    machine.mkdir(parents=True)
    (machine / "machine.json").write_text("{}")
    cols = ["result", "params", "version", "started_at", "duration"]
    for i, (commit, value) in enumerate([("aaaa1111", 100.0), ("bbbb2222", 101.0), ("cccc3333", 150.0)]):
        doc = {"commit_hash": commit, "date": 1700000000000 + i * 86400000, "result_columns": cols,
               "results": {"bench.Track.track_cycles": [[value, value / 2], [["'array'", "'list'"]], "v", 0, 1]}}
        (machine / f"{commit}-virtualenv-py3.11.json").write_text(json.dumps(doc))
    assert main(["history", "--results", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert "bench.Track.track_cycles('array')" in out
    lines = [ln for ln in out.splitlines() if ln.startswith("| cccc3333")]
    assert len(lines) == 2 and "+48.51%" in lines[0] and "up x1.49" in lines[0]
    assert " x1." not in [ln for ln in out.splitlines() if ln.startswith("| bbbb2222")][0]  # +1%: within x1.1


def test_compare_writes_report_and_plots_atomically(tmp_path):
    out = tmp_path / "rep"
    assert main(["compare", "--designs", "single,array", "--workloads", "page_bench04,irq_latency",
                 "--seeds", "2", "--output", str(out), "--jobs", "1"]) == 0
    text = (out / "comparison.md").read_text()
    assert "git commit" in text and "reproduce with" in text and "cost profile" in text
    assert "![cost_per_page_vs_bulk](cost_per_page_vs_bulk.png)" in text
    for png in ("cost_per_page_vs_bulk.png", "irqs_off_vs_bulk.png", "irq_latency_cdf.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_compare_unknown_baseline_is_bad_input(tmp_path, capsys):
    assert main(["compare", "--designs", "array,list", "--baseline", "llist", "--output", str(tmp_path)]) == 2
    assert "baseline" in capsys.readouterr().err


@pytest.mark.parametrize("fmt, ext, marker", [("latex", "tex", "\\begin{tabular}"), ("html", "html", "<table>"),
                                              ("csv", "csv", "table,row,design,cell"), ("plain", "txt", "Amean")])
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


def test_failed_write_leaves_the_old_report_and_no_temporary_file(tmp_path, monkeypatch):
    from benchframe import BenchframeError
    from benchframe.io import write_atomic

    target = tmp_path / "comparison.md"
    target.write_text("old report\n")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("benchframe.io.os.fsync", broken_fsync)
    with pytest.raises(BenchframeError, match="comparison.md"):
        write_atomic(target, "new report that must not appear half-written\n" * 1000)
    assert target.read_text() == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["comparison.md"]


def test_failed_plot_leaves_no_partial_png(tmp_path, monkeypatch):
    import matplotlib.figure

    from benchframe.report.plots import plot_all

    runs = [{"design": d, "workload": "page_bench04", "params": {"bulk": b}, "config": [], "seed": 1,
             "metrics": {"alloc_free_cycles_per_page": float(b), "irqs_off_max_cycles": 1.0}}
            for d in ("single", "array") for b in (1, 8)]

    def broken_savefig(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    with pytest.raises(OSError):
        plot_all(runs, ["single", "array"], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_plot_styles_tell_designs_apart_and_name_coinciding_lines():
    from benchframe.report.plots import design_styles, legend_labels

    designs = ["single", "list", "array", "twopass", "llist", "locallock", "pcpspin"]
    styles = design_styles(designs)
    assert len({s["color"] for s in styles.values()}) == len(designs)
    assert len({str(s["linestyle"]) for s in styles.values()}) == len(designs)
    labels = legend_labels({"single": [(1, 5.0)], "llist": [(1, 0.0)], "pcpspin": [(1, 0.0)]}, designs)
    assert labels == {"single": "single", "llist": "llist", "pcpspin": "pcpspin (= llist)"}


def test_compare_output_does_not_depend_on_the_number_of_workers(tmp_path):
    common = ["compare", "--designs", "single,llist", "--workloads", "irq_latency", "--seeds", "2"]
    assert main(common + ["--output", str(tmp_path / "serial"), "--jobs", "1"]) == 0
    assert main(common + ["--output", str(tmp_path / "pool"), "--jobs", "2"]) == 0

    def body(name: str) -> str:  # everything after the header, whose command line names --jobs/--output
        text = (tmp_path / name / "comparison.md").read_text()
        return text[text.index("Baseline:"):]

    assert body("serial") == body("pool")
    runs = [json.loads((tmp_path / n / "results.json").read_text())["runs"] for n in ("serial", "pool")]
    assert runs[0] == runs[1] and len(runs[0]) == 2 * 2 * 6  # designs x seeds x (3 bulks x 2 kernels)
    for png in ("irq_latency_cdf.png", "irq_latency_cdf_rt.png"):
        assert (tmp_path / "serial" / png).read_bytes() == (tmp_path / "pool" / png).read_bytes()


def test_history_reads_files_written_by_asv_itself(tmp_path, capsys):
    """The synthetic test above writes asv's layout by hand; this one lets asv's own Results.save() write it."""
    asv_results = pytest.importorskip("asv.results")
    from asv.runner import BenchmarkResult

    params = {"machine": "box", "python": "3.11"}
    tracked = {"name": "bench.Track.track_cycles", "version": "v1", "params": [["'array'", "'llist'"]]}
    plain = {"name": "bench.Time.time_run", "version": "v1", "params": []}
    for i, (commit, array, llist) in enumerate([("a" * 40, 100.0, 50.0), ("b" * 40, 100.0, 120.0)]):
        res = asv_results.Results(params, {}, commit, 1700000000000 + i * 86400000, "3.11", "virtualenv-py3.11",
                                  {})
        res.add_result(tracked, BenchmarkResult(result=[array, llist], samples=[None, None], number=[None, None],
                                                errcode=0, stderr="", profile=None))
        res.add_result(plain, BenchmarkResult(result=[0.5 + i], samples=[None], number=[None], errcode=0,
                                              stderr="", profile=None))
        res.save(str(tmp_path))
    assert main(["history", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for key in ("bench.Track.track_cycles('array')", "bench.Track.track_cycles('llist')", "bench.Time.time_run"):
        assert f"### {key}" in out
    llist = out[out.index("('llist')"):]
    assert "+140.00%" in llist.splitlines()[5] and "up x2.40" in llist.splitlines()[5]  # 50 -> 120
    array = out[out.index("('array')"):out.index("('llist')")]
    assert "+0.00%" in array and " up " not in array and " down " not in array


def test_progress_bar_on_a_terminal_only(monkeypatch):
    import io

    from benchframe.cli.options import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())  # CI: stderr is not a terminal
    assert Progress(10, "x").update is None
    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    with Progress(10, "x") as bar:
        assert bar.update is not None
        bar.update(3)
        bar.bar.refresh()
    assert "3/10" in tty.getvalue()


def test_reentrancy_table_reports_explore_verdicts_and_extent():
    from benchframe.cli.compare import verdicts
    from benchframe.explore import explore
    from benchframe.plugins import get_registry
    from benchframe.report.document import reentrancy_table

    reg = get_registry(())
    table = reentrancy_table(verdicts(["single", "llist"], reg))
    assert table.headers == ["design", "vs IRQ", "vs NMI"]
    for row in table.rows:
        for context, cell in zip(("irq", "nmi"), row[1:]):
            res = explore(row[0], context, registry=reg)
            assert cell.startswith(res.verdict)
            assert f"{res.explored_points} interleavings" in cell


@pytest.mark.parametrize("design, bulk", [("single", 1), ("array", 512), ("llist", 8)])
def test_bulk_study_pages_give_the_default_per_page_figures(design, bulk):
    """The bulk study runs fewer pages than page_bench04's default to stay fast; its answers must not change."""
    from benchframe.report.studies import STUDIES
    from benchframe.run import RunSpec, run_one

    study = next(s for s in STUDIES if s.key == "bulk")
    short = run_one(RunSpec(design=design, workload="page_bench04", params={**study.params, "bulk": bulk}, seed=1))
    default = run_one(RunSpec(design=design, workload="page_bench04", params={"bulk": bulk}, seed=1))
    assert short.params["pages"] < default.params["pages"]
    for metric in study.metrics:
        assert short.metrics[metric] == default.metrics[metric], metric
