"""The ``benchframe`` command: one sub-command per module of this package, errors as one line.

Exit status: 0 success; 1 a run found invariant violations or a plugin failed (load or run); 2 bad input
(a one-line ``benchframe: error: ...``, no traceback); 3 a bug in benchframe itself (its traceback with
``BENCHFRAME_DEBUG=1``); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from benchframe import BenchframeError, __version__
from benchframe.cli.options import LOG, Parser
from benchframe.signals import restore_sigint, watch_sigint

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3

#: each command and its module (``benchframe.cli.MODULE``), in the order `benchframe --help` lists them. A module
#: is imported when its command's parser is built, and a run of one command builds only that one: start-up pays
#: for the command that runs (``calibrate``'s numerical stack is not loaded for ``benchframe list``)
COMMANDS = (("list", "listing"), ("run", "run"), ("perf", "perf"), ("sweep", "sweep"), ("plugins", "plugins"),
            ("new-plugin", "new_plugin"), ("compare", "compare"), ("explore", "explore"), ("validate", "validate"),
            ("calibrate", "calibrate"), ("report", "report"), ("history", "history"), ("trace", "trace"),
            ("completion", "completion"))
DESCRIPTION = ("benchframe: compare designs of the Linux kernel's bulk page allocation API on a simulated "
               "machine")
#: commands that need the whole parser (``completion`` prints every command's options)
WHOLE = ("completion",)


def build_parser(only: tuple[str, ...] | None = None) -> Parser:
    """The ``benchframe`` parser: one sub-command per module of ``COMMANDS``, each calling its ``main``;
    ``only``: just those commands (``None``: all)."""
    parser = Parser(prog="benchframe", description=DESCRIPTION)
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and build and exit")
    add_verbosity_options(parser)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, module in COMMANDS:
        if only is not None and name not in only:
            continue
        command = importlib.import_module(f"benchframe.cli.{module}")
        before = set(sub.choices)
        command.add_parser(sub)
        for added in set(sub.choices) - before:
            sub.choices[added].set_defaults(main=command.main)
            for each in _parsers(sub.choices[added]):
                add_verbosity_options(each)
    return parser


class _Version(argparse.Action):
    """``--version``: the version and which build imports (``benchframe.build``), found only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from benchframe.build import build

        print(f"benchframe {__version__} ({build()})")
        parser.exit()


def _parsers(parser: Parser) -> list[Parser]:
    """``parser`` and its sub-commands' parsers, all the way down (``trace import``)."""
    return [parser, *(q for child in parser.commands.values() for q in _parsers(child))]


def add_verbosity_options(p: argparse.ArgumentParser) -> None:
    """``-q``/``--quiet`` and ``-v``/``--verbose`` (``-vv`` for more): on the root parser and every command, so
    they go before or after the command's name; not given, they leave what the root parser took."""
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="no warnings and no progress bar: errors only")
    p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                   help="say what the command does, step by step, on stderr (-vv: more)")


def set_verbosity(args: argparse.Namespace) -> None:
    """The level of benchframe's log: errors only with ``-q``, the steps with ``-v`` (details ``-vv``), else
    warnings (the default)."""
    verbose = getattr(args, "verbose", 0) or 0
    level = logging.ERROR if getattr(args, "quiet", False) else logging.DEBUG if verbose > 1 else \
        logging.INFO if verbose else logging.WARNING
    LOG.setLevel(level)


def commands_needed(argv: list[str]) -> tuple[str, ...] | None:
    """The commands whose parsers a run of ``argv`` needs: the one it names first, none for ``--version``
    alone, all (``None``) otherwise -- for ``--help``, a mistyped command (the error lists them), ``completion``."""
    if argv == ["--version"]:
        return ()
    names = {name for name, _ in COMMANDS}
    if argv and argv[0] in names and argv[0] not in WHOLE:
        return (argv[0],)
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names (default: the process's arguments); its exit status (see the module
    docstring). The user's Ctrl-C interrupts; a plugin's ``KeyboardInterrupt`` is the plugin's error."""
    previous = watch_sigint()  # a plugin's KeyboardInterrupt is its error, the user's Ctrl-C interrupts
    try:
        return _main(argv)
    finally:
        restore_sigint(previous)
        LOG.setLevel(logging.WARNING)  # the next command (a test's) starts from the default


def _main(argv: list[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(commands_needed(words))
    try:
        args = parser.parse_args(words)
        set_verbosity(args)
        args.argv = words
        args.root_parser = parser  # `completion` prints the whole parser; commands do not import this module
        status = args.main(args)
        from benchframe.plugins import get_registry  # after the command: it may have loaded them already

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
