"""A trace file as a stream of numbered text lines: plain, gzip, xz (or bzip2), never read whole into memory.

Compression is told from the file's magic bytes, not its name, so a ``.txt`` that is really xz still reads.
Everything that can go wrong with the file itself (missing, binary, a ``perf.data`` not yet converted, corrupt
or truncated compressed data) is a one-line ``BenchframeError`` naming the file and, once reading has started,
the line.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from benchframe import BenchframeError

if TYPE_CHECKING:
    from collections.abc import Iterator

_MAGIC = ((b"\xfd7zXZ\x00", "xz"), (b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"))
_DECOMPRESS_ERRORS = (EOFError, lzma.LZMAError, gzip.BadGzipFile, zlib.error, OSError)


def compression_of(path: Path) -> str:
    """``"xz"``, ``"gzip"``, ``"bzip2"`` or ``""`` (plain) from the first bytes of ``path``."""
    try:
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


@contextmanager
def trace_lines(path: str | Path) -> Iterator[Iterator[tuple[int, str]]]:
    """Yield an iterator of ``(line_number, line)`` (1-based, newline stripped) over the text of ``path``.

    Memory stays bounded by the io buffers whatever the file's size.
    """
    path = Path(path)
    kind = compression_of(path)
    label = f"{kind} data" if kind else "data"
    raw = _open_binary(path, kind)
    try:
        try:
            head = raw.peek(4096)[:4096] if hasattr(raw, "peek") else b""
        except _DECOMPRESS_ERRORS as exc:
            raise BenchframeError(f"{path}: corrupt or truncated {label}: {exc}") from None
        if head.startswith((b"PERFILE2", b"PERFFILE")):
            raise BenchframeError(f"{path}: a perf.data file, not text: convert it first with "
                                  f"'perf script -i {path} > {path.name}.txt'")
        if b"\0" in head:
            raise BenchframeError(f"{path}: binary data, not a perf script or ftrace text trace")
        # errors="replace": a task name is bytes to the kernel and need not be UTF-8; one odd comm should not
        # reject a whole trace (binary files were refused above)
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
        yield _numbered(text, path, label)
    finally:
        raw.close()


def _numbered(text: io.TextIOWrapper, path: Path, label: str) -> Iterator[tuple[int, str]]:
    number = 0
    try:
        for number, line in enumerate(text, 1):
            yield number, line.rstrip("\n")
    except _DECOMPRESS_ERRORS as exc:
        raise BenchframeError(f"{path}: line {number + 1}: corrupt or truncated {label}: {exc}") from None
