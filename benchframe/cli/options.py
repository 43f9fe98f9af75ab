"""What several commands share: list options, parameter grids, executor and plugin options, the output
directory check and the progress bar."""

from __future__ import annotations

import argparse
import os
import sys
from itertools import product
from typing import TYPE_CHECKING, Any, NoReturn

from benchframe import BenchframeError
from benchframe.kconfig import DEFAULT_KERNEL, KERNELS
from benchframe.run.executors import DEFAULT_CELL_TIMEOUT, EXECUTORS, TLSFiles, check_executor

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (and exit status 2) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        raise BenchframeError(f"{self.prog}: {message}")


def split(values: Iterable[Any] | None) -> list[str]:
    """Repeated and comma-separated option values, flattened: ``["a,b", "c"]`` -> ``["a", "b", "c"]``."""
    out: list[str] = []
    for v in values or ():
        out.extend(x.strip() for x in str(v).split(",") if x.strip())
    return out


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
    return out


def parse_params(values: list[str] | None) -> dict[str, list[str]]:
    """``["bulk=1,8,64", "cpus=2"]`` -> ``{"bulk": ["1", "8", "64"], "cpus": ["2"]}``."""
    params: dict[str, list[str]] = {}
    for item in values or ():
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise BenchframeError(f"--param {item!r}: expected key=value[,value...]")
        params.setdefault(key, []).extend(v.strip() for v in value.split(",") if v.strip())
    return params


def param_grid(params: dict[str, list[str]]) -> list[dict[str, str]]:
    keys = list(params)
    return [dict(zip(keys, combo)) for combo in product(*(params[k] for k in keys))]


def add_executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=int, default=0, metavar="N", help="local worker processes (default: cores)")
    p.add_argument("--executor", choices=list(EXECUTORS), default="process",
                   help="where cells run: local process pool (default), in-process, or a Dask cluster")
    p.add_argument("--scheduler", metavar="tls://HOST:PORT", help="Dask scheduler address (implies dask); "
                   "tls:// with the --tls-* files encrypts, tcp:// does not (trust the scheduler like a plugin)")
    p.add_argument("--tls-ca-file", metavar="PEM", help="CA certificate the tls:// scheduler's is signed by")
    p.add_argument("--tls-cert", metavar="PEM", help="this client's certificate for a tls:// scheduler")
    p.add_argument("--tls-key", metavar="PEM", help="its private key (if not in --tls-cert)")
    p.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS",
                   help=f"wall-clock limit of one cell: one still running after it is that cell's error "
                        f"(default {DEFAULT_CELL_TIMEOUT:g}; 0: no limit)")


def tls_files(args: argparse.Namespace) -> TLSFiles:
    return TLSFiles(args.tls_ca_file, args.tls_cert, args.tls_key)


def check_executor_args(args: argparse.Namespace) -> None:
    """The executor options' one-line errors, before the command creates or runs anything."""
    check_executor(args.jobs or None, args.executor, args.scheduler, args.cell_timeout, tls_files(args))


def add_kernel_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kernel", default=DEFAULT_KERNEL, metavar="VERSION",
                   help=f"kernel version the allocator follows: {', '.join(KERNELS)} (default {DEFAULT_KERNEL})")


def add_plugin_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_PATH",
                   help="load a plugin module (importable name or .py path); repeatable")


def check_output_dir(out_dir: Path) -> None:
    """Create ``--output`` if needed; one-line errors when it cannot be created or written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchframeError(f"--output {out_dir}: cannot create directory: {exc.strerror or exc}") from None
    if not os.access(out_dir, os.W_OK):
        raise BenchframeError(f"--output {out_dir}: directory is not writable")


class Progress:
    """A tqdm bar on a terminal, nothing in CI (stderr not a TTY); ``update`` is ``None`` without a bar."""

    def __init__(self, total: int, desc: str):
        self.bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="run", desc=desc, leave=False)

    @property
    def update(self) -> Callable[[int], object] | None:
        return self.bar.update if self.bar is not None else None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
