"""What several commands share: one spelling of each option (``--designs``, ``--seeds``, ``--profile``,
``--config``, ``--format``, executor and plugin options), the ``Setup`` they make, list and
parameter-grid parsing, the command line that reproduces a result, logging and the progress bar."""

from __future__ import annotations

import argparse
import logging
import math
import shlex
import sys
from itertools import product
from typing import TYPE_CHECKING, Any, NoReturn

from benchframe import BenchframeError
from benchframe.kconfig import DEFAULT_KERNEL, KERNELS, OPTIONS
from benchframe.output import FORMATS
from benchframe.remote import add_scheduler_options, tls_files
from benchframe.run.executors import DEFAULT_CELL_TIMEOUT, EXECUTORS
from benchframe.run.setup import Executor, Setup
from benchframe.run.spec import MAX_SEEDS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (and exit status 2) instead of usage + message: the
    command's name once (``benchframe: error: run: ...``), never ``benchframe: error: benchframe run: ...``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # what `benchframe completion` walks (argparse keeps its own lists private)
        self.arguments: list[argparse.Action] = []
        self.commands: dict[str, Parser] = {}
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """The bad argument as a ``BenchframeError`` (one line, exit 2), naming the command once."""
        command = self.prog.removeprefix("benchframe").strip()
        raise BenchframeError(f"{command}: {message}" if command else message)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """argparse's ``add_argument``, the action kept in ``arguments``; every value it takes is checked by
        ``given`` (no empty value, no NaN or infinity) whatever its type."""
        if kwargs.get("action", "store") in ("store", "append", "extend"):
            kwargs["type"] = given(kwargs.get("type") or str)
        action = super().add_argument(*args, **kwargs)
        self.arguments.append(action)
        return action

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction:
        """argparse's ``add_subparsers``, its parsers by name in ``commands``."""
        action = super().add_subparsers(**kwargs)
        self.commands = action.choices  # the same dict: name -> Parser, filled as commands are added
        return action


def given(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """``kind`` (an option's type: ``str``, ``int``, ``float``, a function) refusing what a user never means:
    an empty value (``--kernel ''``, never the default) and a number that is not finite (``--gap-us nan``)."""
    def convert(text: str) -> Any:
        if not text.strip():
            raise argparse.ArgumentTypeError("an empty value (leave the option out for its default)")
        value = kind(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        return value
    convert.__name__ = getattr(kind, "__name__", "value")  # argparse's "invalid int value: 'x'"
    return convert


LOG = logging.getLogger("benchframe")


class _Stderr(logging.Handler):
    """benchframe's log lines on the stderr of the moment (a test's capture too): ``benchframe: warning: ...``
    for a warning, ``benchframe: ...`` for a step (``-v``)."""

    def emit(self, record: logging.LogRecord) -> None:
        """Print ``record`` as one ``benchframe:`` line on the current ``sys.stderr``."""
        kind = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        print(f"benchframe: {kind}{record.getMessage()}", file=sys.stderr)


if not LOG.handlers:
    LOG.addHandler(_Stderr())
    LOG.setLevel(logging.WARNING)
    LOG.propagate = False


def warn(line: str) -> None:
    """One warning line on stderr: something given was taken otherwise than it was written (counted once);
    ``-q`` silences it."""
    LOG.warning(line)


def once(items: list[str], option: str) -> list[str]:
    """``items`` with each named once: a repeat would run (and count) the same thing twice; it is dropped with
    a warning."""
    kept = list(dict.fromkeys(items))
    if len(kept) < len(items):
        repeated = sorted({i for i in items if items.count(i) > 1})
        warn(f"{option}: {', '.join(repeated)} named more than once; each counted once")
    return kept


def add_designs_option(p: argparse.ArgumentParser, required: bool = False, default_help: str = "") -> None:
    """``--designs a,b`` (``--design`` too): design specs, repeatable and comma-separated."""
    p.add_argument("--designs", "--design", dest="designs", action="append", required=required, type=listed,
                   metavar="NAME[:opt=val],...",
                   help="design(s), comma-separated or repeated; options as NAME:key=value" +
                   (f" (default: {default_help})" if default_help else ""))


def add_seeds_option(p: argparse.ArgumentParser, default: str) -> None:
    """``--seeds 1,2,3`` (``--seed`` too; ``1-5`` is a range): the seeds to run."""
    p.add_argument("--seeds", "--seed", dest="seeds", action="append", metavar="N[,N...]|A-B", type=listed,
                   help=f"seeds to run, comma-separated or a range A-B (default: {default})")


def parse_seeds(values: list[str] | None, default: str) -> list[int]:
    """``["1,2", "5-7"]`` -> ``[1, 2, 5, 6, 7]`` (sorted; a seed named twice runs once, with a warning); one-line
    errors."""
    seeds: set[int] = set()
    named = 0
    for item in split(values) or split([default]):
        lo, dash, hi = item.partition("-")
        try:
            if dash and lo:
                first, last = int(lo), int(hi)
                if last < first:
                    raise ValueError
            else:
                first = last = int(item)
        except ValueError:
            raise BenchframeError(f"--seeds {item!r}: expected integers or a range A-B") from None
        if first < 0:  # random.Random(-s) is random.Random(s): the run of seed s, counted twice
            raise BenchframeError(f"--seeds {item}: a seed is a non-negative integer (seed {first} would repeat "
                                  f"seed {-first})")
        if last - first >= MAX_SEEDS:  # before the range is built
            raise BenchframeError(f"--seeds {item}: {last - first + 1} seeds is over the bound of {MAX_SEEDS}")
        seeds.update(range(first, last + 1))
        named += last - first + 1
    if len(seeds) > MAX_SEEDS:
        raise BenchframeError(f"--seeds: {len(seeds)} seeds is over the bound of {MAX_SEEDS}")
    if named > len(seeds):
        warn(f"--seeds: {named} seeds named, {len(seeds)} distinct; each runs once")
    return sorted(seeds)


def add_profile_option(p: argparse.ArgumentParser) -> None:
    """``--profile NAME_OR_FILE``: the cost profile."""
    p.add_argument("--profile", metavar="NAME_OR_FILE",
                   help="cost profile: a name from `benchframe list profiles` or a TOML file (default e5-1650v4)")


def add_config_option(p: argparse.ArgumentParser) -> None:
    """``--config OPTION``, repeatable: kernel CONFIG_ options."""
    p.add_argument("--config", action="append", metavar="OPTION", type=listed,
                   help=f"kernel config option(s), repeatable: {', '.join(OPTIONS)}")


def add_format_option(p: argparse.ArgumentParser, default: str | None = "md", default_help: str = "") -> None:
    """``--format``: one of the output stack's writers (``benchframe.output.FORMATS``); ``default`` ``None``: the
    command's own layout (``default_help`` says which), as it printed before it took ``--format``."""
    p.add_argument("--format", choices=list(FORMATS), default=default,
                   help=f"output format (default {default_help or default})")


def split(values: Iterable[Any] | None) -> list[str]:
    """Repeated and comma-separated option values, flattened: ``["a,b", "c"]`` -> ``["a", "b", "c"]``; an empty
    item (``a,,b``, ``,``) is an error, never a default."""
    out: list[str] = []
    for v in values or ():
        items = [x.strip() for x in str(v).split(",")]
        if not all(items):
            raise BenchframeError(f"{str(v)!r}: an empty item in a comma-separated list")
        out.extend(items)
    return out


def listed(text: str) -> str:
    """A comma-separated list as an option's type: the text, checked to hold no empty item (the error names
    the option)."""
    if not all(item.strip() for item in text.split(",")):
        raise argparse.ArgumentTypeError(f"{text!r}: an empty item in a comma-separated list")
    return text


def split_designs(values: Iterable[Any] | None) -> list[str]:
    """Design specs from repeated, comma-separated ``--design`` values, where a design's own options are
    comma-separated too: ``["array,llist:free=splice,x=1"]`` -> ``["array", "llist:free=splice,x=1"]`` (a
    piece with ``=`` and no ``:`` continues the design before it; design names never contain either)."""
    out: list[str] = []
    for piece in split(values):
        if "=" in piece and ":" not in piece and out and ":" in out[-1]:
            out[-1] += f",{piece}"
        else:
            out.append(piece)
    return once(out, "--designs")


def parse_params(values: list[str] | None) -> dict[str, list[str]]:
    """``["bulk=1,8,64", "cpus=2"]`` -> ``{"bulk": ["1", "8", "64"], "cpus": ["2"]}``."""
    params: dict[str, list[str]] = {}
    for item in values or ():
        key, eq, value = item.partition("=")
        key = key.strip()
        values_ = [v.strip() for v in value.split(",")]
        if not eq or not key or not all(values_):
            raise BenchframeError(f"--param {item!r}: expected key=value[,value...] (no empty value)")
        params.setdefault(key, []).extend(values_)
    return params


def param_grid(params: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of the parameters' values: ``{"a": ["1", "2"]}`` -> ``[{"a": "1"}, {"a": "2"}]``."""
    keys = list(params)
    return [dict(zip(keys, combo)) for combo in product(*(params[k] for k in keys))]


def add_executor_options(p: argparse.ArgumentParser) -> None:
    """``--jobs``, ``--executor``, ``--scheduler`` and its ``--tls-*`` files, ``--cell-timeout``."""
    p.add_argument("--jobs", type=int, metavar="N", help="local worker processes (default: cores)")
    p.add_argument("--executor", choices=list(EXECUTORS), default="process",
                   help="where cells run: local process pool (default), in-process, or a Dask cluster")
    add_scheduler_options(p)
    p.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS",
                   help=f"wall-clock limit of one cell: one still running after it is that cell's error "
                        f"(default {DEFAULT_CELL_TIMEOUT:g}; 0: no limit)")


def executor(args: argparse.Namespace) -> Executor:
    """Where the cells run, from the executor options (the defaults for a command without them)."""
    if not hasattr(args, "executor"):
        return Executor()
    return Executor(args.executor, args.jobs, args.scheduler, tls_files(args), args.cell_timeout)


def setup(args: argparse.Namespace, default_seeds: str = "1") -> Setup:
    """The command's ``Setup``, checked before anything runs: from ``--profile``, ``--config``, ``--kernel``,
    ``--plugin``, ``--seeds`` and the executor options, each at its default where the command has none."""
    seeds = parse_seeds(getattr(args, "seeds", None), default_seeds)
    where = executor(args)
    LOG.info("setup: profile %s, kernel %s, seeds %s, executor %s", getattr(args, "profile", None) or "default",
             kernel_arg(args), ",".join(map(str, seeds)), where.kind)
    return Setup.parse(profile=getattr(args, "profile", None), config=getattr(args, "config", None) or (),
                       kernel=kernel_arg(args), plugins=tuple(getattr(args, "plugin", ())),
                       seeds=seeds, executor=where)


def command_line(argv: list[str] | None) -> str:
    """The command that reproduces a result: ``benchframe`` and the arguments, quoted for a shell."""
    return "benchframe " + " ".join(shlex.quote(a) for a in (argv or []))


def kernel_arg(args: argparse.Namespace) -> str:
    """``--kernel``'s version (the default where it was not given)."""
    kernel = getattr(args, "kernel", None)
    return DEFAULT_KERNEL if kernel is None else kernel


def add_kernel_option(p: argparse.ArgumentParser) -> None:
    """``--kernel VERSION``: the kernel version the allocator paths follow."""
    p.add_argument("--kernel", metavar="VERSION",
                   help=f"kernel version the allocator follows: {', '.join(KERNELS)} (default {DEFAULT_KERNEL}; a "
                        "trace's replay: the version of the release its capture's header names)")


def add_plugin_option(p: argparse.ArgumentParser) -> None:
    """``--plugin MODULE_OR_PATH``, repeatable: a plugin that is not installed."""
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_PATH",
                   help="load a plugin module (importable name or .py path); repeatable")


class Progress:
    """A tqdm bar on a terminal, nothing in CI (stderr not a TTY) nor with ``-q``; ``update`` is ``None``
    without a bar."""

    def __init__(self, total: int | None, desc: str, unit: str = "run"):
        self.bar: Any = None
        if sys.stderr.isatty() and LOG.isEnabledFor(logging.WARNING):
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, desc=desc, leave=False)

    @property
    def update(self) -> Callable[[int], object] | None:
        """What to call with the number of cells done (``None`` without a bar)."""
        return self.bar.update if self.bar is not None else None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
