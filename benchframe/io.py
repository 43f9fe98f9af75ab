"""Input and result files. Inputs are read with one-line errors naming the file; results are written atomically
(write to a temporary file in the same directory, then rename), so an interrupted run never leaves a
half-written file, and with a stable layout so identical runs give identical bytes."""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import filelock

from benchframe import BenchframeError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pydantic import ValidationError

def schema_problem(exc: ValidationError) -> str:
    """The first problem a pydantic schema found, in one line: ``where: what, not <value>``."""
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in err["loc"])
    what = str(err["msg"]).removeprefix("Input ").removeprefix("Value error, ")
    if err["type"] == "missing":
        return f"{where}: missing"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    return f"{where}: {what}, not {err.get('input')!r}" if where else f"{what}, not {err.get('input')!r}"


def loads_json(text: str) -> Any:
    """JSON as the standard defines it: ``NaN`` and ``Infinity``, which Python's reader takes, are errors."""
    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")
    return json.loads(text, parse_constant=constant)


def read_text(path: str | Path, label: str = "") -> str:
    """The UTF-8 text of an input file; a missing, unreadable or binary file is a one-line error naming it."""
    path = Path(path)
    name = f"{label} {path}".strip()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BenchframeError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BenchframeError(f"{name}: not a UTF-8 text file") from None


def git_commit() -> str | None:
    """The commit of the benchframe source tree: the checkout the package runs from (editable install), else
    the current directory when it is a benchframe checkout (``pip install .`` from a clone); ``None`` if neither."""
    here = Path(__file__).resolve().parent.parent
    for root in (here, Path.cwd()):
        if not (root / ".git").exists() or not (root / "benchframe" / "__init__.py").exists():
            continue
        try:
            out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                 timeout=5, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return None


def dumps(doc: Any) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n"


def check_target(path: str | Path, option: str) -> None:
    """Before any work: one line if a result file could not be written at ``path`` later (its directory is
    missing, it is a directory, or nothing can be created there), so no run is wasted on a doomed write."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise BenchframeError(f"{option} {path}: directory {folder} does not exist")
    if path.is_dir():
        raise BenchframeError(f"{option} {path}: is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise BenchframeError(f"{option} {path}: cannot write there: {exc.strerror or exc}") from None


def write_atomic(path: str | Path, text: str | bytes) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace``; errors name the path."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise BenchframeError(f"cannot write {path}: directory {folder} does not exist")
    data = text.encode() if isinstance(text, str) else text
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise BenchframeError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600; a report is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise BenchframeError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


RENAME_EXCHANGE = 2  # linux/fs.h: renameat2() swaps the two names atomically
AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the C
    library or the file system cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    if fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _stale_temps(parent: Path, name: str) -> None:
    """Remove the temporary directories of earlier writers of ``name`` that were killed (their pid is gone)."""
    for tmp in parent.glob(f".{name}.new-*"):
        try:
            pid = int(tmp.name.removeprefix(f".{name}.new-").split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


def check_dir_target(dest: Path) -> Path:
    """Check, before any work, that ``atomic_dir`` can replace ``dest``; creates and returns its parent."""
    parent = dest.parent if str(dest.parent) else Path(".")
    where = f"--output {dest}"
    if dest.exists() and not dest.is_dir():
        raise BenchframeError(f"{where}: not a directory")
    if dest.is_dir():
        if Path.cwd().resolve().is_relative_to(dest.resolve()):
            raise BenchframeError(f"{where}: is the working directory (or holds it); the report directory is "
                                  "replaced whole, so name a directory of its own")
        subdirs = sorted(p.name for p in dest.iterdir() if p.is_dir())
        if subdirs:
            raise BenchframeError(f"{where}: holds directories ({', '.join(subdirs[:3])}); the report directory "
                                  "is replaced whole, so name an empty one or an earlier report's")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchframeError(f"{where}: cannot create directory: {exc.strerror or exc}") from None
    if not os.access(parent, os.W_OK):
        raise BenchframeError(f"{where}: directory {parent} is not writable")
    return parent


@contextmanager
def atomic_dir(dest: Path, artefact: Callable[[str], bool]) -> Iterator[Path]:
    """Write a directory whole: yields a new temporary directory beside ``dest`` to write into; on success the
    entries of the old ``dest`` that are not ``artefact``s of the writer (a README, say) are carried over and
    the new directory takes ``dest``'s place in one rename (``RENAME_EXCHANGE``; elsewhere two renames, between
    which ``dest`` is briefly absent). A reader sees the old directory or the new one, never a mix; a failure
    or an interrupt removes the temporary directory; after a kill -9 the next writer removes it.

    ``dest`` must not hold directories nor be the working directory (it is replaced whole)."""
    dest = Path(dest)
    parent = check_dir_target(dest)
    where = f"--output {dest}"
    try:
        _stale_temps(parent, dest.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-{os.getpid()}-", dir=parent))
    except OSError as exc:
        raise BenchframeError(f"{where}: cannot create directory: {exc.strerror or exc}") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; a report directory is an ordinary one
        yield tmp
        if dest.is_dir():
            for old in dest.iterdir():
                if not artefact(old.name) and not (tmp / old.name).exists():
                    shutil.copy2(old, tmp / old.name)
            if _exchange(tmp, dest):
                shutil.rmtree(tmp, ignore_errors=True)  # tmp now names the old directory
                return
            aside = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-{os.getpid()}-old-", dir=parent))
            os.rename(dest, aside / "old")
            os.rename(tmp, dest)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BenchframeError(f"{where}: cannot write the report: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
LOCK = ".benchframe.lock"
HOLDER = ".benchframe.lock.holder"


class DirectoryLock:
    """An exclusive lock on an output directory, so that two commands never write into one directory at once
    (the second fails in one line naming the first). ``filelock`` holds an OS lock on ``DIR/.benchframe.lock``
    (released by the kernel if the holder is killed, so a kill -9 leaves no stale lock); who holds it (pid,
    host, start time, command) is in ``DIR/.benchframe.lock.holder``, a separate file because opening the
    lock file to try it may truncate it. Both files go when the lock is released, so a finished command leaves
    the directory with its results only (the same bytes whoever ran it)."""

    def __init__(self, folder: Path, label: str):
        self.folder = folder
        self.label = label
        self.lock = filelock.FileLock(str(folder / LOCK), timeout=0)

    @property
    def held(self) -> bool:
        return bool(self.lock.is_locked)

    def acquire(self) -> None:
        try:
            self.lock.acquire()
        except filelock.Timeout:
            try:
                holder = (self.folder / HOLDER).read_text(encoding="utf-8").strip() or "unknown"
            except (OSError, UnicodeDecodeError):
                holder = "unknown"
            raise BenchframeError(f"{self.label} {self.folder}: another benchframe is writing there ({holder}); "
                                  "wait for it to finish or choose another directory") from None
        except OSError as exc:
            raise BenchframeError(f"{self.label} {self.folder}: cannot lock: {exc.strerror or exc}") from None
        started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        command = " ".join(["benchframe", *sys.argv[1:]]) if sys.argv else "?"
        write_atomic(self.folder / HOLDER, f"pid {os.getpid()} on {socket.gethostname()} since {started}: "
                                           f"{command}\n")

    def release(self) -> None:
        for name in (HOLDER, LOCK):  # while still held: a command that opened the file before keeps a lock
            (self.folder / name).unlink(missing_ok=True)  # on an inode nobody else will find, harmlessly
        self.lock.release()
