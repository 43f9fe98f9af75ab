"""Writing results: the one place every output file and report directory is written.

A file is written atomically (a temporary file in the same directory, then a rename), so an interrupted run
never leaves a half-written file, and with a stable layout so identical runs give identical bytes. Only what
is nothing yet or a regular file is replaced: a target that is a directory, a device (``/dev/full``), a FIFO or
a socket is refused in one line saying what it is, before any work (``check_target``) and again just before
the rename. A symbolic link keeps its meaning: the file it points to is replaced (in that file's directory)
and the link stays a link; a link to nothing, or to something that is not a regular file, is refused. A
replaced file keeps its permissions. A report directory (``atomic_dir``) is replaced whole, a symbolic link
to a directory likewise through the link.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError
from benchframe.io.read import kind_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def dumps(doc: Any) -> str:
    """JSON with a stable layout (sorted keys, one space of indent, a final newline, no NaN)."""
    return json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n"


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def replaced_by(path: Path, option: str = "") -> Path:
    """The file a result written at ``path`` replaces or creates: ``path``, or the file its symbolic link names.
    A one-line error if that is not a regular file (nor nothing yet), saying what it is."""
    where = f"{option} {path}".strip()
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise BenchframeError(f"{where}: cannot write there: {exc.strerror or exc}") from None
    if stat.S_ISLNK(mode):
        real = Path(os.path.realpath(path))
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise BenchframeError(f"{where}: is a symbolic link to nothing ({os.readlink(path)}); refusing to "
                                  "create a file through it") from None
        except OSError as exc:
            raise BenchframeError(f"{where}: is a symbolic link that cannot be followed: {exc.strerror or exc}") \
                from None
        if not stat.S_ISREG(mode):
            raise BenchframeError(f"{where}: is a symbolic link to {kind_of(mode)} ({real}); benchframe replaces "
                                  "only regular files")
        return real
    if not stat.S_ISREG(mode):
        raise BenchframeError(f"{where}: is {kind_of(mode)}; benchframe replaces only regular files")
    return path


def check_target(path: str | Path, option: str) -> None:
    """Before any work: one line if a result file could not be written at ``path`` later (its directory is
    missing, it is a directory, a device, a FIFO or a socket, or nothing can be created there), so no run is
    wasted on a doomed write."""
    path = Path(path)
    folder = _folder(path)
    if not folder.is_dir():
        raise BenchframeError(f"{option} {path}: directory {folder} does not exist")
    real = replaced_by(path, option)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=_folder(real))
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise BenchframeError(f"{option} {path}: cannot write there: {exc.strerror or exc}") from None


def write_atomic(path: str | Path, text: str | bytes, option: str = "") -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace`` (through a symbolic link: to the file
    it names); what is not a regular file is refused (``replaced_by``); errors name the path."""
    path = Path(path)
    if not _folder(path).is_dir():
        raise BenchframeError(f"cannot write {path}: directory {_folder(path)} does not exist")
    real = replaced_by(path, option)
    data = text.encode() if isinstance(text, str) else text
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=_folder(real))
    except OSError as exc:
        raise BenchframeError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, _mode(real))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        replaced_by(real, option)  # again: something else may have appeared there while the work ran
        os.replace(tmp, real)
    except OSError as exc:
        _unlink(tmp)
        raise BenchframeError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _unlink(tmp)
        raise


def _mode(real: Path) -> int:
    """The permissions of the file being replaced, else an ordinary file's (mkstemp creates 0600)."""
    try:
        return stat.S_IMODE(os.stat(real).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _unlink(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


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


def report_dir(dest: Path) -> Path:
    """The directory a report written at ``dest`` replaces or creates: ``dest``, or the directory its symbolic
    link names (the link stays a link). A one-line error if ``dest`` is something else."""
    where = f"--output {dest}"
    if dest.is_symlink():
        if not dest.exists():
            raise BenchframeError(f"{where}: is a symbolic link to nothing ({os.readlink(dest)}); refusing to "
                                  "create a directory through it")
        real = Path(os.path.realpath(dest))
        if not real.is_dir():
            raise BenchframeError(f"{where}: is a symbolic link to {kind_of(real.stat().st_mode)} ({real}), not "
                                  "a directory")
        return real
    if dest.exists() and not dest.is_dir():
        raise BenchframeError(f"{where}: is {kind_of(dest.stat().st_mode)}, not a directory")
    return dest


def check_dir_target(dest: Path) -> Path:
    """Check, before any work, that ``atomic_dir`` can replace ``dest``; creates and returns its parent (that of
    the directory a symbolic link names)."""
    where = f"--output {dest}"
    dest = report_dir(dest)
    parent = _folder(dest)
    if dest.is_dir():
        if Path.cwd().resolve().is_relative_to(dest.resolve()):
            raise BenchframeError(f"{where}: is the working directory (or holds it); the report directory is "
                                  "replaced whole, so name a directory of its own")
        subdirs = sorted(p.name for p in dest.iterdir() if p.is_dir())
        if subdirs:
            raise BenchframeError(f"{where}: holds directories ({', '.join(subdirs[:3])}); the report directory "
                                  "is replaced whole, so name an empty one or an earlier report's")
        special = sorted(p.name for p in dest.iterdir() if not p.is_symlink() and not p.is_file())
        if special:
            raise BenchframeError(f"{where}: holds {special[0]}, {kind_of(os.lstat(dest / special[0]).st_mode)}, "
                                  "which a report directory cannot carry over when it is replaced")
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

    ``dest`` must not hold directories nor be the working directory (it is replaced whole); a symbolic link to a
    directory is followed (the directory it names is replaced, the link stays); symbolic links in it are carried
    over as links."""
    where = f"--output {dest}"
    parent = check_dir_target(Path(dest))
    dest = report_dir(Path(dest))
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
                    shutil.copy2(old, tmp / old.name, follow_symlinks=False)
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
