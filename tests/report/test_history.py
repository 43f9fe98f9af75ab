"""``benchframe history`` (``report/history.py``): asv results per benchmark across commits, a change beyond the
factor flagged ``up``/``down``."""

from __future__ import annotations

import json

import pytest

from benchframe.cli import main


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
