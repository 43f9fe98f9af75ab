"""What the commands share (``cli/options.py``): the progress bar, on a terminal only."""

from __future__ import annotations

import io

from benchframe.cli.options import Progress


def test_progress_bar_on_a_terminal_only(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())  # CI: stderr is not a terminal
    assert Progress(10, "x").update is None
    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    with Progress(10, "x") as bar:
        assert bar.update is not None
        bar.update(3)
        bar.bar.refresh()
    assert "3/10" in tty.getvalue()
