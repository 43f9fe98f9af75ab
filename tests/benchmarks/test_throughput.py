"""``benchmarks/throughput.py`` times the floor between the design's runs, in CPU time."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def test_floor_and_runs_alternate_and_are_cpu_time(monkeypatch):
    from benchmarks import throughput

    calls = []
    clock = iter(range(100))  # process_time ticks one second per read
    monkeypatch.setattr(throughput.time, "process_time", lambda: next(clock))
    monkeypatch.setattr(throughput.time, "perf_counter", lambda: (_ for _ in ()).throw(AssertionError("wall time")))
    floors = [lambda: calls.append("bare"), lambda: calls.append("call")]
    floor, run, ratio = throughput.interleaved(floors, lambda: calls.append("run"), 3)
    assert calls == ["bare", "call", "run"] * 3  # each round: every floor, then the design, in turn
    assert (floor, run, ratio) == ([1, 1], 1, [1.0, 1.0])


def test_the_script_runs(capsys, monkeypatch):
    from benchmarks import throughput

    monkeypatch.setattr(sys, "argv", ["throughput.py", "--pages", "128", "--repeat", "1", "--designs", "array",
                                      "--no-scaling"])
    throughput.main()
    out = capsys.readouterr().out
    assert "CPU time" in out and out.splitlines()[-1].split()[0] == "array"
