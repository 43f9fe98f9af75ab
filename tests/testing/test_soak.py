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


def test_a_chunk_starts_no_sequence_after_the_deadline():
    """Before (#25): a chunk ran its sequences whatever the time (5 minutes ran 382 s)."""
    import time

    from benchframe.testing.soak import _chunk

    assert _chunk(("array", 1000, 5, 1, time.time() - 1)).sequences == 0
    done = _chunk(("array", 6, 5, 1, time.time() + 3600))  # in slices of 5, each with its own seed
    assert done.sequences >= 6 and done.failure is None


def test_the_soak_hands_out_no_chunk_after_its_deadline(monkeypatch):
    """Before (#25): 2 x jobs chunks were out at a time, the queued ones starting after the deadline. The soak
    reads a clock that ticks 1 ms a read, and a hand-out is recorded at the last time the soak read: a real
    clock read again in ``submit`` could fall after a deadline check that passed (it did, on a loaded CI)."""
    import time
    from concurrent.futures import Future, ProcessPoolExecutor

    import benchframe.testing.soak as soak_module
    from benchframe.testing.soak import SoakResult, soak

    handed: list[tuple[float, tuple]] = []
    read = [time.time()]

    class Clock:
        @staticmethod
        def time() -> float:
            read[0] += 0.001
            return read[0]

        monotonic = time

    class Recording(ProcessPoolExecutor):
        def submit(self, fn, args):
            handed.append((read[0], args))
            done: Future = Future()
            done.set_result(SoakResult(args[0], 1, args[3]))
            return done

    monkeypatch.setattr(soak_module, "_pool", lambda jobs, executor, scheduler, tls=None: (Recording(1), 2))
    monkeypatch.setattr(soak_module, "time", Clock)
    results = soak(["array", "llist"], 10**9, 10, 5, 2, 1, minutes=0.005)
    until = handed[0][1][4]
    assert handed and all(at < until and args[4] == until for at, args in handed)
    assert sum(r.sequences for rs in results.values() for r in rs) == len(handed)
