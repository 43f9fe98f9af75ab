"""The imported trace: columns of events in a numpy ``.npz`` file.

Why ``.npz`` and not Parquet: numpy is already installed (scipy and matplotlib need it), while pyarrow would add
a 55 MB wheel (171 MB installed) to every install and CI run for a file of a few hundred KB. A trace's columns
are plain typed arrays (``events.COLUMNS``); the string columns (task names, gfp text, call sites, whole call
chains) repeat a few hundred values over tens of thousands of events, so they are dictionary-encoded: an id
column plus a table stored as one UTF-8 blob and its offsets. Nothing is pickled, so ``np.load`` reads the file
with ``allow_pickle=False``, and the zip entries carry a fixed date so the same trace gives the same bytes.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchframe import BenchframeError, __version__
from benchframe.io import check_file, write_atomic
from benchframe.trace.callsite import CallSites, context_of
from benchframe.trace.events import (
    COLUMNS,
    CONTEXT_CODE,
    EVENTS,
    NO_CALLCHAIN,
    STRING_TABLES,
    PageEvent,
    StackTrace,
)
from benchframe.trace.gfp import decode_gfp
from benchframe.trace.kmem import probe_events

SCHEMA = 1
SUFFIX = ".events.npz"
_TYPECODE = {"int64": "q", "int32": "i", "uint32": "I", "uint8": "B", "int8": "b"}
AWAIT_STACKS = 16
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the zip epoch: identical input, identical bytes


@dataclass
class TraceMeta:
    """What the import saw besides the events: where they came from and what was left out."""

    source: str  # the input file's name
    source_format: str  # "perf", "ftrace", "trace-cmd", or "perf.data through perf script" & co
    compression: str  # "", "xz", "gzip" or "bzip2"
    lines: int
    counts: dict[str, int]  # events kept, per tracepoint
    other_events: dict[str, int]  # events of other tracepoints, counted and ignored
    bad_lines: int  # skipped with --skip-bad
    lost_events: int  # ftrace's [LOST N EVENTS]: the ring buffer overflowed
    with_callchain: int  # events that came with a call chain
    allocator_frames: list[str] = field(default_factory=list)  # --allocator-frame additions
    schema: int = SCHEMA
    benchframe: str = __version__


@dataclass
class TraceEvents:
    """An imported trace: one array per column of ``events.COLUMNS`` (equal lengths) and the string tables."""

    time_ns: np.ndarray
    cpu: np.ndarray
    pid: np.ndarray
    comm_id: np.ndarray
    event: np.ndarray
    pfn: np.ndarray
    order: np.ndarray
    migratetype: np.ndarray
    gfp_id: np.ndarray
    percpu_refill: np.ndarray
    call_site_id: np.ndarray
    stack_id: np.ndarray
    context: np.ndarray
    comms: list[str]
    gfps: list[str]
    gfp_masks: np.ndarray  # uint64, one per gfps entry: the names decoded to the model's bits (trace.gfp)
    call_sites: list[str]
    stacks: list[str]  # ";"-joined symbols, innermost first; "" for no call chain
    meta: TraceMeta

    def __len__(self) -> int:
        return len(self.time_ns)

    def column(self, name: str) -> np.ndarray:
        return getattr(self, name)

    @property
    def has_callchains(self) -> bool:
        return self.meta.with_callchain > 0


class EventBuilder:
    """Collects parsed events into growing typed arrays (about 45 bytes an event), interning strings."""

    def __init__(self, call_sites: CallSites | None = None) -> None:
        self.call_sites = call_sites or CallSites()
        self._cols = {name: array(_TYPECODE[str(dtype)]) for name, dtype in COLUMNS.items()}
        self._ids: dict[str, dict[str, int]] = {table: {} for table in STRING_TABLES}
        self._chains: dict[tuple[str, ...] | None, tuple[int, int, int]] = {}
        # ftrace: per CPU, the latest events still waiting for their <stack trace> (index, event, pid, context
        # given); a few suffice, as only interrupts nested in a stack walk put events between an event and its stack
        self._awaiting: dict[int, list[tuple[int, int, int, bool]]] = {}
        self.with_callchain = 0

    def _intern(self, table: str, text: str) -> int:
        ids = self._ids[table]
        found = ids.get(text)
        if found is None:
            found = ids[text] = len(ids)
        return found

    def _chain(self, frames: tuple[str, ...] | None) -> tuple[int, int, int]:
        """(stack id, call-site id, context code) of a call chain, computed once per distinct chain."""
        known = self._chains.get(frames)
        if known is None:
            stack = self._intern("stacks", ";".join(frames) if frames is not None else "")
            site = self._intern("call_sites", self.call_sites.call_site(frames))
            known = self._chains[frames] = (stack, site, CONTEXT_CODE[context_of(frames)])
        return known

    def __len__(self) -> int:
        return len(self._cols["time_ns"])

    @staticmethod
    def problem(ev: PageEvent) -> str | None:
        """Why ``ev`` cannot be stored as it is (a field beyond its column's integer range), or None: stored
        numbers are never wrapped or clipped."""
        for name in ("time_ns", "cpu", "pid", "pfn", "order", "migratetype", "percpu_refill"):
            bounds = np.iinfo(COLUMNS[name])
            value = getattr(ev, name)
            if not bounds.min <= value <= bounds.max:
                return f"{name}={value} is out of range ({bounds.min} to {bounds.max})"
        return None

    def add(self, ev: PageEvent) -> None:
        c = self._cols
        stack, site, context = self._chain(ev.frames)
        if ev.frames is not None:
            self.with_callchain += 1
        if ev.context is not None:
            context = CONTEXT_CODE[ev.context]
        if ev.frames is None:
            waiting = self._awaiting.setdefault(ev.cpu, [])
            waiting.append((len(self), ev.event, ev.pid, ev.context is not None))
            if len(waiting) > AWAIT_STACKS:
                del waiting[0]
        c["time_ns"].append(ev.time_ns)
        c["cpu"].append(ev.cpu)
        c["pid"].append(ev.pid)
        c["comm_id"].append(self._intern("comms", ev.comm))
        c["event"].append(ev.event)
        c["pfn"].append(ev.pfn)
        c["order"].append(ev.order)
        c["migratetype"].append(ev.migratetype)
        c["gfp_id"].append(self._intern("gfps", ev.gfp))
        c["percpu_refill"].append(ev.percpu_refill)
        c["call_site_id"].append(site)
        c["stack_id"].append(stack)
        c["context"].append(context)

    def attach(self, st: StackTrace) -> bool:
        """Give ftrace's ``<stack trace>`` to its event: the latest of its CPU and task still without one, of a
        tracepoint its probe frame allows (``trace_event_raw_event_mm_page_alloc``). False if there is none (the
        stack of another tracepoint's event, or of an event the buffer lost)."""
        waiting = self._awaiting.get(st.cpu)
        if not waiting:
            return False
        events = probe_events(st.frames[0]) if st.frames else None
        for k in range(len(waiting) - 1, -1, -1):
            index, code, pid, context_given = waiting[k]
            if pid == st.pid and (events is None or code in events):
                del waiting[k]
                break
        else:
            return False
        stack, site, context = self._chain(st.frames)
        self._cols["stack_id"][index] = stack
        self._cols["call_site_id"][index] = site
        if not context_given:
            self._cols["context"][index] = context
        self.with_callchain += 1
        return True

    def build(self, meta: TraceMeta) -> TraceEvents:
        self._chain(None)  # NO_CALLCHAIN is always in the table, so a summary can name it
        cols: dict[str, Any] = {name: np.frombuffer(self._cols[name], dtype=dtype).copy()
                                for name, dtype in COLUMNS.items()}
        # dicts keep insertion (= id) order
        tables: dict[str, Any] = {table: list(ids) for table, ids in self._ids.items()}
        meta.with_callchain = self.with_callchain
        masks = np.array([decode_gfp(text).mask for text in tables["gfps"]], dtype=np.uint64)
        return TraceEvents(**cols, **tables, gfp_masks=masks, meta=meta)


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
