"""A trace file as a stream of numbered text lines: plain, gzip, xz (or bzip2), never read whole into memory;
a binary capture (``perf.data``, ``trace.dat``, compressed or not) as the text its tool prints (``tools.py``).

Compression and captures are told from the file's magic bytes, not its name, so a ``.txt`` that is really xz
still reads. Everything that can go wrong with the file itself (missing, binary, a capture whose tool is not
installed or fails, corrupt or truncated compressed data) is a one-line ``BenchframeError`` naming the file
and, once reading has started, the line.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import shutil
import stat
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from benchframe import BenchframeError
from benchframe.io import kind_of
from benchframe.trace.tools import Capture, capture_of, tool_lines

if TYPE_CHECKING:
    from collections.abc import Iterator

_MAGIC = ((b"\xfd7zXZ\x00", "xz"), (b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"))
_DECOMPRESS_ERRORS = (EOFError, lzma.LZMAError, gzip.BadGzipFile, zlib.error, OSError)


def compression_of(path: Path) -> str:
    """``"xz"``, ``"gzip"``, ``"bzip2"`` or ``""`` (plain) from the first bytes of ``path``; what is not a
    regular file (a device, a FIFO: read twice here) is a one-line error."""
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            raise BenchframeError(f"{path}: is {kind_of(mode)}, not a trace file")
        with open(path, "rb") as fh:
            head = fh.read(6)
    except IsADirectoryError:
        raise BenchframeError(f"{path}: is a directory, not a trace file") from None
    except OSError as exc:
        raise BenchframeError(f"{path}: cannot read: {exc.strerror or exc}") from None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return ""


def _open_binary(path: Path, kind: str) -> BinaryIO:
    if kind == "xz":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _head(raw: BinaryIO, path: Path, label: str) -> bytes:
    try:
        return raw.peek(4096)[:4096] if hasattr(raw, "peek") else b""
    except _DECOMPRESS_ERRORS as exc:
        raise BenchframeError(f"{path}: corrupt or truncated {label}: {exc}") from None


def capture_at(path: str | Path) -> Capture | None:
    """The binary capture format of ``path`` (compressed or not), None for text."""
    path = Path(path)
    kind = compression_of(path)
    with _open_binary(path, kind) as raw:
        return capture_of(_head(raw, path, f"{kind} data" if kind else "data"))


@contextmanager
def trace_lines(path: str | Path) -> Iterator[Iterator[tuple[int, str]]]:
    """Yield an iterator of ``(line_number, line)`` (1-based, newline stripped) over the text of ``path``, or of
    what its tool prints for a binary capture.

    Memory stays bounded by the io buffers whatever the file's size.
    """
    path = Path(path)
    kind = compression_of(path)
    label = f"{kind} data" if kind else "data"
    raw = _open_binary(path, kind)
    try:
        head = _head(raw, path, label)
        capture = capture_of(head)
        if capture is not None:
            with _readable(raw, path, kind, capture) as readable, tool_lines(path, capture, readable) as lines:
                yield lines
            return
        if b"\0" in head:
            raise BenchframeError(f"{path}: binary data, not a trace: neither perf script, ftrace or trace-cmd "
                                  "text nor a perf.data or trace.dat capture")
        # errors="replace": a task name is bytes to the kernel and need not be UTF-8; one odd comm should not
        # reject a whole trace (binary files were refused above)
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
        yield _numbered(text, path, label)
    finally:
        raw.close()


@contextmanager
def _readable(raw: BinaryIO, path: Path, kind: str, capture: Capture) -> Iterator[Path]:
    """The capture as a file its tool can open: ``path`` itself, or a decompressed temporary copy."""
    if not kind:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="benchframe-trace-") as tmp:
        copy = Path(tmp) / capture.name
        try:
            with open(copy, "wb") as out:
                shutil.copyfileobj(raw, out)
        except _DECOMPRESS_ERRORS as exc:
            raise BenchframeError(f"{path}: corrupt or truncated {kind} data: {exc}") from None
        yield copy


#: the longest line a trace may have (a perf call chain is one line per frame; an ftrace line is under 1 KiB)
MAX_LINE = 1 << 20


def _numbered(text: io.TextIOWrapper, path: Path, label: str) -> Iterator[tuple[int, str]]:
    number = 0
    try:
        while line := text.readline(MAX_LINE + 1):
            number += 1
            if len(line) > MAX_LINE:
                raise BenchframeError(f"{path}: line {number}: longer than {MAX_LINE // 1024} KiB: not a trace")
            yield number, line.rstrip("\n")
    except _DECOMPRESS_ERRORS as exc:
        raise BenchframeError(f"{path}: line {number + 1}: corrupt or truncated {label}: {exc}") from None
