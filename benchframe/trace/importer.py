"""``benchframe trace import``: a perf script, ftrace or trace-cmd report text trace -- or a ``perf.data`` or
``trace.dat`` capture, through the text its tool prints -- streamed line by line into ``TraceEvents``.

The format is told from the first event line (perf: ``comm pid [cpu] time: kmem:event:``; ftrace:
``comm-pid [cpu] flags time: event:``; trace-cmd: the same after a ``cpus=N`` line), so a trace needs no
particular name. A malformed line stops the import
with its number, unless ``skip_bad`` counts it instead; events of other tracepoints are counted and ignored.
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchframe import BenchframeError
from benchframe.kconfig import kernel_for_release
from benchframe.trace import ftrace, perf
from benchframe.trace.callsite import CallSites
from benchframe.trace.events import (
    CONTEXTS,
    EVENTS,
    BadLine,
    LostEvents,
    MachineInfo,
    OtherEvent,
    PageEvent,
    Record,
    StackTrace,
)
from benchframe.trace.source import capture_at, compression_of, trace_lines
from benchframe.trace.store import EventBuilder, TraceEvents, TraceMeta

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from benchframe.trace.tools import Capture

#: lines read between two calls of an import's ``progress``
PROGRESS_LINES = 10_000
#: page events one import holds at most (about 45 bytes each while importing)
MAX_EVENTS = 20_000_000
SNIFF_LINES = 1000  # non-blank lines to look through for the first event line
PARSERS = {"perf": perf.parse, "ftrace": ftrace.parse, "trace-cmd": ftrace.parse}


def sniff(lines: Iterator[tuple[int, str]]) -> tuple[str, Iterator[tuple[int, str]]]:
    """The trace's format and the lines again (those read to tell it are replayed first)."""
    seen: list[tuple[int, str]] = []
    for number, line in lines:
        seen.append((number, line))
        if not line.strip() or line.startswith("#"):
            continue
        if ftrace.CPUS.match(line):
            return "trace-cmd", itertools.chain(seen, lines)
        if line[0] != "\t" and perf.HEADER.match(line):
            return "perf", itertools.chain(seen, lines)
        if ftrace.HEADER.match(line):
            return "ftrace", itertools.chain(seen, lines)
        if len(seen) >= SNIFF_LINES:
            break
    content = [(n, line) for n, line in seen if line.strip() and not line.startswith("#")]
    if not content:  # an empty file, or an ftrace header with no events under it
        raise BenchframeError("empty: no events in it" if seen else "empty file")
    first = content[0]
    raise BenchframeError(f"line {first[0]}: not perf script, ftrace or trace-cmd text (no event line such as "
                          f"'comm pid [cpu] time: kmem:mm_page_alloc: ...' in the first {len(seen)} lines): "
                          f"{_excerpt(first[1])}")


def _excerpt(line: str) -> str:
    return repr(line if len(line) <= 60 else line[:57] + "...")


def _counted(lines: Iterator[tuple[int, str]], last_line: list[int],
             progress: Callable[[int], object] | None) -> Iterator[tuple[int, str]]:
    """``lines``, the number of the last one read kept in ``last_line[0]``, ``progress`` told every
    ``PROGRESS_LINES``."""
    for item in lines:
        last_line[0] = item[0]
        if progress is not None and item[0] % PROGRESS_LINES == 0:
            progress(PROGRESS_LINES)
        yield item


def read_trace(path: str | Path, skip_bad: bool = False, allocator_frames: Iterable[str] = (),
               progress: Callable[[int], object] | None = None) -> TraceEvents:
    """Parse the trace at ``path`` (text plain, .gz or .xz; a perf.data or trace.dat) into columns, streaming;
    ``progress(n)`` is called with each ``PROGRESS_LINES`` lines read."""
    path = Path(path)
    capture = capture_at(path)
    call_sites = CallSites(allocator_frames)
    builder = EventBuilder(call_sites)
    counts: Counter[str] = Counter()
    other: Counter[str] = Counter()
    bad = lost = 0
    nrcpus = memory_kb = 0
    release = ""
    last_line = [0]
    with trace_lines(path) as numbered:
        try:
            fmt, lines = sniff(_counted(numbered, last_line, progress))
        except BenchframeError as exc:
            raise BenchframeError(f"{path}: {exc}") from None
        for parsed in PARSERS[fmt](lines):
            record = _storable(parsed, builder, path)
            if isinstance(record, PageEvent):
                builder.add(record)
                counts[EVENTS[record.event]] += 1
            elif isinstance(record, StackTrace):
                builder.attach(record)
            elif isinstance(record, OtherEvent):
                other[record.name] += 1
            elif isinstance(record, BadLine):
                if not skip_bad:
                    shown = f": {_excerpt(record.text)}" if record.text else ""
                    raise BenchframeError(f"{path}: line {record.line}: {record.reason}{shown} "
                                          "(--skip-bad to skip such lines)")
                bad += 1
            elif isinstance(record, LostEvents):
                lost += record.count
            elif isinstance(record, MachineInfo):
                nrcpus = record.nrcpus_online or nrcpus
                memory_kb = record.total_memory_kb or memory_kb
                release = record.os_release or release
    if not len(builder):
        what = f"; {sum(other.values())} events of other tracepoints ({_top(other)})" if other else ""
        skipped = f"; {bad} malformed lines skipped" if bad else ""
        raise BenchframeError(f"{path}: no page-allocation events (kmem:{'/'.join(EVENTS)}){what}{skipped}")
    meta = TraceMeta(source=path.name, source_format=_source_format(fmt, capture), compression=compression_of(path),
                     lines=last_line[0], counts={name: counts[name] for name in EVENTS},
                     other_events=dict(sorted(other.items())), bad_lines=bad, lost_events=lost, with_callchain=0,
                     allocator_frames=list(call_sites.extra), nrcpus_online=nrcpus, total_memory_kb=memory_kb,
                     os_release=release)
    return builder.build(meta)


def _storable(record: Record, builder: EventBuilder, path: Path) -> Record:
    """``record``, or the malformed line a page event is when a field is beyond its column's range; one event
    more than ``MAX_EVENTS`` is an error."""
    if not isinstance(record, PageEvent):
        return record
    why = builder.problem(record)
    if why:
        return BadLine(record.line, f"{EVENTS[record.event]}: {why}", "")
    if len(builder) >= MAX_EVENTS:
        raise BenchframeError(f"{path}: line {record.line}: more than {MAX_EVENTS:,} page events, the bound of one "
                              "import (about 1 GB in memory): split the trace")
    return record


def _replayed_on(release: str) -> str:
    """What the trace workload replays a capture of ``release`` on, unless ``--kernel`` says otherwise."""
    try:
        return f"replayed on the modelled {kernel_for_release(release).name} unless --kernel says otherwise"
    except BenchframeError as exc:  # a release older than every modelled one, or not a release
        return f"no modelled version stands for it ({exc}); replayed on --kernel's"


def _source_format(text_format: str, capture: Capture | None) -> str:
    """``"perf"``, ``"ftrace"``, ``"trace-cmd"``; a capture says which tool read it: ``"perf.data through perf
    script"``."""
    return f"{capture.name} through {capture.tool} {capture.args[0]}" if capture else text_format


def import_report(events: TraceEvents, output: Path) -> str:
    """What ``trace import`` prints: what was read, kept, ignored and written."""
    meta = events.meta
    n = len(events)
    how = f"{meta.source_format}{', ' + meta.compression if meta.compression else ''}, {meta.lines:,} lines"
    lines = [f"read {meta.source} ({how}): {n:,} page events",
             "  " + ", ".join(f"{name} {count:,}" for name, count in meta.counts.items())]
    contexts = np.bincount(events.context, minlength=len(CONTEXTS))
    told = ", ".join(f"{name} {int(contexts[code]):,}" for code, name in enumerate(CONTEXTS) if contexts[code])
    lines.append(f"  call chains on {meta.with_callchain:,} of {n:,} events; contexts: {told}")
    if meta.nrcpus_online or meta.total_memory_kb:
        said = [f"{meta.nrcpus_online} CPUs online"] if meta.nrcpus_online else []
        said += [f"{meta.total_memory_kb:,} kB of memory"] if meta.total_memory_kb else []
        lines.append(f"  the header says the machine had {' and '.join(said)}")
    if meta.os_release:
        lines.append(f"  it ran Linux {meta.os_release}: {_replayed_on(meta.os_release)}")
    if meta.with_callchain == 0:
        lines.append("  no call chains (record with perf -g, or ftrace's stacktrace option): call sites are "
                     "unknown, so a summary can only group by CPU and time")
    if meta.other_events:
        lines.append(f"  ignored {sum(meta.other_events.values()):,} events of other tracepoints: "
                     f"{_top(Counter(meta.other_events), 5)}")
    if meta.bad_lines:
        lines.append(f"  skipped {meta.bad_lines:,} malformed lines (--skip-bad)")
    if meta.lost_events:
        lines.append(f"  the trace says at least {meta.lost_events:,} events were lost (ring buffer full): runs across "
                     "those gaps are not complete")
    size = output.stat().st_size if output.exists() else 0
    lines.append(f"wrote {output} ({size / 1024:,.0f} KiB)")
    return "\n".join(lines)


def _top(counter: Counter[str], n: int = 3) -> str:
    return ", ".join(f"{name} {count}" for name, count in counter.most_common(n)) + (", ..." if len(counter) > n
                                                                                     else "")
