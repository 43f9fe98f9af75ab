"""`benchframe validate`: measured vs predicted, ratios. (Malformed files are in the bad-input catalogue,
``test_bad_input.py``.)"""

from __future__ import annotations

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
    assert " 203 " in single and "+103.0%" in single  # the E5 model predicts 203 cycles
    array = next(ln for ln in out.splitlines() if ln.startswith("m.csv:4"))
    assert "0.500" in array  # measured ratio 50 / 100


def test_each_baseline_row_normalises_to_itself(tmp_path, capsys):
    f = tmp_path / "m.csv"
    f.write_text("workload,design,bulk,metric,value,unit\n"
                 "page_bench04,single,1,alloc_free_cycles_per_page,200,cycles\n"
                 "page_bench04,single,1,alloc_free_cycles_per_page,100,cycles\n")
    assert main(["validate", "--measurements", str(f), "--normalize-to", "single"]) == 0
    out = capsys.readouterr().out
    second = next(ln for ln in out.splitlines() if ln.startswith("m.csv:3"))
    assert second.split()[-3:] == ["1.000", "1.000", "+0.0%"]
