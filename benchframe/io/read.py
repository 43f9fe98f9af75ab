"""Reading input files, bounded: every file benchframe reads whole (a profile, a sweep spec, a measurement CSV, a
result document, a sweep's manifest and cells, asv's results) goes through ``read_text``, which refuses what is
not a file (a directory, a device such as ``/dev/zero``, a socket) and what is larger than the bound of its kind
(``LIMITS``), in one line naming the file; a FIFO (``<(...)``, ``/dev/stdin`` on a pipe) is read up to the
same bound. ``load_json`` and ``parse_toml`` add the structure's bounds: nesting at most ``MAX_DEPTH`` levels
(deeper documents are refused instead of exhausting the interpreter's stack), integers of at most 4300 digits,
and for JSON only what the standard allows (no ``NaN``, no ``Infinity``)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchframe import BenchframeError

if TYPE_CHECKING:
    from pydantic import ValidationError

MiB = 1 << 20
#: the largest file of each kind, in bytes: far above any real one (a compare's results.json is 2 MB, the shipped
#: profiles 5 KB, the shipped measurements 10 KB), far below what would exhaust memory once parsed
LIMITS = {
    "profile": 1 * MiB,
    "sweep spec": 4 * MiB,
    "measurements": 16 * MiB,
    "result": 512 * MiB,
    "sweep cell": 16 * MiB,
    "sweep manifest": 64 * MiB,
    "asv result": 64 * MiB,
    "events": 2048 * MiB,
}
DEFAULT_LIMIT = 16 * MiB
#: nesting of JSON arrays/objects and TOML tables/arrays, at most (benchframe's own files nest 5 levels)
MAX_DEPTH = 32
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISREG, "a regular file"))


def kind_of(mode: int) -> str:
    """What a file of ``mode`` (``os.stat``'s ``st_mode``) is, in words: "a directory", "a character device"..."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


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


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB else f"{n} bytes"


def _too_large(name: str, limit: int, kind: str) -> BenchframeError:
    return BenchframeError(f"{name}: larger than {_size(limit)}, the bound for {kind or 'such'} files: not the "
                           "file meant?")


def read_bytes(path: str | Path, label: str = "", kind: str = "") -> bytes:
    """The bytes of an input file, at most ``LIMITS[kind]``; a missing, unreadable, non-file or larger one is a
    one-line error naming it (``label`` says what it is to the user: "profile", "--measurements")."""
    path = Path(path)
    name = f"{label} {path}".strip()
    limit = LIMITS.get(kind, DEFAULT_LIMIT)
    try:
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise BenchframeError(f"{name}: is {kind_of(mode)}, not a file")
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise BenchframeError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise _too_large(name, limit, kind)
    return data


def check_file(path: str | Path, label: str = "", kind: str = "") -> None:
    """For a file another library reads whole: a regular file within the bound of its kind, else a one-line
    error (nothing is opened, so a FIFO cannot block)."""
    name = f"{label} {path}".strip()
    limit = LIMITS.get(kind, DEFAULT_LIMIT)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise BenchframeError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise BenchframeError(f"{name}: is {kind_of(st.st_mode)}, not a file")
    if st.st_size > limit:
        raise _too_large(name, limit, kind)


def read_text(path: str | Path, label: str = "", kind: str = "") -> str:
    """The UTF-8 text of an input file (``read_bytes``: bounded, one-line errors); binary data is an error."""
    data = read_bytes(path, label, kind)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BenchframeError(f"{f'{label} {path}'.strip()}: not a UTF-8 text file") from None


def depth_problem(doc: Any, limit: int = MAX_DEPTH) -> str | None:
    """``None``, or why a parsed document nests too deep (walked without recursion)."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        if children and depth > limit:
            return f"nested deeper than {limit} levels"
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return None


def loads_json(text: str) -> Any:
    """JSON as the standard defines it (``NaN`` and ``Infinity``, which Python's reader takes, are errors), at
    most ``MAX_DEPTH`` levels deep; every problem a ``ValueError``."""
    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")
    try:
        doc = json.loads(text, parse_constant=constant)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    problem = depth_problem(doc)
    if problem:
        raise ValueError(problem)
    return doc


def load_json(path: str | Path, label: str = "", kind: str = "result") -> Any:
    """A JSON input file, bounded (``read_text``, ``loads_json``); errors in one line naming it."""
    text = read_text(path, label, kind)
    try:
        return loads_json(text)
    except ValueError as exc:
        raise BenchframeError(f"{f'{label} {path}'.strip()}: not valid JSON ({exc})") from None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text (of the file ``source``, which errors name), at most ``MAX_DEPTH`` levels deep."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BenchframeError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise BenchframeError(f"{source}: not valid TOML: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise BenchframeError(f"{source}: not valid TOML: {exc}") from None
    problem = depth_problem(data)
    if problem:
        raise BenchframeError(f"{source}: not valid TOML: {problem}")
    return data


def git_commit() -> str | None:
    """The commit of the benchframe source tree: the checkout the package runs from (editable install), else
    the current directory when it is a benchframe checkout (``pip install .`` from a clone); ``None`` if neither."""
    here = Path(__file__).resolve().parent.parent.parent
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
