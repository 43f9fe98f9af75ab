"""Binary captures, read through the tool that wrote them: ``perf.data`` through ``perf script`` and trace-cmd's
``trace.dat`` through ``trace-cmd report``.

Their formats are the tools' own (perf.data's sections and trace.dat's per-CPU ring-buffer pages, event formats
and kallsyms); the tools print them as the text the parsers read, so a capture imports to the same events as
the text its tool prints. The text is streamed from the tool's stdout, never held whole; the tool's stderr goes
to a temporary file, and a tool that fails is a one-line error with its last line. Symbols are the tool's to
resolve: ``perf script`` resolves kernel addresses against the running kernel (or its build-id cache), so a
``perf.data`` from another kernel is best converted where it was recorded; ``trace.dat`` carries its kallsyms.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from benchframe import BenchframeError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@dataclass(frozen=True)
class Capture:
    """A binary capture format: how to tell it (``magic``) and which tool prints it as text."""

    name: str  # the format's usual file name: "perf.data"
    magic: tuple[bytes, ...]
    tool: str  # the program, looked up on PATH
    args: tuple[str, ...]  # before the file's path
    package: str  # what to install for the tool

    def command(self, path: Path | str) -> str:
        return " ".join((self.tool, *self.args, str(path)))


CAPTURES = (
    # tools/perf/util/header.c: "PERFILE2" (and the old "PERFFILE"), the first 8 bytes of a perf.data
    Capture("perf.data", (b"PERFILE2", b"PERFFILE"), "perf", ("script", "-i"), "perf (Debian: linux-perf)"),
    # trace-cmd's trace-output.c: "\027\010\104tracing", then the file version
    Capture("trace.dat", (b"\x17\x08\x44tracing",), "trace-cmd", ("report", "-i"), "trace-cmd"),
)


def capture_of(head: bytes) -> Capture | None:
    """The capture format whose magic ``head`` (a file's first bytes) starts with, or None (text)."""
    return next((c for c in CAPTURES if head.startswith(c.magic)), None)


@contextmanager
def tool_lines(path: Path, capture: Capture, readable: Path | None = None) -> Iterator[Iterator[tuple[int, str]]]:
    """Yield ``(line_number, line)`` of the text ``capture.tool`` prints for ``readable`` (default ``path``; a
    decompressed copy when the capture was compressed); errors name ``path``."""
    program = shutil.which(capture.tool)
    if program is None:
        raise BenchframeError(f"{path}: a {capture.name} capture: reading it needs '{capture.tool}', which is not on "
                              f"PATH (install {capture.package}, or import the text of "
                              f"'{capture.command(path)}' made where it is)")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([program, *capture.args, str(readable or path)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=err)
        try:
            assert proc.stdout is not None
            text = io.TextIOWrapper(proc.stdout, encoding="utf-8", errors="replace")
            yield _checked(text, proc, err, f"{path}: '{capture.command(path)}'")
        finally:
            if proc.poll() is None:  # the import stopped early (a bad line): the rest is not wanted
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _checked(text: io.TextIOWrapper, proc: subprocess.Popen[bytes], err: IO[bytes], what: str
             ) -> Iterator[tuple[int, str]]:
    """The tool's lines, then its exit status: a failure (a damaged capture) is an error with its last word."""
    number = 0
    for number, line in enumerate(text, 1):
        yield number, line.rstrip("\n")
    status = proc.wait()
    if status != 0:
        err.seek(0)
        said = [line.strip() for line in err.read().decode("utf-8", "replace").splitlines() if line.strip()]
        raise BenchframeError(f"{what} failed (exit status {status}){': ' + said[-1] if said else ''}")
    if number == 0:
        raise BenchframeError(f"{what} printed nothing: no events in the capture")
