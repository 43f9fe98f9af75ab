"""The imported trace in memory: ``TraceEvents``, one typed array per column and the string tables, and its
``TraceMeta``, what the import saw besides the events (``benchframe.trace.store`` writes and reads them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchframe import __version__

if TYPE_CHECKING:
    import numpy as np

#: the events file schema a ``TraceMeta`` records (``load_events`` reads only this one)
SCHEMA = 1


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
    nrcpus_online: int = 0  # the machine's online CPUs, from the capture's header (0: it had none)
    total_memory_kb: int = 0  # the machine's memory in kB, from the capture's header (0: it had none)
    os_release: str = ""  # the kernel it ran (uname -r), from the capture's header ("": it had none)
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

