"""``benchframe history`` (``report/history.py``, ``report/history_compare.py``): asv results read through asv's
own API, one series per machine and environment, parameters in numeric order; by default two commits compared
as ``asv compare`` does (before / after / ratio / change, only the changed parameter sets), ``--series`` every
commit of the series that changed beyond the factor; units in every table, no ``nan``."""

from __future__ import annotations

import json

import pytest

from benchframe.cli import main

asv_results = pytest.importorskip("asv.results")
from asv.runner import BenchmarkResult  # noqa: E402 - after the importorskip


def save(folder, machine, commit, day, results, python="3.11"):
    """One asv result file, written by asv's own ``Results.save()``: ``results`` maps a benchmark (name,
    params) to its values, None where the commit could not run it."""
    res = asv_results.Results({"machine": machine, "python": python}, {}, commit, 1700000000000 + day * 86400000,
                              python, f"virtualenv-py{python}", {})
    for name, values in results.items():
        bench = {"name": name, "version": "v1", "params": PARAMS[name]}
        res.add_result(bench, BenchmarkResult(result=values, samples=[None] * len(values),
                                              number=[None] * len(values), errcode=0, stderr="", profile=None))
    res.save(str(folder))
    (folder / machine).mkdir(exist_ok=True)
    (folder / machine / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}))


TRACK = "bench.Track.track_cycles"
TIME = "bench.Time.time_run"
BULK = "bench.Bulk.track_cycles"
PARAMS = {TRACK: [["'array'", "'llist'"]], TIME: [], BULK: [["'array'"], ["1", "128", "16", "8"]]}


def history(tmp_path, capsys, *extra):
    assert main(["history", "--results", str(tmp_path), *extra]) == 0
    return capsys.readouterr().out


def test_changes_beyond_the_factor_are_flagged_and_the_rest_left_out_by_default(tmp_path, capsys):
    for day, (commit, array, llist) in enumerate([("a" * 40, 100.0, 50.0), ("b" * 40, 100.0, 120.0)]):
        save(tmp_path, "box", commit, day, {TRACK: [array, llist], TIME: [0.5 + day * 0.01]})
    out = history(tmp_path, capsys, "--series")
    assert "### bench.Track.track_cycles('llist') on box/virtualenv-py3.11 (cycles)" in out
    llist = out[out.index("('llist')"):]
    assert "+140.00%" in llist and "up x2.40" in llist  # 50 -> 120
    assert "('array')" not in out and "time_run" not in out  # unchanged beyond x1.1: left out
    assert ("1 of 3 series (1 machine/environment) shown; 2 without a change beyond x1.1 left out (--all shows "
            "them)") in out
    every = history(tmp_path, capsys, "--series", "--all")
    assert "### bench.Track.track_cycles('array') on box/virtualenv-py3.11 (cycles)" in every
    assert "### bench.Time.time_run on box/virtualenv-py3.11 (seconds)" in every and "| value (seconds) " in every


def test_machines_are_separate_series_and_commits_that_could_not_run_are_left_out(tmp_path, capsys):
    save(tmp_path, "fast", "a" * 40, 0, {TRACK: [100.0, None]})  # llist did not exist at this commit
    save(tmp_path, "fast", "b" * 40, 1, {TRACK: [100.0, 50.0]})
    save(tmp_path, "slow", "a" * 40, 0, {TRACK: [300.0, float("nan")]})
    save(tmp_path, "slow", "b" * 40, 1, {TRACK: [300.0, 150.0]})
    out = history(tmp_path, capsys, "--series", "--all")
    assert "nan" not in out.lower()
    for machine in ("fast", "slow"):
        assert f"### bench.Track.track_cycles('array') on {machine}/virtualenv-py3.11 (cycles)" in out
        table = out[out.index(f"('llist') on {machine}"):].split("###")[0]
        assert "aaaaaaaa" not in table and "bbbbbbbb" in table
    fast = out[out.index("('array') on fast"):].split("###")[0]
    assert "300" not in fast  # the other machine's values are not in this series


# -- the default view: two commits compared as asv compare prints them -----------------------------------------

def rows(out, title):
    """The data rows of the Markdown table titled ``title`` (its cells, stripped)."""
    table = out[out.index(f"### {title}"):].split("\n\n")[1]
    return [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]


def test_two_newest_commits_compared_before_after_ratio_only_the_changed_parameter_sets(tmp_path, capsys):
    save(tmp_path, "box", "a" * 40, 0, {TRACK: [100.0, 50.0]})
    save(tmp_path, "box", "b" * 40, 1, {TRACK: [100.0, 50.0]})
    save(tmp_path, "box", "c" * 40, 2, {TRACK: [104.0, 120.0]})  # array within x1.1, llist x2.4
    out = history(tmp_path, capsys)
    assert "## box/virtualenv-py3.11: bbbbbbbb -> cccccccc" in out
    assert "Before bbbbbbbb (2023-11-15 22:13 UTC), after cccccccc (2023-11-16 22:13 UTC)" in out
    assert "machine box, environment virtualenv-py3.11" in out
    title = "bench.Track.track_cycles on box/virtualenv-py3.11 (cycles)"
    assert "| parameters | before bbbbbbbb | after cccccccc | ratio | change |" in " ".join(out.split())
    assert rows(out, title) == [["'llist'", "50", "120", "2.40", "+"]]  # array unchanged: not listed
    assert "1 of 2 parameter sets listed; 1 within x1.1 left out (--all lists them)" in out
    every = history(tmp_path, capsys, "--all")
    assert rows(every, title) == [["'array'", "100", "104", "1.04", ""], ["'llist'", "50", "120", "2.40", "+"]]
    older = history(tmp_path, capsys, "--from", "aaa", "--to", "bb")  # prefixes; nothing changed
    assert "## box/virtualenv-py3.11: aaaaaaaa -> bbbbbbbb" in older and "###" not in older
    assert "0 of 2 parameter sets listed; 2 within x1.1 left out" in older
    shrank = history(tmp_path, capsys, "--from", "c", "--to", "a")
    assert rows(shrank, title) == [["'llist'", "120", "50", "0.42", "-"]]


def test_parameters_in_numeric_order(tmp_path, capsys):
    save(tmp_path, "box", "a" * 40, 0, {BULK: [10.0, 20.0, 30.0, 40.0]})
    save(tmp_path, "box", "b" * 40, 1, {BULK: [20.0, 40.0, 60.0, 80.0]})
    out = history(tmp_path, capsys)
    bulks = [r[0] for r in rows(out, "bench.Bulk.track_cycles on box/virtualenv-py3.11 (cycles)")]
    assert bulks == ["'array', 1", "'array', 8", "'array', 16", "'array', 128"]  # not 1, 128, 16, 8
    series = history(tmp_path, capsys, "--series")
    titles = [ln.split("track_cycles", 1)[1].split(" on ")[0] for ln in series.splitlines() if ln.startswith("###")]
    assert titles == ["('array', 1)", "('array', 8)", "('array', 16)", "('array', 128)"]


def test_two_machines_and_two_environments_are_never_one_series(tmp_path, capsys):
    save(tmp_path, "fast", "a" * 40, 0, {TRACK: [100.0, 50.0]})
    save(tmp_path, "slow", "b" * 40, 1, {TRACK: [300.0, 150.0]})  # merged, fast -> slow would read x3
    save(tmp_path, "fast", "c" * 40, 2, {TRACK: [100.0, 50.0]}, python="3.12")
    out = history(tmp_path, capsys, "--all")
    for where in ("fast/virtualenv-py3.11", "slow/virtualenv-py3.11", "fast/virtualenv-py3.12"):
        assert f"## {where}: - -> " in out  # each its own section, one commit each: nothing to compare
        assert f"Nothing to compare on {where}: only one commit recorded here" in out
    assert "###" not in out and "3.00" not in out  # no table: nothing compared across them
    series = history(tmp_path, capsys, "--series", "--all")
    assert series.count("### bench.Track.track_cycles('array') on ") == 3
    fast = history(tmp_path, capsys, "--series", "--all", "--machine", "fast", "--env", "virtualenv-py3.11")
    assert fast.count("###") == 2 and "300" not in fast and "3.12" not in fast


@pytest.mark.parametrize(("extra", "message"), [
    (["--from", "zzz"], "--from zzz: not a recorded commit (newest recorded: bbbbbbbb, aaaaaaaa)"),
    (["--to", "deadbeef"], "--to deadbeef: not a recorded commit (newest recorded: bbbbbbbb, aaaaaaaa)"),
    (["--machine", "nosuch"], "--machine nosuch: no results recorded there (recorded: box)"),
    (["--series", "--from", "a"], "--series shows every commit: --from/--to compare two, give one or the other"),
])
def test_an_unknown_commit_or_machine_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    save(tmp_path, "box", "a" * 40, 0, {TRACK: [100.0, 50.0]})
    save(tmp_path, "box", "b" * 40, 1, {TRACK: [100.0, 60.0]})
    assert main(["history", "--results", str(tmp_path), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"benchframe: error: {message}\n" and captured.out == ""


def test_a_change_beyond_the_factor_within_asvs_noise_is_marked_tilde_not_plus(tmp_path, capsys):
    """asv's statistics (its samples' confidence interval) cannot tell a noisy 1.0 -> 1.2 s apart: ``~1.20``, no
    mark, and so not listed by default; a track_ value without samples is compared by the factor alone."""
    for day, (commit, samples) in enumerate([("a" * 40, [0.5, 1.0, 1.5, 0.6, 1.4, 1.0, 0.7, 1.3]),
                                             ("b" * 40, [0.7, 1.2, 1.7, 0.8, 1.6, 1.2, 0.9, 1.5])]):
        res = asv_results.Results({"machine": "box", "python": "3.11"}, {}, commit,
                                  1700000000000 + day * 86400000, "3.11", "virtualenv-py3.11", {})
        res.add_result({"name": TIME, "version": "v1", "params": []},
                       BenchmarkResult(result=[sum(samples) / 8], samples=[samples], number=[1], errcode=0,
                                       stderr="", profile=None), record_samples=True)
        res.save(str(tmp_path))
    (tmp_path / "box" / "machine.json").write_text(json.dumps({"machine": "box", "version": 1}))
    assert "0 of 1 parameter sets listed" in history(tmp_path, capsys)
    every = history(tmp_path, capsys, "--all")
    assert rows(every, "bench.Time.time_run on box/virtualenv-py3.11 (seconds)") == [
        ["(none)", "1", "1.2", "~1.20", ""]]
