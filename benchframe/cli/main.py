"""The ``benchframe`` command: one sub-command per module of this package, errors as one line.

Exit status: 0 success; 1 a run found invariant violations or a plugin failed (load or run); 2 bad input
(a one-line ``benchframe: error: ...``, no traceback); 3 a bug in benchframe itself (its traceback with
``BENCHFRAME_DEBUG=1``); 130 interrupted.
"""

from __future__ import annotations

import os
import sys

from benchframe import BenchframeError, __version__
from benchframe.cli import (
    calibrate,
    compare,
    completion,
    explore,
    history,
    listing,
    new_plugin,
    perf,
    plugins,
    report,
    run,
    sweep,
    trace,
    validate,
)
from benchframe.cli.options import Parser
from benchframe.plugins import get_registry
from benchframe.signals import restore_sigint, watch_sigint

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3

# in the order `benchframe --help` lists them
COMMANDS = (listing, run, perf, sweep, plugins, new_plugin, compare, explore, validate, calibrate, report,
            history, trace, completion)
DESCRIPTION = ("benchframe: compare designs of the Linux kernel's bulk page allocation API on a simulated "
               "machine")


def build_parser() -> Parser:
    """The ``benchframe`` parser: one sub-command per module of ``COMMANDS``, each calling its ``main``."""
    parser = Parser(prog="benchframe", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"benchframe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        before = set(sub.choices)
        command.add_parser(sub)
        for name in set(sub.choices) - before:
            sub.choices[name].set_defaults(main=command.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names (default: the process's arguments); its exit status (see the module
    docstring). The user's Ctrl-C interrupts; a plugin's ``KeyboardInterrupt`` is the plugin's error."""
    previous = watch_sigint()  # a plugin's KeyboardInterrupt is its error, the user's Ctrl-C interrupts
    try:
        return _main(argv)
    finally:
        restore_sigint(previous)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
        args.root_parser = parser  # `completion` prints the whole parser; commands do not import this module
        status = args.main(args)
        errors = get_registry(tuple(getattr(args, "plugin", ()) or ())).errors
    except BenchframeError as exc:
        print(f"benchframe: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("benchframe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0
    except Exception as exc:  # a bug in benchframe itself: one line, the traceback on request
        if os.environ.get("BENCHFRAME_DEBUG"):
            raise
        print(f"benchframe: internal error: {type(exc).__name__}: {exc} (set BENCHFRAME_DEBUG=1 for the "
              "traceback)", file=sys.stderr)
        return EXIT_INTERNAL
    for line in errors:
        print(f"benchframe: plugin error: {line}", file=sys.stderr)
    if errors and status == 0:
        status = EXIT_FAILED
    return status


if __name__ == "__main__":
    sys.exit(main())
