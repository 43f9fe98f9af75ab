"""``-q``/``-v`` on every command (benchframe's log, ``logging``) and the progress bar they govern."""

from __future__ import annotations

import io

import pytest

from benchframe.cli import main
from benchframe.cli.main import build_parser
from benchframe.cli.options import Progress

RUN = ["run", "--design", "array", "--workload", "page_bench04", "--seeds", "1,1", "--executor", "serial"]


def test_a_warning_by_default_none_with_q_before_or_after_the_command(capsys):
    assert main(RUN) == 0
    assert "benchframe: warning: --seeds: 2 seeds named, 1 distinct" in capsys.readouterr().err
    for argv in (["-q", *RUN], [*RUN, "-q"], [*RUN, "--quiet"]):
        assert main(argv) == 0
        captured = capsys.readouterr()
        assert "warning" not in captured.err, argv
        assert "array" in captured.out  # the table still comes out


def test_v_says_the_steps_on_stderr_and_leaves_stdout_alone(capsys):
    assert main(["list", "designs"]) == 0
    plain = capsys.readouterr()
    assert plain.err == ""
    assert main(["list", "designs", "-v"]) == 0
    verbose = capsys.readouterr()
    assert verbose.out == plain.out
    assert "benchframe: rendering 1 table(s) as text" in verbose.err
    assert main(["-v", *RUN[:-2]]) == 0
    assert "benchframe: setup: profile default" in capsys.readouterr().err


def test_every_command_takes_q_and_v():
    parser = build_parser()

    def walk(p, path):
        yield path, p
        for name, child in p.commands.items():
            yield from walk(child, [*path, name])

    for path, p in walk(parser, []):
        options = {s for a in p.arguments for s in a.option_strings}
        assert {"-q", "--quiet", "-v", "--verbose"} <= options, path


def test_the_progress_bar_is_off_with_q_and_when_stderr_is_not_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert Progress(10, "x").update is None
    monkeypatch.setattr("sys.stderr", Tty())
    with Progress(10, "x") as bar:
        assert bar.update is not None
    import argparse

    from benchframe.cli.main import set_verbosity

    set_verbosity(argparse.Namespace(quiet=True))
    try:
        assert Progress(10, "x").update is None
    finally:
        set_verbosity(argparse.Namespace())


@pytest.mark.parametrize("argv", [["trace", "import", "x", "-q"], ["trace", "summary", "x", "-v"]])
def test_sub_sub_commands_take_them_too(argv):
    args = build_parser().parse_args(argv)
    assert getattr(args, "quiet", False) or getattr(args, "verbose", 0)


class Tty:
    """A terminal on stderr: what the progress bar writes, kept."""

    def __init__(self):
        self.buf = io.StringIO()

    def isatty(self):
        return True

    def write(self, text):
        return self.buf.write(text)

    def flush(self):
        pass


@pytest.mark.parametrize(("argv", "desc"), [
    (["run", "--design", "array", "--workload", "page_bench04", "--executor", "serial"], "benchframe run"),
    (["explore", "--design", "single", "--context", "nmi"], "benchframe explore"),
])
def test_run_and_explore_show_progress_on_a_terminal_unless_q(monkeypatch, capsys, argv, desc):
    for quiet, shown in (([], True), (["-q"], False)):
        tty = Tty()
        monkeypatch.setattr("sys.stderr", tty)
        assert main([*argv, *quiet]) == 0
        assert (desc in tty.buf.getvalue()) == shown, (quiet, tty.buf.getvalue())
    monkeypatch.undo()
    assert main(argv) == 0  # stderr not a terminal (a test's capture, CI): no bar
    assert desc not in capsys.readouterr().err


def test_trace_import_shows_lines_read_on_a_terminal(monkeypatch, tmp_path):
    from pathlib import Path

    import benchframe.trace.importer as importer

    monkeypatch.setattr(importer, "PROGRESS_LINES", 10)
    trace = Path(__file__).parents[1] / "data" / "traces" / "loopback-tcp.perf.txt"
    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    assert main(["trace", "import", str(trace), "-o", str(tmp_path / "t.npz")]) == 0
    assert "benchframe trace import" in tty.buf.getvalue() and "line" in tty.buf.getvalue()
