"""``benchframe history`` (``report/history.py``): asv results read through asv's own API, one series per machine,
only the series that changed beyond the factor by default, units in every table, no ``nan``."""

from __future__ import annotations

import json

import pytest

from benchframe.cli import main

asv_results = pytest.importorskip("asv.results")
from asv.runner import BenchmarkResult  # noqa: E402 - after the importorskip


def save(folder, machine, commit, day, results):
    """One asv result file, written by asv's own ``Results.save()``: ``results`` maps a benchmark (name,
    params) to its values, None where the commit could not run it."""
    res = asv_results.Results({"machine": machine, "python": "3.11"}, {}, commit, 1700000000000 + day * 86400000,
                              "3.11", "virtualenv-py3.11", {})
    for name, values in results.items():
        bench = {"name": name, "version": "v1", "params": PARAMS[name]}
        res.add_result(bench, BenchmarkResult(result=values, samples=[None] * len(values),
                                              number=[None] * len(values), errcode=0, stderr="", profile=None))
    res.save(str(folder))
    (folder / machine).mkdir(exist_ok=True)
    (folder / machine / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}))


TRACK = "bench.Track.track_cycles"
TIME = "bench.Time.time_run"
PARAMS = {TRACK: [["'array'", "'llist'"]], TIME: []}


def history(tmp_path, capsys, *extra):
    assert main(["history", "--results", str(tmp_path), *extra]) == 0
    return capsys.readouterr().out


def test_changes_beyond_the_factor_are_flagged_and_the_rest_left_out_by_default(tmp_path, capsys):
    for day, (commit, array, llist) in enumerate([("a" * 40, 100.0, 50.0), ("b" * 40, 100.0, 120.0)]):
        save(tmp_path, "box", commit, day, {TRACK: [array, llist], TIME: [0.5 + day * 0.01]})
    out = history(tmp_path, capsys)
    assert "### bench.Track.track_cycles('llist') on box (cycles)" in out
    llist = out[out.index("('llist')"):]
    assert "+140.00%" in llist and "up x2.40" in llist  # 50 -> 120
    assert "('array')" not in out and "time_run" not in out  # unchanged beyond x1.1: left out
    assert "1 of 3 series (1 machine) shown; 2 without a change beyond x1.1 left out (--all shows them)" in out
    every = history(tmp_path, capsys, "--all")
    assert "### bench.Track.track_cycles('array') on box (cycles)" in every
    assert "### bench.Time.time_run on box (seconds)" in every and "| value (seconds) " in every


def test_machines_are_separate_series_and_commits_that_could_not_run_are_left_out(tmp_path, capsys):
    save(tmp_path, "fast", "a" * 40, 0, {TRACK: [100.0, None]})  # llist did not exist at this commit
    save(tmp_path, "fast", "b" * 40, 1, {TRACK: [100.0, 50.0]})
    save(tmp_path, "slow", "a" * 40, 0, {TRACK: [300.0, float("nan")]})
    save(tmp_path, "slow", "b" * 40, 1, {TRACK: [300.0, 150.0]})
    out = history(tmp_path, capsys, "--all")
    assert "nan" not in out.lower()
    for machine in ("fast", "slow"):
        assert f"### bench.Track.track_cycles('array') on {machine} (cycles)" in out
        table = out[out.index(f"('llist') on {machine}"):].split("###")[0]
        assert "aaaaaaaa" not in table and "bbbbbbbb" in table
    fast = out[out.index("('array') on fast"):].split("###")[0]
    assert "300" not in fast  # the other machine's values are not in this series
