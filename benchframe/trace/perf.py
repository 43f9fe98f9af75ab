"""``perf script`` text: one header line per sample, then (with ``perf record -g``) its call chain, one frame a
line, and a blank line::

    perf 18424 [001]  3137.339045:             kmem:mm_page_alloc: page=0x18aa75 pfn=0x18aa75 order=0 ...
    \tffffffff8162184b __alloc_frozen_pages_noprof+0x26b ([kernel.kallsyms])
    \tffffffff8165add6 alloc_pages_mpol+0x86 ([kernel.kallsyms])

Without call chains the headers follow each other (and perf pads the task name to 16 columns). Also read:
``pid/tid`` (``-F tid,pid``), a sample period before the event name, and ``--ns`` timestamps; of the ``# ...``
lines ``perf script --header`` prints first, the machine's ``nrcpus online`` and ``total memory``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from benchframe.trace.callsite import frame_symbol
from benchframe.trace.events import EVENT_CODE, BadLine, MachineInfo, OtherEvent, PageEvent, Record
from benchframe.trace.kmem import parse_fields, time_ns

if TYPE_CHECKING:
    from collections.abc import Iterator

HEADER = re.compile(
    r"^\s*(?P<comm>.*?)\s+(?P<pid>-?\d+)(?:/(?P<tid>-?\d+))?\s+\[(?P<cpu>\d+)\]\s+(?P<time>\d+\.\d+):"
    r"\s+(?:\d+\s+)?(?P<event>\S+):(?:\s+(?P<fields>.*))?$"
)
# perf script --header: "# nrcpus online : 2", "# total memory : 12235412 kB", "# os release : 6.18.0"
NRCPUS_ONLINE = re.compile(r"^#\s*nrcpus online\s*:\s*(\d+)\s*$")
TOTAL_MEMORY = re.compile(r"^#\s*total memory\s*:\s*(\d+)\s*kB\s*$")
OS_RELEASE = re.compile(r"^#\s*os release\s*:\s*(\S+)\s*$")
# "\tffffffff8162184b __alloc_frozen_pages_noprof+0x26b ([kernel.kallsyms])"
FRAME = re.compile(r"^\s+(?P<addr>[0-9a-fA-F]+)\s+(?P<sym>.*?)(?:\s+\((?P<dso>[^()]*)\))?\s*$")


def event_name(name: str) -> tuple[str, int | None]:
    """``"kmem:mm_page_alloc"`` -> ``("kmem:mm_page_alloc", EVENT_CODE)``; another event's code is None."""
    subsystem, _, short = name.rpartition(":")
    if subsystem in ("kmem", ""):
        return name, EVENT_CODE.get(short)
    return name, None


def parse(lines: Iterator[tuple[int, str]]) -> Iterator[Record]:
    """Records of ``perf script`` text, in file order; a page event is yielded once its call chain has ended."""
    state = _Chain()
    for number, line in lines:
        if not line or line.isspace():
            yield from state.end()
            state.skipping = False
            continue
        frame = FRAME.match(line) if line[0] == "\t" else None  # perf's frames: most of the lines, try them first
        if frame is not None:
            yield from state.frame(number, line, frame, "a call-chain frame with no event before it")
            continue
        if line.startswith("#"):  # perf script --header: the machine's CPUs and memory are kept
            info = header_info(number, line)
            if info is not None:
                yield info
            continue
        header = HEADER.match(line)
        if header is None:
            frame = FRAME.match(line) if line[0] == " " else None  # space-indented frames
            if frame is None:
                yield BadLine(number, "not a perf script event line or call-chain frame", line)
                state.skipping = True
            else:
                yield from state.frame(number, line, frame, "not a perf script event line or call-chain frame")
            continue
        yield from state.end()  # a trace without call chains: the next header ends the event
        record = _event(number, line, header)
        if isinstance(record, PageEvent):
            state.current, state.skipping = record, False
        else:
            yield record
            state.skipping = True
    yield from state.end()


def header_info(number: int, line: str) -> MachineInfo | None:
    """The machine's online CPUs, total memory or kernel release (``uname -r``) from a ``perf script --header``
    line; None for another line."""
    found = NRCPUS_ONLINE.match(line)
    if found:
        return MachineInfo(number, nrcpus_online=int(found.group(1)))
    found = TOTAL_MEMORY.match(line)
    if found:
        return MachineInfo(number, total_memory_kb=int(found.group(1)))
    found = OS_RELEASE.match(line)
    if found:
        return MachineInfo(number, os_release=found.group(1))
    return None


class _Chain:
    """The page event whose call chain is being read, its frames, and whether to skip orphan frames (those of
    an event that is not ours, or after a bad line: reported once, not frame by frame)."""

    def __init__(self) -> None:
        self.current: PageEvent | None = None
        self.frames: list[str] = []
        self.skipping = False

    def frame(self, number: int, line: str, frame: re.Match[str], orphan: str) -> Iterator[Record]:
        if self.current is not None:
            self.frames.append(frame_symbol(frame["sym"]))
        elif not self.skipping:
            yield BadLine(number, orphan, line)
            self.skipping = True

    def end(self) -> Iterator[Record]:
        if self.current is not None:
            self.current.frames = tuple(self.frames) if self.frames else None
            yield self.current
            self.current, self.frames = None, []


def _event(number: int, line: str, header: re.Match[str]) -> Record:
    """The record of an event header line: a page event (its call chain follows), another tracepoint, or a
    malformed page event."""
    name, code = event_name(header["event"])
    if code is None:
        return OtherEvent(number, name)
    try:
        pfn, order, migratetype, gfp, refill = parse_fields(code, header["fields"] or "")
    except ValueError as exc:
        return BadLine(number, f"{name}: {exc}", line)
    return PageEvent(number, time_ns(header["time"]), int(header["cpu"]), int(header["tid"] or header["pid"]),
                     header["comm"], code, pfn, order, migratetype, gfp, refill)
