"""``benchframe report``: the comparison tables from saved results (a result file or a sweep directory), without
re-running. (Bad arguments are in the bad-input catalogue, ``test_bad_input.py``.)"""

from __future__ import annotations

from benchframe.cli import main


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


def test_plain_report_fits_a_mail_and_marks_unsafe_designs(capsys):
    """Every line of the plain report of the committed results is at most 100 columns (a mail), and the
    design explore finds UNSAFE is marked wherever its costs appear."""
    from pathlib import Path

    results = Path(__file__).resolve().parents[2] / "reports" / "results.json"
    assert main(["report", str(results), "--format", "plain"]) == 0
    text = capsys.readouterr().out
    too_long = [ln for ln in text.splitlines() if len(ln) > 100]
    assert too_long == []
    assert text.splitlines()[0] == "benchframe comparison"
    decision = text[text.index("Decision"):]
    assert "llist_del_first [UNSAFE]" in decision
    assert "llist [UNSAFE]" not in text  # the llist_del_all design is safe
    costs = text[text.index("page_bench04: alloc_free_cycles_per_page (cycles"):]  # the cost table, not a legend
    header = costs.splitlines()[1] + costs[costs.index("(2/"):].splitlines()[1]
    marked = "llist_del_first [UNSAFE]"
    assert marked in header and "llist_del_first " not in header.replace(marked, "")


def test_a_result_file_named_twice_counts_each_run_once(tmp_path, capsys):
    """Before (#25): 'report x.json x.json' counted every run twice: Stddev and p-values changed (five copies
    drove a p-value to 0.0). Now the report is that of x.json alone, with one warning."""
    result = tmp_path / "x.json"
    assert main(["run", "--design", "single,array", "--workload", "irq_latency", "--param", "bursts=10",
                 "--seeds", "1-3", "--executor", "serial", "--json", str(result)]) == 0
    capsys.readouterr()
    assert main(["report", str(result)]) == 0
    once = capsys.readouterr()
    assert main(["report", str(result), str(result), str(tmp_path / ".." / tmp_path.name / "x.json")]) == 0
    twice = capsys.readouterr()
    assert twice.err.count("\n") == 2 and twice.err.count("named twice") == 2 and once.err == ""
    strip = [ln for ln in once.out.splitlines() if "benchframe report" not in ln]
    assert [ln for ln in twice.out.splitlines() if "benchframe report" not in ln] == strip


def test_a_copy_of_a_run_in_a_second_file_is_counted_once_and_a_changed_one_refused(tmp_path, capsys):
    import json

    result = tmp_path / "x.json"
    assert main(["run", "--design", "array", "--workload", "page_bench04", "--param", "pages=64", "--executor",
                 "serial", "--json", str(result)]) == 0
    copy = tmp_path / "copy.json"
    copy.write_text(result.read_text())
    capsys.readouterr()
    assert main(["report", str(result), str(copy)]) == 0
    assert capsys.readouterr().err == (f"benchframe: warning: 1 run(s) found twice with the same figures ({copy}: "
                                       f"run 0 repeats {result}: run 0): each counted once\n")
    doc = json.loads(result.read_text())
    doc["runs"][0]["metrics"]["alloc_cycles_per_page"] += 1
    copy.write_text(json.dumps(doc))
    assert main(["report", str(result), str(copy)]) == 2
    assert "with other figures; a run counts once" in capsys.readouterr().err


def test_report_honours_an_explicit_baseline_or_refuses_it(tmp_path, capsys):
    # "--baseline single" on results without single silently took the first design
    result = tmp_path / "r.json"
    assert main(["run", "--design", "array,list", "--workload", "page_bench04", "--param", "bulk=8",
                 "--param", "pages=512", "--json", str(result)]) == 0
    capsys.readouterr()
    assert main(["report", str(result), "--baseline", "single"]) == 2
    err = capsys.readouterr().err
    assert "--baseline 'single' is not among the designs with runs in the results (list, array)" in err
    assert main(["report", str(result), "--baseline", "list"]) == 0
    header = next(ln for ln in capsys.readouterr().out.splitlines()
                  if ln.startswith("|") and "array" in ln and "list" in ln)
    assert header.index("list") < header.index("array")
