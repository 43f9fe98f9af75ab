"""The output lock: two commands never write one output at once; the second fails in one line naming the first.

``OutputLock`` holds an OS lock (``flock``) on a lock file that also says who holds it (pid, host, start time,
command). The kernel releases it if the holder dies, so a ``kill -9`` leaves no stale lock. Taking the lock and
writing the holder's line are one step to everybody else: both happen under a short second lock on the folder
that holds the lock file, the same one a command takes before it reads the line of a lock it could not take
(and before the holder removes the file on release). So the line a refused command prints is always the
holder's, never an empty or missing one, however loaded the machine.

Where the lock file is: inside a directory that commands write into (a sweep's, ``DIR/.benchframe.lock``),
beside a file or a report directory that is replaced whole (``PARENT/.NAME.benchframe.lock``). The file goes
when the lock is released: a finished command leaves its results only.
"""

from __future__ import annotations

import datetime
import fcntl
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from benchframe import BenchframeError

if TYPE_CHECKING:
    from collections.abc import Iterator

LOCK = ".benchframe.lock"
#: seconds to wait for the folder's short lock (held for the microseconds of a take, read or release)
GUARD_WAIT = 30.0


@contextmanager
def _folder_locked(folder: Path, where: str) -> Iterator[None]:
    """``folder`` locked (``flock`` on the directory itself) for one short step."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise BenchframeError(f"{where}: cannot lock: {exc.strerror or exc}") from None
    try:
        waited = time.monotonic() + GUARD_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > waited:
                    raise BenchframeError(f"{where}: cannot lock: {folder} stayed locked for {GUARD_WAIT:g} s (a "
                                          "stopped benchframe?)") from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # releases the flock


class OutputLock:
    """An exclusive claim on an output: ``lock_file`` is where the lock lives (see the module docstring);
    ``label`` and ``target`` name the output in the error (``--output DIR``)."""

    def __init__(self, lock_file: Path, label: str, target: Path):
        self.lock_file = lock_file
        self.where = f"{label} {target}"
        self.fd: int | None = None

    @classmethod
    def inside(cls, folder: Path, label: str) -> OutputLock:
        """The lock of a directory commands write into (``DIR/.benchframe.lock``)."""
        return cls(folder / LOCK, label, folder)

    @classmethod
    def beside(cls, target: Path, label: str) -> OutputLock:
        """The lock of a file or directory replaced whole (``PARENT/.NAME.benchframe.lock``)."""
        absolute = Path(os.path.abspath(target))
        return cls(absolute.parent / f".{absolute.name}{LOCK}", label, target)

    @property
    def held(self) -> bool:
        return self.fd is not None

    def acquire(self) -> None:
        """Take the lock and write who holds it, or fail in one line naming the holder."""
        folder = self.lock_file.parent
        with _folder_locked(folder, self.where):
            try:
                fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise BenchframeError(f"{self.where}: cannot lock: {exc.strerror or exc}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown"
                os.close(fd)
                raise BenchframeError(f"{self.where}: another benchframe is writing there ({holder}); wait for it "
                                      "to finish or choose another") from None
            started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
            command = " ".join(["benchframe", *sys.argv[1:]]) if sys.argv else "?"
            line = f"pid {os.getpid()} on {socket.gethostname()} since {started}: {command}\n".encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, line, 0)
            self.fd = fd

    def release(self) -> None:
        """Remove the lock file and let go (under the folder's lock: nobody opens the file in between)."""
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            with _folder_locked(self.lock_file.parent, self.where):
                self.lock_file.unlink(missing_ok=True)
        except (BenchframeError, OSError):  # the folder went (or stays locked): nobody can be waiting in it
            pass
        finally:
            os.close(fd)  # lets go of the lock (on a file nobody can open any more)

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
