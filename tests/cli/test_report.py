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
