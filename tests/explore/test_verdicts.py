"""Verdicts for the reports: explored on their own processes while the caller runs its cells, cached."""

from __future__ import annotations

import multiprocessing.connection
import time
from concurrent.futures import wait

import pytest

from benchframe.explore.verdicts import PendingVerdicts, design_verdicts
from benchframe.plugins import get_registry

DESIGNS = ["single", "llist_del_first"]


def test_pending_verdicts_explore_in_the_background_and_give_what_explore_gives(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCHFRAME_CACHE_DIR", str(tmp_path / "cold"))
    reg = get_registry()
    with PendingVerdicts(DESIGNS, reg, jobs=2) as pending:
        assert len(pending.todo) == 8 and len(pending.futures) == 8  # nothing cached: all submitted at once
        background = pending.result()
    monkeypatch.setenv("BENCHFRAME_CACHE_DIR", "off")
    assert background == design_verdicts(DESIGNS, reg, jobs=1)
    assert background["llist_del_first"]["irq"].verdict == "UNSAFE"
    monkeypatch.setenv("BENCHFRAME_CACHE_DIR", str(tmp_path / "cold"))
    with PendingVerdicts(DESIGNS, reg, jobs=2) as again:  # now every verdict comes from the cache
        assert again.todo == [] and again.pool is None
        assert again.result() == background


def test_leaving_pending_verdicts_early_cancels_what_has_not_started(monkeypatch):
    monkeypatch.setenv("BENCHFRAME_CACHE_DIR", "off")
    with PendingVerdicts(list(get_registry().designs), get_registry(), jobs=2) as pending:
        futures = list(pending.futures.values())
    assert pending.pool is None
    done, _ = wait(futures, timeout=60)  # the pool's manager thread cancels the queued ones
    assert len(done) == len(futures)
    assert sum(f.cancelled() for f in futures) > len(futures) // 2  # 36 queued on two processes: most never ran


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_leaving_pending_verdicts_on_an_error_stops_the_running_explorations(monkeypatch):
    """Ctrl-C during compare's runs: nothing will read the verdicts, so their workers are stopped at once
    rather than finishing what they explore (and the pool's own thread does not trip over them)."""
    monkeypatch.setenv("BENCHFRAME_CACHE_DIR", "off")
    with pytest.raises(KeyboardInterrupt):
        with PendingVerdicts(list(get_registry().designs), get_registry(), jobs=2) as pending:
            workers = pending.workers
            assert len(workers) == 2 and all(w.is_alive() for w in workers)
            raise KeyboardInterrupt
    sentinels = [w.sentinel for w in workers]  # ready once the process has ended, whichever thread reaps it
    start = time.monotonic()
    ended: list = []
    while len(ended) < len(sentinels) and time.monotonic() - start < 10:
        ended += multiprocessing.connection.wait([x for x in sentinels if x not in ended], timeout=1)
    assert len(ended) == len(sentinels) and time.monotonic() - start < 0.5  # exploring single takes 0.6-1.4 s
    done, _ = wait(list(pending.futures.values()), timeout=10)
    assert len(done) == len(pending.futures)  # failed (or cancelled), none left pending
    time.sleep(0.2)  # the pool's manager thread has finished with them
