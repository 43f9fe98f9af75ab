"""The imported trace: columns of events in a numpy ``.npz`` file.

Why ``.npz`` and not Parquet: numpy is already installed (scipy and matplotlib need it), while pyarrow would add
a 55 MB wheel (171 MB installed) to every install and CI run for a file of a few hundred KB. A trace's columns
are plain typed arrays (``events.COLUMNS``); the string columns (task names, gfp text, call sites, whole call
chains) repeat a few hundred values over tens of thousands of events, so they are dictionary-encoded: an id
column plus a table stored as one UTF-8 blob and its offsets. Nothing is pickled, so ``np.load`` reads the file
with ``allow_pickle=False``, and the zip entries carry a fixed date so the same trace gives the same bytes.

The events in memory are ``benchframe.trace.table``; ``benchframe.trace.builder`` builds them. Their names are
re-exported here, where the importer, the commands and the tests have imported them from.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from benchframe import BenchframeError
from benchframe.io import check_file, write_atomic
from benchframe.trace.builder import EventBuilder
from benchframe.trace.events import COLUMNS, EVENTS, NO_CALLCHAIN, STRING_TABLES
from benchframe.trace.table import SCHEMA, TraceEvents, TraceMeta

__all__ = ["SCHEMA", "SUFFIX", "EventBuilder", "TraceEvents", "TraceMeta", "default_output", "encode_events",
           "load_events", "write_events"]

SUFFIX = ".events.npz"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the zip epoch: identical input, identical bytes


def default_output(source: str | Path) -> Path:
    """``loopback-tcp.perf.txt.xz`` -> ``./loopback-tcp.perf.txt.events.npz``: in the current directory (an input
    may sit in a read-only place, as ../shared/traces does), named after the input without its compression."""
    name = Path(source).name
    for ext in (".xz", ".gz", ".bz2"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return Path(name + SUFFIX)


def _blob(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _unblob(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = data.tobytes()
    return [raw[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(len(offsets) - 1)]


def encode_events(events: TraceEvents) -> bytes:
    """The ``.npz`` bytes of ``events``."""
    arrays: dict[str, np.ndarray] = {name: events.column(name) for name in COLUMNS}
    for table in STRING_TABLES:
        arrays[f"{table}.utf8"], arrays[f"{table}.offsets"] = _blob(getattr(events, table))
    arrays["gfp_masks"] = events.gfp_masks
    arrays["meta.json"] = np.frombuffer(json.dumps(asdict(events.meta), sort_keys=True).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def write_events(path: str | Path, events: TraceEvents) -> None:
    """Write atomically: an interrupted or failed write leaves no partial file."""
    write_atomic(path, encode_events(events))


#: what an events file may hold once decompressed: the arrays of an import's 20 million events, with room
MAX_EVENTS_BYTES = 2 << 30


def _check_archive(path: Path) -> None:
    """The .npz's members, bounded before numpy decompresses them: at most ``MAX_EVENTS_BYTES`` in all, and each
    array no larger than its member (a header claiming 10**12 elements would be allocated before it is read).
    A FIFO or a device is refused before numpy opens it."""
    if path.is_dir():
        raise BenchframeError(f"{path}: is a directory, not an imported trace")
    if not path.exists():
        return  # np.load below says so
    check_file(path, kind="events")
    if not zipfile.is_zipfile(path):
        raise BenchframeError(f"{path}: not a trace imported by 'benchframe trace import' (not an .npz archive: "
                              f"import a trace's text first, benchframe trace import {path})")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > MAX_EVENTS_BYTES:
                raise BenchframeError(f"{path}: more than {MAX_EVENTS_BYTES >> 30} GiB once decompressed, the bound "
                                      "of an events file")
            for m in members:
                with archive.open(m) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version not in ((1, 0), (2, 0)):
                        continue  # np.load below says what it makes of it
                    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                        np.lib.format.read_array_header_2_0
                    shape, _, dtype = read(fh)
                    if dtype.itemsize * math.prod(shape) > m.file_size:
                        raise BenchframeError(f"{path}: damaged events file: {m.filename} claims more than it holds")
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error):
        return  # np.load below names what is wrong


def load_events(path: str | Path) -> TraceEvents:
    """Read a file written by ``write_events``; anything else is a one-line error naming it."""
    path = Path(path)
    hint = "not a trace imported by 'benchframe trace import'"
    _check_archive(path)
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a lone .npy array
            raise ValueError("not an .npz archive")
        with loaded as npz:
            arrays = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise BenchframeError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BenchframeError(f"{path}: is a directory, not an imported trace") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise BenchframeError(f"{path}: {hint} ({exc})") from None
    try:
        meta_dict = json.loads(arrays["meta.json"].tobytes())
        if meta_dict.get("schema") != SCHEMA:
            raise BenchframeError(f"{path}: events file schema {meta_dict.get('schema')}, this benchframe reads "
                                  f"{SCHEMA}: import the trace again")
        meta = TraceMeta(**meta_dict)
        cols: dict[str, Any] = {name: arrays[name].astype(dtype, copy=False) for name, dtype in COLUMNS.items()}
        tables: dict[str, Any] = {t: _unblob(arrays[f"{t}.utf8"], arrays[f"{t}.offsets"]) for t in STRING_TABLES}
        masks = arrays["gfp_masks"]
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise BenchframeError(f"{path}: {hint} (missing or damaged {exc})") from None
    n = len(cols["time_ns"])
    if any(len(a) != n for a in cols.values()) or len(masks) != len(tables["gfps"]):
        raise BenchframeError(f"{path}: damaged events file: columns of different lengths")
    for column, table in (("comm_id", "comms"), ("gfp_id", "gfps"), ("call_site_id", "call_sites"),
                          ("stack_id", "stacks")):
        if n and int(cols[column].max()) >= len(tables[table]):
            raise BenchframeError(f"{path}: damaged events file: {column} beyond its table")
    if n and (int(cols["event"].max()) >= len(EVENTS)):
        raise BenchframeError(f"{path}: damaged events file: unknown event code")
    if NO_CALLCHAIN not in tables["call_sites"]:
        raise BenchframeError(f"{path}: damaged events file: call-site table")
    return TraceEvents(**cols, **tables, gfp_masks=masks, meta=meta)
