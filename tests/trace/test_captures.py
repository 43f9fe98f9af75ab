"""Traces as kernel developers have them: ``trace-cmd report`` text, ``trace.dat`` (through ``trace-cmd report``)
and ``perf.data`` (through ``perf script``). One workload was captured here by perf and ftrace at once
(``tests/data/traces/capture.sh``): every form of it must import to the events of its perf script text."""

from __future__ import annotations

import lzma
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchframe.cli import main
from benchframe.trace.events import COLUMNS, CONTEXTS, EVENTS
from benchframe.trace.importer import read_trace
from benchframe.trace.store import TraceEvents

DATA = Path(__file__).resolve().parents[1] / "data" / "traces"
CAPTURE = "loopback-anon-file"
KERNEL = "6.18.44-fc-v1272"  # `uname -r` where it was captured (perf report --header-only: os release)
# what each tracer stamps itself: the same clock, a few microseconds apart
OWN = {"time_ns", "stack_id", "comm_id", "gfp_id", "call_site_id"}
needs_perf = pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not on PATH (Debian: linux-perf)")
needs_trace_cmd = pytest.mark.skipif(shutil.which("trace-cmd") is None,
                                     reason="trace-cmd is not on PATH (Debian: trace-cmd; .ci/run installs it)")
same_kernel = pytest.mark.skipif(platform.release() != KERNEL, reason=f"perf script resolves the capture's kernel "
                                 f"addresses against the running kernel: {platform.release()}, not {KERNEL}")


def capture(form: str) -> Path:
    return DATA / f"{CAPTURE}.{form}.xz"


def rows(ev: TraceEvents, symbols: bool = True) -> list[tuple]:
    """Each event as the fields both tracers print alike (strings decoded), in the order of the file; without
    ``symbols``, none of what is found from the call chain (its call site and context)."""
    mine = OWN if symbols else OWN | {"context"}
    cols = [ev.column(c).tolist() for c in COLUMNS if c not in mine]
    strings = (ev.comms, ev.gfps, ev.call_sites) if symbols else (ev.comms, ev.gfps)
    ids = (ev.comm_id.tolist(), ev.gfp_id.tolist(), ev.call_site_id.tolist())
    decoded = [[table[i] for i in col] for table, col in zip(strings, ids)]
    return list(zip(*cols, *decoded))


@pytest.fixture(scope="module")
def perf_text() -> TraceEvents:
    return read_trace(capture("perf.txt"))


def test_the_capture_has_what_the_readme_says(perf_text):
    assert perf_text.meta.source_format == "perf" and len(perf_text) == 273
    assert perf_text.meta.counts == {"mm_page_alloc": 142, "mm_page_free": 66, "mm_page_free_batched": 64,
                                     "mm_page_alloc_zone_locked": 1, "mm_page_pcpu_drain": 0}
    orders = perf_text.order[perf_text.event == EVENTS.index("mm_page_alloc")]
    assert sorted(set(orders.tolist())) == [0, 3, 5]
    assert {"do_anonymous_page", "shmem_alloc_folio", "skb_page_frag_refill"} <= set(perf_text.call_sites)


@pytest.mark.parametrize("form", ["trace-cmd.txt", "ftrace.txt"])
def test_ftrace_captures_import_to_the_perf_script_events(perf_text, form):
    """ftrace saw the same events as perf: every field alike but the timestamp, which each tracer takes itself
    (perf's clock for both, microseconds apart), and the call chain's form (ftrace's starts in the tracepoint's
    probe, perf's goes on into user space) -- the call site, the context and the task found from it are alike."""
    ev = read_trace(capture(form))
    assert ev.meta.source_format == form.split(".")[0]
    assert rows(ev) == rows(perf_text)
    apart = np.abs(ev.time_ns - perf_text.time_ns)
    assert apart.max() < 200_000, apart.max()  # 0.2 ms: the same event, not a neighbour
    assert np.all(np.diff(ev.time_ns) >= 0) and ev.meta.with_callchain == len(ev)
    assert [CONTEXTS[c] for c in set(ev.context.tolist())] == ["task"]


@needs_trace_cmd
def test_trace_dat_imports_as_its_trace_cmd_report_text():
    dat = read_trace(capture("trace.dat"))
    text = read_trace(capture("trace-cmd.txt"))
    assert dat.meta.source_format == "trace.dat through trace-cmd report" and dat.meta.compression == "xz"
    assert_same_events(dat, text)  # trace.dat carries its kallsyms: the stacks are alike on any machine


@needs_perf
def test_perf_data_imports_as_its_perf_script_text(perf_text, tmp_path):
    plain = tmp_path / "capture.perf.data"
    plain.write_bytes(lzma.decompress(capture("perf.data").read_bytes()))
    for path in (capture("perf.data"), plain):
        ev = read_trace(path)
        assert ev.meta.source_format == "perf.data through perf script"
        assert rows(ev, symbols=False) == rows(perf_text, symbols=False)
        np.testing.assert_array_equal(ev.time_ns, perf_text.time_ns)


@needs_perf
@same_kernel
def test_perf_data_call_chains_as_its_perf_script_text(perf_text):
    assert_same_events(read_trace(capture("perf.data")), perf_text)


def assert_same_events(a: TraceEvents, b: TraceEvents) -> None:
    for name in COLUMNS:
        if not name.endswith("_id"):
            np.testing.assert_array_equal(a.column(name), b.column(name), err_msg=name)
    for column, table in (("comm_id", "comms"), ("gfp_id", "gfps"), ("call_site_id", "call_sites"),
                          ("stack_id", "stacks")):
        assert [getattr(a, table)[i] for i in a.column(column)] == [getattr(b, table)[i] for i in b.column(column)]


# ---- the tools: missing, failing, or a stand-in -----------------------------------------------------------------

def fake_tool(folder: Path, name: str, script: str) -> None:
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text(f"#!/bin/sh\n{script}\n")
    tool.chmod(0o755)


@pytest.mark.parametrize("form,tool", [("perf.data", "perf"), ("trace.dat", "trace-cmd")])
def test_a_missing_tool_is_a_one_line_error_naming_it(tmp_path, monkeypatch, capsys, form, tool):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "t.events.npz"
    assert main(["trace", "import", str(capture(form)), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"reading it needs '{tool}', which is not on PATH" in err, err
    assert f"'{tool} " in err and not out.exists()


def test_the_tool_text_is_streamed_and_its_failure_is_one_line(tmp_path, monkeypatch, capsys):
    """A stand-in ``perf`` shows the path: the capture's own file is handed to the tool (decompressed when it
    was compressed), its stdout parsed as perf script text, and a non-zero exit is an error with its last
    line of stderr, writing nothing."""
    bin_dir = tmp_path / "bin"
    text = tmp_path / "script.txt"
    text.write_bytes(lzma.decompress(capture("perf.txt").read_bytes()))
    fake_tool(bin_dir, "perf", f'[ "$1 $2" = "script -i" ] && head -c 8 "$3" | grep -q PERFILE2 && cat {text}')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    ev = read_trace(capture("perf.data"))
    assert len(ev) == 273 and ev.meta.source_format == "perf.data through perf script"

    fake_tool(bin_dir, "perf", "echo 'perf: warming up' >&2; echo 'incompatible file format' >&2; exit 3")
    out = tmp_path / "t.events.npz"
    assert main(["trace", "import", str(capture("perf.data")), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "perf script -i" in err and "failed (exit status 3): incompatible file" in err
    assert not out.exists()

    fake_tool(bin_dir, "perf", "exit 0")
    assert main(["trace", "import", str(capture("perf.data")), "-o", str(out)]) == 2
    assert "printed nothing" in capsys.readouterr().err and not out.exists()


def test_a_bad_line_stops_the_tool(tmp_path, monkeypatch):
    """The import stops at the first malformed line, and the tool still printing is ended, not waited for."""
    bin_dir = tmp_path / "bin"
    fake_tool(bin_dir, "trace-cmd", "echo cpus=2; echo 'garbage here'; exec sleep 60")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    dat = tmp_path / "trace.dat"
    dat.write_bytes(b"\x17\x08\x44tracing6\x00" + bytes(64))
    run = subprocess.run([sys.executable, "-m", "benchframe.cli", "trace", "import", str(dat), "-o",
                          str(tmp_path / "t.events.npz")], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "line 2" in run.stderr, run.stderr


def test_trace_cmd_report_variants(tmp_path):
    """trace-cmd's own lines: ``cpus=N``, ``EVENTS DROPPED`` with and without a count, kernel stacks with
    addresses, user stacks (skipped)."""
    text = """cpus=2
            bash-2215  [001]  5161.100001: mm_page_alloc:   page=0x1a2b pfn=0x1a2b order=0 migratetype=1 gfp_flags=0x0
            bash-2215  [001]  5161.100003: kernel_stack:         <stack trace >
=> trace_event_raw_event_mm_page_alloc (ffffffff815e4517)
=> __alloc_frozen_pages_noprof (ffffffff8163e0b7)
=> pte_alloc_one (ffffffff81349045)
            bash-2215  [001]  5161.100004: user_stack:           <user stack trace >
=> <00007f2a4b5e1d3c>
CPU:1 [12 EVENTS DROPPED]
            bash-2215  [001]  5161.100009: mm_page_free:         page=0x1a2b pfn=0x1a2b order=0
CPU:0 [EVENTS DROPPED]
"""
    path = tmp_path / "report.txt"
    path.write_text(text)
    ev = read_trace(path)
    assert ev.meta.source_format == "trace-cmd" and len(ev) == 2 and ev.meta.lost_events == 13
    assert ev.call_sites[ev.call_site_id[0]] == "pte_alloc_one"
    assert ev.stacks[ev.stack_id[0]].split(";")[-1] == "pte_alloc_one"

