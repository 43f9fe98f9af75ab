"""`benchframe validate`: measured vs predicted, ratios, and malformed files."""

from __future__ import annotations

import pytest

from benchframe.cli import main


def test_shipped_measurements_table(capsys):
    assert main(["validate", "--normalize-to", "single"]) == 0
    out = capsys.readouterr().out
    assert "published.csv" in out and "page_bench04-2017-prototype.csv" in out
    row = next(ln for ln in out.splitlines() if ln.startswith("published.csv:8 "))
    assert "207 cycles" in row and "%" in row


def test_prediction_and_error_come_from_the_simulation(tmp_path, capsys):
    f = tmp_path / "m.csv"
    f.write_text("# a comment\nworkload,design,bulk,metric,value,unit\n"
                 "page_bench04,single,1,alloc_free_cycles_per_page,100,cycles\n"
                 "page_bench04,array,64,alloc_free_cycles_per_page,50,cycles\n")
    assert main(["validate", "--measurements", str(f), "--normalize-to", "single"]) == 0
    out = capsys.readouterr().out
    single = next(ln for ln in out.splitlines() if ln.startswith("m.csv:3"))
    assert " 201 " in single and "+101.0%" in single  # the E5 model predicts 201 cycles
    array = next(ln for ln in out.splitlines() if ln.startswith("m.csv:4"))
    assert "0.500" in array  # measured ratio 50 / 100


@pytest.mark.parametrize("content, needle", [
    ("workload,design,metric,value\n", "header lacks column(s) unit"),
    ("workload,design,bulk,metric,value,unit\npage_bench04,single,1,alloc_free_cycles_per_page,abc,cycles\n",
     "is not a number"),
    ("workload,design,bulk,metric,value,unit\npage_bench04,single,1,alloc_free_cycles_per_page,1\n", "fields"),
    ("workload,design,metric,value,unit\nnosuch,single,x,1,c\n", "unknown workload"),
    ("workload,design,metric,value,unit\npage_bench04,nosuch,x,1,c\n", "unknown design"),
    ("workload,design,metric,value,unit\npage_bench04,single,nosuch_metric,1,c\n", "no metric"),
    ("workload,design,bulk,metric,value,unit\npage_bench04,single,x,alloc_cycles_per_page,1,c\n", "not an integer"),
    ("# only comments\n", "no header line"),
    ("workload,design,metric,value,unit\n", "no measurements"),
])
def test_malformed_csv_is_one_line_exit_2(tmp_path, capsys, content, needle):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    assert main(["validate", "--measurements", str(f)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_each_baseline_row_normalises_to_itself(tmp_path, capsys):
    f = tmp_path / "m.csv"
    f.write_text("workload,design,bulk,metric,value,unit\n"
                 "page_bench04,single,1,alloc_free_cycles_per_page,200,cycles\n"
                 "page_bench04,single,1,alloc_free_cycles_per_page,100,cycles\n")
    assert main(["validate", "--measurements", str(f), "--normalize-to", "single"]) == 0
    out = capsys.readouterr().out
    second = next(ln for ln in out.splitlines() if ln.startswith("m.csv:3"))
    assert second.split()[-3:] == ["1.000", "1.000", "+0.0%"]
