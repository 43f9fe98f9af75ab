"""`benchframe validate`: measured vs predicted, ranges, ratios. (Malformed files are in the bad-input catalogue,
``test_bad_input.py``.)"""

from __future__ import annotations

import re

import pytest

from benchframe.cli import main
from benchframe.run import RunSpec, run_one

pytestmark = pytest.mark.usefixtures("shared_validate_runs")  # the same cells, printed many ways


def _rows(out: str) -> list[tuple[str, str]]:
    """``(file:line, row)`` of each measurement in validate's tables (a table per file and metric, its rows led by
    their line number): a wrapped row's other lines, and its part in a split table's other groups, after its
    first line, `` | `` between."""
    rows: dict[tuple[int, str], str] = {}
    file, table, last = "", 0, None
    for ln in out.splitlines():
        if m := re.match(r"(\S+\.csv): ", ln):
            file, table = m[1], table + 1
        if re.search(r"\(([2-9]|\d\d+)/\d+\)$", ln):  # (its title's end:) a split table's next group
            table -= 1
        elif m := re.match(r"(\S+\.csv): ", ln):
            continue
        elif m := re.match(r"(\d+) ", ln):
            last = (table, f"{file}:{m[1]}")
            rows[last] = f"{rows[last]} | {ln}" if last in rows else ln
        elif ln.startswith(" ") and last:
            rows[last] += f" | {ln.strip()}"
        else:
            last = None
    return [(where, row) for (_, where), row in rows.items()]


def _line(out: str, start: str) -> str:
    """The row of measurement ``start`` (``file:line``), or the paragraph that starts with ``start``."""
    rows = dict(_rows(out))
    if start in rows:
        return rows[start]
    lines = out.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith(start))
    end = next((j for j in range(i + 1, len(lines)) if not lines[j].startswith("    ")), len(lines))
    return " ".join(ln.strip() for ln in lines[i:end])  # wrapped: its continuation lines are indented


def test_every_line_fits_a_mail(capsys):
    # validate was 231 columns wide: a table per file, workload and metric, the parameters wrapped
    main(["validate", "--normalize-to", "single", "--tolerance", "100"])
    out = capsys.readouterr().out
    assert max(len(ln) for ln in out.splitlines()) <= 100


def test_shipped_measurements_table_prints_every_row(capsys):
    assert main(["validate", "--normalize-to", "single", "--tolerance", "100"]) == 0
    out = capsys.readouterr().out
    for name in ("published.csv", "page_bench04-2017-prototype.csv", "perf-shares-page_pool.csv",
                 "pagealloc-2017.csv"):
        assert name in out
    rows = [ln for _, ln in _rows(out)]
    assert len(rows) == 82  # 6 published, 11 of the 2017 curve, 5 perf shares, 60 of Mel's pagealloc tables
    row = next(ln for ln in rows if " 207 " in ln)
    assert re.search(r"(beyond|in)\b.*194-207", row)  # the three 2021 trees: compared with their range


def test_prediction_and_error_come_from_the_simulation(tmp_path, capsys):
    f = tmp_path / "m.csv"
    f.write_text("# a comment\nworkload,design,test,metric,value,unit\n"
                 "page_bench04,single,single,alloc_free_cycles_per_page,100,cycles\n"
                 "page_bench04,array,array,alloc_free_cycles_per_page,50,cycles\n")
    assert main(["validate", "--measurements", str(f), "--normalize-to", "single", "--tolerance", "1000"]) == 0
    out = capsys.readouterr().out
    single = run_one(RunSpec(design="single", workload="page_bench04", params={"test": "single"}))
    predicted = single.metrics["alloc_free_cycles_per_page"]
    row = _line(out, "m.csv:3")
    assert f" {predicted:.4g} " in row and f"{predicted - 100:+.1f}%" in row
    assert "0.500" in _line(out, "m.csv:4")  # measured ratio 50 / 100


def test_each_baseline_row_normalises_to_itself(tmp_path, capsys):
    f = tmp_path / "m.csv"
    f.write_text("workload,design,bulk,metric,value,unit\n"
                 "page_bench04,single,1,alloc_free_cycles_per_page,200,cycles\n"
                 "page_bench04,single,1,alloc_free_cycles_per_page,100,cycles\n")
    assert main(["validate", "--measurements", str(f), "--normalize-to", "single"]) == 0
    out = capsys.readouterr().out
    second = _line(out, "m.csv:3")
    assert second.split()[-2:] == ["1.000", "+0.0%"] and second.count("1.000") == 2  # measured, predicted ratio


def test_files_of_the_same_name_in_two_folders_are_two_files(tmp_path, capsys):
    """A baseline is looked up in the row's own file, by its path, not its name."""
    for folder, single, array in (("a", 100, 50), ("b", 400, 100)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.csv").write_text(
            "workload,design,bulk,metric,value,unit\n"
            f"page_bench04,single,64,alloc_free_cycles_per_page,{single},cycles\n"
            f"page_bench04,array,64,alloc_free_cycles_per_page,{array},cycles\n")
    assert main(["validate", "--measurements", str(tmp_path / "a" / "m.csv"), "--measurements",
                 str(tmp_path / "b" / "m.csv"), "--normalize-to", "single", "--tolerance", "1000"]) == 0
    arrays = [ln for where, ln in _rows(capsys.readouterr().out) if where == "m.csv:3"]
    assert "0.500" in arrays[0] and "0.250" in arrays[1]


def test_the_2017_curve_is_compared_under_its_own_kernel_within_6_percent(capsys):
    assert main(["validate", "--measurements", _shipped("page_bench04-2017-prototype.csv")]) == 0
    out = capsys.readouterr().out
    rows = [ln for _, ln in _rows(out)]
    assert len(rows) == 11 and all(" preempt " in r for r in rows)
    assert ("page_bench04-2017-prototype.csv: alloc_free_cycles_per_page (cycles), what page_bench04, kernel "
            "4.10-prototype") in " ".join(out.split())  # the title: wrapped
    for row in rows:
        error = float(row.split(" | ")[0].split()[-2].rstrip("%"))
        assert abs(error) <= 6.0, row


def _shipped(name: str) -> str:
    from benchframe.measurements import shipped_measurements

    return str(next(p for p in shipped_measurements() if p.name == name))


def test_errors_beyond_the_tolerance_exit_1_and_are_named(tmp_path, capsys):
    # before: validate exited 0 with the perf shares +83% off
    assert main(["validate", "--measurements", _shipped("perf-shares-page_pool.csv")]) == 1
    out = capsys.readouterr().out
    assert "predictions beyond 10%" in out and "perf-shares-page_pool.csv:10 (+" in out
    single = run_one(RunSpec(design="single", workload="page_bench04", params={"test": "single"}))
    predicted = single.metrics["alloc_free_cycles_per_page"]
    measured = round(predicted / 1.18)
    error = (predicted - measured) / measured * 100
    f = tmp_path / "m.csv"
    f.write_text("workload,design,test,metric,value,unit\n"
                 f"page_bench04,single,single,alloc_free_cycles_per_page,{measured},cycles\n")
    assert main(["validate", "--measurements", str(f), "--tolerance", "10"]) == 1
    assert f"m.csv:2 ({error:+.1f}%)" in capsys.readouterr().out
    assert main(["validate", "--measurements", str(f), "--tolerance", "20"]) == 0
    assert "every prediction within 20%" in capsys.readouterr().out


def test_validate_names_what_no_measurement_checks(capsys):
    main(["validate", "--tolerance", "100"])
    line = _line(capsys.readouterr().out, "not checked against any measurement")
    designs, workloads = line.split(";")
    assert "llist" in designs and "single" not in designs and "preempt" not in designs
    assert "irq_latency" in workloads and "page_bench04" not in workloads


def test_a_measurement_in_ns_is_converted_with_the_profiles_clock(tmp_path, capsys):
    """Before (#25): the unit column was never read; '207,ns' was compared as 207 cycles."""
    f = tmp_path / "m.csv"
    f.write_text("workload,design,test,pages,profile,metric,value,unit\n"
                 "page_bench04,single,single,4096,e5-1650v4,alloc_free_cycles_per_page,207,cycles\n"
                 "page_bench04,single,single,4096,e5-1650v4,alloc_free_cycles_per_page,57.5,ns\n")
    assert main(["validate", "--measurements", str(f), "--tolerance", "1000"]) == 0
    out = capsys.readouterr().out
    cycles, ns = _line(out, "m.csv:2"), _line(out, "m.csv:3")
    assert " 207 cycles " in cycles and " 207 cycles (57.5 ns) " in ns  # 57.5 ns at 3.6 GHz
    assert cycles.split()[-4:] == ns.split()[-4:]  # the same prediction, error and range either way


def test_a_file_named_twice_is_read_once(tmp_path, capsys):
    f = tmp_path / "m.csv"
    f.write_text("workload,design,test,pages,metric,value,unit\n"
                 "page_bench04,single,single,64,alloc_free_cycles_per_page,200,cycles\n")
    assert main(["validate", "--measurements", str(f), "--measurements", str(f), "--tolerance", "1000"]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"benchframe: warning: --measurements {f}: named twice (as {f}): read once\n"
    assert len([ln for ln in captured.out.splitlines() if ln.startswith("m.csv:")]) == 1


def test_a_spreadsheets_byte_order_mark_is_not_part_of_the_first_column(tmp_path, capsys):
    """Before: a CSV saved by a spreadsheet with a BOM said 'header lacks column(s) workload'."""
    rows = ("workload,design,test,pages,metric,value,unit\n"
            "page_bench04,single,single,64,alloc_free_cycles_per_page,200,cycles\n")
    plain, bom = tmp_path / "plain.csv", tmp_path / "bom.csv"
    plain.write_text(rows)
    bom.write_bytes(b"\xef\xbb\xbf" + rows.encode())
    assert main(["validate", "--measurements", str(plain), "--tolerance", "1000"]) == 0
    expected = _line(capsys.readouterr().out, "plain.csv:2").split()[1:]
    assert main(["validate", "--measurements", str(bom), "--tolerance", "1000"]) == 0
    assert _line(capsys.readouterr().out, "bom.csv:2").split()[1:] == expected
