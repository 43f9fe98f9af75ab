"""ftrace text: ``/sys/kernel/tracing/trace`` (with its ``#`` header) or ``trace_pipe`` (without)::

            bash-3967    [000] ..s1.  1320.123299: mm_page_alloc: page=00000000e0890b84 pfn=0x11be3d order=0 ...
            bash-3967    [000] ..s1.  1320.132909: <stack trace>
     => trace_event_raw_event_mm_page_alloc
     => __alloc_frozen_pages_noprof

``TASK-PID`` (the task name may hold dashes and spaces: the pid is after the last dash), an optional
``(TGID)`` (``record-tgid``), ``[CPU]``, the irq-info flags (5 characters since 5.x' migrate-disable column, 4
before, absent with ``noirq-info``), the timestamp in seconds. The flags' third character is the context the
kernel recorded: ``s`` softirq, ``h``/``H`` hardirq, ``z``/``Z`` NMI, ``.`` or ``b`` (BH disabled) task.

``trace-cmd report`` prints the same lines after a ``cpus=N`` line, without the irq-info flags (``-l`` shows
them, in another layout), its stacks as ``kernel_stack: <stack trace >`` events whose frames are
``=> symbol (address)``, and lost events as ``CPU:N [M EVENTS DROPPED]``.

With the ``stacktrace`` option each event is followed by a ``<stack trace>`` record of ``=>`` frames. Records
of the CPUs are merged by time, so another CPU's event can come between an event and its stack; and an
interrupt taken while the stack is being walked records its own events and stacks first, so the stack can come
after other events of its own CPU (the store matches it by CPU, task and the probe frame that names the event).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from benchframe.trace.callsite import frame_symbol
from benchframe.trace.events import (
    EVENT_CODE,
    BadLine,
    LostEvents,
    MachineInfo,
    OtherEvent,
    PageEvent,
    Record,
    StackTrace,
)
from benchframe.trace.kmem import parse_fields, time_ns

if TYPE_CHECKING:
    from collections.abc import Iterator

HEADER = re.compile(
    r"^\s*(?P<comm>.*?)-(?P<pid>\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(?P<cpu>\d+)\]\s+(?:(?P<flags>\S{4,5})\s+)?"
    r"(?P<time>\d+\.\d+):\s+(?P<rest>.*)$"
)
# ftrace: "CPU:1 [LOST 20 EVENTS]"; trace-cmd: "CPU:1 [20 EVENTS DROPPED]", or without a count when unknown
LOST = re.compile(r"^CPU:\s*(?P<cpu>\d+) \[(?:LOST (?P<count>\d+) EVENTS|(?P<dropped>\d+ )?EVENTS DROPPED)\]")
CPUS = re.compile(r"^cpus=\d+$")  # the first line of trace-cmd report
# trace-cmd's frame: "=> alloc_pages_mpol (ffffffff81679516)"; ftrace's: " => alloc_pages_mpol"
FRAME_ADDRESS = re.compile(r"\s+\([0-9a-fA-F]+\)$")
CONTEXT_FLAG = {"s": "softirq", "h": "hardirq", "H": "hardirq", "z": "nmi", "Z": "nmi", ".": "task", "b": "task"}
STACK = ("<stack trace>", "kernel_stack:")
USER_STACK = ("<user stack trace>", "user_stack:")


def _machine(number: int, line: str) -> Iterator[Record]:
    """trace-cmd report's ``cpus=N`` line: the machine's CPUs."""
    if CPUS.match(line):
        yield MachineInfo(number, nrcpus_online=int(line.strip()[5:]))


def parse(lines: Iterator[tuple[int, str]]) -> Iterator[Record]:
    """Records of ftrace text in file order; a ``<stack trace>`` is yielded after its frames."""
    stack: StackTrace | None = None
    frames: list[str] = []
    skip_frames = False
    for number, line in lines:
        if line.startswith((" => ", "=> ")):
            if stack is not None:
                frames.append(frame_symbol(FRAME_ADDRESS.sub("", line.split("=> ", 1)[1].strip())))
            elif not skip_frames:
                yield BadLine(number, "a stack frame with no <stack trace> before it", line)
                skip_frames = True  # report an orphan chain once, not frame by frame
            continue
        if stack is not None:
            yield StackTrace(stack.line, stack.cpu, stack.pid, tuple(frames))
            stack, frames = None, []
        skip_frames = False
        if not line or line.isspace() or line.startswith("#") or CPUS.match(line):
            yield from _machine(number, line)
            continue
        header = HEADER.match(line)
        if header is None:
            lost = LOST.match(line)
            if lost is not None:
                count = lost["count"] or lost["dropped"]
                yield LostEvents(number, int(lost["cpu"]), int(count) if count else 1)  # unknown: at least one
            else:
                yield BadLine(number, "not an ftrace event line", line)
            continue
        rest = header["rest"]
        if rest.startswith(STACK):
            stack = StackTrace(number, int(header["cpu"]), int(header["pid"]), ())
        elif rest.startswith(USER_STACK):
            skip_frames = True
        else:
            yield _event(number, line, header)
    if stack is not None:
        yield StackTrace(stack.line, stack.cpu, stack.pid, tuple(frames))


def _event(number: int, line: str, header: re.Match[str]) -> Record:
    """The record of an event line: a page event, another tracepoint, or a malformed page event."""
    rest = header["rest"]
    name, colon, fields = rest.partition(":")
    code = EVENT_CODE.get(name) if colon else None
    if code is None:
        return OtherEvent(number, name if colon else rest.split(" ", 1)[0])
    try:
        pfn, order, migratetype, gfp, refill = parse_fields(code, fields)
    except ValueError as exc:
        return BadLine(number, f"{name}: {exc}", line)
    flags = header["flags"]
    context = CONTEXT_FLAG.get(flags[2]) if flags else None
    return PageEvent(number, time_ns(header["time"]), int(header["cpu"]), int(header["pid"]), header["comm"], code,
                     pfn, order, migratetype, gfp, refill, None, context)
