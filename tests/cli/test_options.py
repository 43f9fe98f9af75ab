"""What the commands share (``cli/options.py``): the progress bar, on a terminal only."""

from __future__ import annotations

import io
import os
import subprocess
import sys

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


def _actions(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from ((f"{name} {n}".strip(), a) for n, a in _actions(sub))
        else:
            yield "", action


def test_every_option_has_help_and_the_description_says_what_benchframe_is():
    from benchframe.cli.main import build_parser

    parser = build_parser()
    assert "Linux kernel" in parser.description and "bulk page allocation" in parser.description
    missing = [f"{where}: {'/'.join(a.option_strings) or a.dest}" for where, a in _actions(parser)
               if not a.help and a.dest not in ("help", "command")]
    assert missing == []


def test_designs_and_seeds_are_lists_with_one_spelling_and_its_alias_everywhere():
    from benchframe.cli.main import build_parser

    parser = build_parser()
    for command in ("run", "compare", "explore"):
        for spelling in ("--designs", "--design"):
            args = parser.parse_args([command, spelling, "array,list", "--workload", "page_bench04"]
                                     if command == "run" else [command, spelling, "array,list"])
            assert args.designs == ["array,list"], (command, spelling)
    for command in ("run", "compare"):
        base = [command, "--design", "array", "--workload", "page_bench04"] if command == "run" else [command]
        for spelling in ("--seeds", "--seed"):
            assert parser.parse_args(base + [spelling, "1,2"]).seeds == ["1,2"]
    from benchframe.cli.options import parse_seeds

    assert parse_seeds(["1,3", "5-7"], "1") == [1, 3, 5, 6, 7]
    assert parse_seeds(None, "1,2,3") == [1, 2, 3]


def test_argparse_errors_name_the_command_once(capsys):
    from benchframe.cli import main

    assert main(["run", "--workload", "page_bench04"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("benchframe: error: run: the following arguments are required: --designs")
    assert "benchframe run" not in err


def test_the_command_line_keeps_numpy_to_one_blas_thread():
    """``benchframe`` runs one process per core; OpenBLAS's own threads (one per core, started when numpy loads)
    would only spin on the model check's small fits, taking CPU from the cells."""
    code = "import os, benchframe.cli, numpy; print(len(os.listdir('/proc/self/task')))"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
    # the user's own setting wins
    env["OPENBLAS_NUM_THREADS"] = "2"
    code = "import os, benchframe.cli; print(os.environ['OPENBLAS_NUM_THREADS'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"
