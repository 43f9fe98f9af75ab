"""``python -m benchframe.testing.soak``: sequences per design on a process pool, with the violations and the
seed that replays each."""

from __future__ import annotations

from benchframe.testing.soak import main


def test_soak_reports_sequences_and_no_violations(capsys):
    assert main(["--designs", "array,llist", "--sequences", "6", "--chunk", "3", "--jobs", "2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:3] for line in out.splitlines()[2:4]}
    # sequences started: hypothesis may start more than it counts as examples (a draw a rule cannot use)
    assert set(rows) == {"array", "llist"} and all(int(n) >= 6 and bad == "0" for n, bad in rows.values()), out
    assert f"{sum(int(n) for n, _ in rows.values()):,} sequences in" in out and "seed 3" in out


def test_soak_reports_a_violation_with_its_seed(capsys, early_unlock):
    assert main(["--designs", early_unlock, "--sequences", "10", "--chunk", "10", "--jobs", "1", "--seed", "0"]) == 1
    out = capsys.readouterr().out
    assert "NR_FREE_PAGES" in out and "hypothesis seed 0" in out


def test_soak_bad_input_is_one_line(capsys):
    assert main(["--designs", "nope"]) == 2
    assert main(["--designs", "array", "--sequences", "0"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("soak: error: unknown design") and err[1] == "soak: error: --sequences must be at least 1"
