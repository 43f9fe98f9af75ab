"""``perf script`` text: one header line per sample, then (with ``perf record -g``) its call chain, one frame a
line, and a blank line::

    perf 18424 [001]  3137.339045:             kmem:mm_page_alloc: page=0x18aa75 pfn=0x18aa75 order=0 ...
    \tffffffff8162184b __alloc_frozen_pages_noprof+0x26b ([kernel.kallsyms])
    \tffffffff8165add6 alloc_pages_mpol+0x86 ([kernel.kallsyms])

Without call chains the headers follow each other (and perf pads the task name to 16 columns). Also read:
``pid/tid`` (``-F tid,pid``), a sample period before the event name, and ``--ns`` timestamps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from benchframe.trace.callsite import frame_symbol
from benchframe.trace.events import EVENT_CODE, BadLine, OtherEvent, PageEvent, Record
from benchframe.trace.kmem import parse_fields, time_ns

HEADER = re.compile(
    r"^\s*(?P<comm>.*?)\s+(?P<pid>-?\d+)(?:/(?P<tid>-?\d+))?\s+\[(?P<cpu>\d+)\]\s+(?P<time>\d+\.\d+):"
    r"\s+(?:\d+\s+)?(?P<event>\S+):(?:\s+(?P<fields>.*))?$"
)
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
    current: PageEvent | None = None
    frames: list[str] = []
    skipping = False  # inside the chain of an event that is not ours (or of a bad header)
    for number, line in lines:
        if not line or line.isspace():
            if current is not None:
                current.frames = tuple(frames) if frames else None
                yield current
                current, frames = None, []
            skipping = False
            continue
        if line[0] == "\t":  # perf's frames are tab-indented: try them first, they are most of the lines
            frame = FRAME.match(line)
            if frame is not None:
                if current is not None:
                    frames.append(frame_symbol(frame["sym"]))
                elif not skipping:
                    yield BadLine(number, "a call-chain frame with no event before it", line)
                    skipping = True
                continue
        if line.startswith("#"):  # perf script --header
            continue
        header = HEADER.match(line)
        if header is None:
            frame = FRAME.match(line) if line[0] == " " else None  # space-indented frames
            if frame is not None and current is not None:
                frames.append(frame_symbol(frame["sym"]))
            elif frame is None or not skipping:
                yield BadLine(number, "not a perf script event line or call-chain frame", line)
                skipping = True
            continue
        if current is not None:  # a trace without call chains: the next header ends the event
            current.frames = tuple(frames) if frames else None
            yield current
            current, frames = None, []
        name, code = event_name(header["event"])
        if code is None:
            yield OtherEvent(number, name)
            skipping = True
            continue
        try:
            pfn, order, migratetype, gfp, refill = parse_fields(code, header["fields"] or "")
        except ValueError as exc:
            yield BadLine(number, f"{name}: {exc}", line)
            skipping = True
            continue
        skipping = False
        current = PageEvent(number, time_ns(header["time"]), int(header["cpu"]), int(header["tid"] or header["pid"]),
                            header["comm"], code, pfn, order, migratetype, gfp, refill)
    if current is not None:
        current.frames = tuple(frames) if frames else None
        yield current
