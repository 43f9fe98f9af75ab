"""``--designs``, ``--metrics``, ``--format`` and ``--output`` wherever a command prints tables: each narrows,
formats or writes what the command prints; ``--format json`` parses, each table a list of records under its
column names; bad values are one line and exit 2, with nothing written."""

from __future__ import annotations

import json

import pytest

from benchframe.cli import main

RUN = ["run", "--design", "array,twopass", "--workload", "page_bench04", "--param", "bulk=1,8", "--executor",
       "serial"]


def out_of(capsys, argv, status=0):
    assert main(argv) == status, capsys.readouterr().err
    return capsys.readouterr().out


def as_json(capsys, argv, status=0):
    doc = json.loads(out_of(capsys, [*argv, "--format", "json"], status))
    assert set(doc) >= {"header", "text", "tables", "cells"}
    for t in doc["tables"]:
        assert all(list(r) == t["columns"] or set(r) == set(t["columns"]) for r in t["records"])
    return doc


def records(doc):
    return [r for t in doc["tables"] for r in t["records"]]


# -- list ---------------------------------------------------------------------------------------------------

def test_list_designs_narrowed_to_designs(capsys):
    out = out_of(capsys, ["list", "designs", "--designs", "array"])
    assert [ln.split()[0] for ln in out.splitlines()[2:] if ln and not ln.startswith(" ")] == ["array"]
    doc = as_json(capsys, ["list", "designs", "--designs", "array,llist"])
    assert [r["design"] for r in records(doc)] == ["array", "llist"]
    assert doc["tables"][0]["columns"] == ["design", "shape", "description"]


def test_list_metrics_narrowed_to_metrics(capsys):
    doc = as_json(capsys, ["list", "metrics", "--metrics", "irqs_off_max_cycles,pages_per_sec"])
    assert [r["metric"] for r in records(doc)] == ["irqs_off_max_cycles", "pages_per_sec"]


def test_list_output_writes_the_file(capsys, tmp_path):
    printed = out_of(capsys, ["list", "kernels", "--format", "md"])
    out = out_of(capsys, ["list", "kernels", "--format", "md", "--output", str(tmp_path / "k.md")])
    assert out == f"benchframe: wrote {tmp_path / 'k.md'}\n"
    assert (tmp_path / "k.md").read_text() == printed


# -- history ------------------------------------------------------------------------------------------------

def test_history_output_designs_metrics_json(capsys, tmp_path):
    printed = out_of(capsys, ["history", "--all"])
    assert out_of(capsys, ["history", "--all", "--output", str(tmp_path / "h.md")]).startswith("benchframe: wrote")
    assert (tmp_path / "h.md").read_text() == printed
    doc = as_json(capsys, ["history", "--all", "--designs", "twopass", "--metrics", "irqs_off_max_cycles"])
    titles = [t["title"] for t in doc["tables"]]
    assert titles and all(".track_irqs_off_max_cycles on benchframe-sim/" in t for t in titles), titles
    assert doc["tables"][0]["columns"] == ["parameters", "before", "after", "ratio", "change"]
    assert all(t["records"] and t["records"][0]["parameters"].startswith("'twopass'") for t in doc["tables"])
    ratios = [c for c in doc["cells"] if c["column"] == "ratio"]
    assert ratios and all(isinstance(c["ratio"], float) for c in ratios)  # the number, not only its text
    doc = as_json(capsys, ["history", "--series", "--all", "--designs", "twopass", "--metrics", "irqs_off_max_cycles"])
    titles = [t["title"] for t in doc["tables"]]
    assert titles and all("track_irqs_off_max_cycles('twopass'" in t for t in titles), titles
    assert doc["tables"][0]["columns"][0] == "commit"
    assert all(t["records"] and "value (cycles)" in t["records"][0] for t in doc["tables"])


# -- validate -----------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("shared_validate_runs")
def test_validate_format_json_has_the_rows_and_the_summary(capsys):
    doc = as_json(capsys, ["validate"], status=1)
    rows = records(doc)
    assert len(rows) > 50 and {"line", "design", "measured", "predicted", "error"} <= set(rows[0])
    assert any(line.startswith("not checked against any measurement") for line in doc["text"])


@pytest.mark.usefixtures("shared_validate_runs")
def test_validate_designs_and_metrics_narrow_the_rows(capsys):
    doc = as_json(capsys, ["validate", "--designs", "single", "--metrics", "alloc_free_cycles_per_page"])
    rows = records(doc)
    assert rows and {r["design"] for r in rows} == {"single"}
    assert all("alloc_free_cycles_per_page" in t["title"] for t in doc["tables"])
    assert doc["text"][-1] == f"every prediction within 10% of its measurement ({len(rows)} rows)"


@pytest.mark.usefixtures("shared_validate_runs")
def test_validate_output_writes_what_it_prints(capsys, tmp_path):
    printed = out_of(capsys, ["validate", "--designs", "single"], status=1)  # single's 2017 rows: beyond 10%
    out_of(capsys, ["validate", "--designs", "single", "--output", str(tmp_path / "v.txt")], status=1)
    assert (tmp_path / "v.txt").read_text() == printed


# -- run ----------------------------------------------------------------------------------------------------

def test_run_format_json_records_under_metric_names(capsys):
    doc = as_json(capsys, [*RUN, "--metrics", "irqs_off_max_cycles", "--metric", "pages_allocated"])
    assert doc["tables"][0]["columns"] == ["design", "bulk", "seed", "irqs_off_max_cycles", "pages_allocated"]
    assert [(r["design"], r["bulk"]) for r in records(doc)] == [("array", "1"), ("array", "8"), ("twopass", "1"),
                                                               ("twopass", "8")]


def test_run_format_csv_names_columns_by_metric_not_by_the_wrapped_header(capsys):
    """The headers are wrapped for the eye (``alloc_free_`` / ``cycles_per_`` / ``page``); a CSV column holds the
    metric's name, one line per cell."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(out_of(capsys, [*RUN, "--format", "csv"]))))
    assert {r["column"] for r in rows} >= {"seed", "irqs_off_max_cycles"}
    assert not any("\n" in r["column"] for r in rows)


def test_run_output_writes_the_table(capsys, tmp_path):
    printed = out_of(capsys, RUN)
    out_of(capsys, [*RUN, "--output", str(tmp_path / "t.txt")])
    assert (tmp_path / "t.txt").read_text() == printed
    assert "design" in printed and all(len(ln) <= 100 for ln in printed.splitlines())


# -- bad input: one line, exit 2, nothing written -------------------------------------------------------------

@pytest.mark.parametrize(("argv", "message"), [
    (["list", "designs", "--designs", "nosuch"], "--designs: unknown design 'nosuch'; known: single"),
    (["list", "metrics", "--metrics", "nosuch"], "--metrics: unknown metric 'nosuch'"),
    (["list", "kernels", "--designs", "array"], "--designs: narrows `list designs`, not `list kernels`"),
    (["list", "designs", "--format", "nosuch"], "list: argument --format: invalid choice: 'nosuch'"),
    (["validate", "--designs", "nosuch"], "--designs: unknown design 'nosuch'"),
    (["validate", "--metrics", "nosuch"], "--metrics: unknown metric 'nosuch'"),
    (["history", "--designs", "nosuch"], "--designs: unknown design 'nosuch'"),
    (["history", "--metrics", "nosuch"], "--metrics: unknown tracked metric 'nosuch'"),
    ([*RUN, "--metrics", "nosuch"], "--metrics: unknown metric(s) nosuch"),
])
def test_bad_names_are_one_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"benchframe: error: {message}") and err.count("\n") == 1, err


@pytest.mark.parametrize("argv", [["list", "designs"], ["validate"], ["history"], RUN,
                                  ["explore", "--design", "single"], ["perf", "--design", "array", "--workload",
                                                                      "page_bench04"]])
def test_output_into_a_missing_directory_is_refused_before_any_work(capsys, tmp_path, argv):
    target = tmp_path / "missing" / "out.txt"
    assert main([*argv, "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert err == f"benchframe: error: --output {target}: directory {target.parent} does not exist\n"
    assert not target.parent.exists()


def test_output_refuses_a_directory_as_compare_does(capsys, tmp_path):
    assert main(["list", "designs", "--output", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"benchframe: error: --output {tmp_path}: is a directory; benchframe " \
        "replaces only regular files\n"


# -- explore, perf, trace summary -------------------------------------------------------------------------------

EXPLORE = ["explore", "--design", "single,twopass", "--context", "irq"]


def test_explore_format_json_has_a_verdict_per_design_and_context(capsys):
    doc = as_json(capsys, EXPLORE)
    verdicts = doc["tables"][0]
    assert verdicts["columns"][:3] == ["design", "context", "verdict"]
    assert [(r["design"], r["context"], r["verdict"]) for r in verdicts["records"]] == [
        ("single", "irq", "SAFE"), ("twopass", "irq", "SAFE")]
    assert any(line.startswith("covered:") for line in doc["text"])


def test_explore_output_writes_what_it_prints(capsys, tmp_path):
    printed = out_of(capsys, EXPLORE)
    out_of(capsys, [*EXPLORE, "--output", str(tmp_path / "e.txt")])
    assert (tmp_path / "e.txt").read_text() == printed
    out_of(capsys, [*EXPLORE, "--format", "md", "--output", str(tmp_path / "e.md")])
    assert "| design   | context   | verdict   |" in (tmp_path / "e.md").read_text()


PERF = ["perf", "--design", "array", "--workload", "page_bench04", "--executor", "serial"]


def test_perf_output_writes_the_tables(capsys, tmp_path):
    printed = out_of(capsys, PERF)
    out_of(capsys, [*PERF, "--output", str(tmp_path / "p.txt")])
    assert (tmp_path / "p.txt").read_text() == printed
    doc = as_json(capsys, PERF)
    assert doc["tables"][0]["columns"] == ["symbol", "overhead", "children", "self"]


def test_trace_summary_output_writes_the_summary(capsys, tmp_path):
    from pathlib import Path

    trace = Path(__file__).parents[1] / "data" / "traces" / "loopback-tcp.perf.txt"
    events = tmp_path / "t.npz"
    out_of(capsys, ["trace", "import", str(trace), "-o", str(events)])
    printed = out_of(capsys, ["trace", "summary", str(events), "--format", "plain"])
    out_of(capsys, ["trace", "summary", str(events), "--format", "plain", "--output", str(tmp_path / "s.txt")])
    assert (tmp_path / "s.txt").read_text() == printed
    assert records(as_json(capsys, ["trace", "summary", str(events)]))
    target = tmp_path / "missing" / "s.txt"
    assert main(["trace", "summary", str(events), "--output", str(target)]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not target.parent.exists()


# -- report and compare ---------------------------------------------------------------------------------------

SAVED = str(__import__("pathlib").Path(__file__).parents[2] / "reports" / "results.json")


def test_report_designs_and_metrics_narrow_the_tables(capsys):
    doc = as_json(capsys, ["report", SAVED, "--designs", "single,array", "--metrics", "irqs_off_max_cycles"])
    studies = [t for t in doc["tables"] if t["title"].startswith(("page_bench04:", "irq_latency:"))]
    assert studies and all("irqs_off_max_cycles" in t["title"] for t in studies)
    assert all(t["columns"] == ["row", "single", "array"] for t in studies)
    assert "twopass" not in json.dumps(doc["tables"])


def test_report_bad_designs_and_metrics(capsys):
    for argv, message in (([SAVED, "--designs", "nosuch"], "--designs: unknown design 'nosuch'"),
                          ([SAVED, "--metrics", "nosuch"], "--metrics: unknown metric 'nosuch'; known: "
                                                           "`benchframe list metrics` lists them"),
                          ([SAVED, "--metrics", "remote_frees"], "--metrics: no study shows remote_frees")):
        assert main(["report", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"benchframe: error: {message}") and err.count("\n") == 1, err


def test_compare_metrics_runs_only_the_studies_that_show_them(capsys, tmp_path):
    out = tmp_path / "r"
    assert main(["compare", "--designs", "single,array", "--workloads", "page_bench04", "--seeds", "1",
                 "--model-draws", "0", "--metrics", "irqs_off_max_cycles", "--format", "json", "--output",
                 str(out), "--executor", "serial"]) == 0
    doc = json.loads((out / "comparison.json").read_text())
    studies = [t["title"] for t in doc["tables"] if t["title"].startswith("page_bench04:")]
    assert studies and set(studies) == {"page_bench04: irqs_off_max_cycles (cycles, lower is better)"}
