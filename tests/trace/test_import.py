"""``benchframe trace import``: perf script and ftrace text, plain or compressed, into the columnar events file."""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from benchframe import BenchframeError
from benchframe.cli import main
from benchframe.trace.callsite import ALLOCATOR_FRAMES, CallSites, context_of, frame_symbol
from benchframe.trace.events import COLUMNS, CONTEXTS, EVENTS, NO_CALLCHAIN, STRING_TABLES
from benchframe.trace.gfp import decode_gfp
from benchframe.trace.importer import read_trace
from benchframe.trace.store import TraceEvents, default_output, encode_events, load_events, write_events

DATA = Path(__file__).resolve().parents[1] / "data" / "traces"
REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "traces"

# ../shared/traces/README.md: mm_page_alloc, mm_page_free, free_batched, alloc_zone_locked, orders of mm_page_alloc
SHARED_COUNTS = {
    "loopback-tcp.perf.txt.xz": ({"mm_page_alloc": 16_997, "mm_page_free": 16_490, "mm_page_free_batched": 5_564,
                                  "mm_page_alloc_zone_locked": 156, "mm_page_pcpu_drain": 0},
                                 {0: 7_128, 1: 56, 2: 42, 3: 9_714, 4: 33, 5: 24}),
    "pagecache-write-read.perf.txt.xz": ({"mm_page_alloc": 638, "mm_page_free": 630, "mm_page_free_batched": 524,
                                          "mm_page_alloc_zone_locked": 32, "mm_page_pcpu_drain": 0},
                                         {0: 605, 1: 1, 8: 32}),
}


def count_by(events: TraceEvents, column: str, code: int = 0) -> dict[int, int]:
    values = events.column(column)[events.event == code]
    return {int(v): int(n) for v, n in zip(*np.unique(values, return_counts=True))}


def assert_same(a: TraceEvents, b: TraceEvents) -> None:
    for name in COLUMNS:
        np.testing.assert_array_equal(a.column(name), b.column(name), err_msg=name)
    for table in STRING_TABLES:
        assert getattr(a, table) == getattr(b, table), table
    np.testing.assert_array_equal(a.gfp_masks, b.gfp_masks)
    assert (a.meta.counts, a.meta.other_events, a.meta.with_callchain) == (
        b.meta.counts, b.meta.other_events, b.meta.with_callchain)


# ---- the shared captures (the acceptance numbers) ---------------------------------------------------------------

@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared traces are not here ({SHARED}): they live beside the "
                    "repository, not in it, and a clean checkout without ../shared has only the excerpts")
@pytest.mark.parametrize("name", sorted(SHARED_COUNTS))
def test_shared_trace_counts_match_its_readme_from_xz_and_from_text(name, tmp_path):
    counts, orders = SHARED_COUNTS[name]
    from_xz = read_trace(SHARED / name)
    assert from_xz.meta.counts == counts
    assert count_by(from_xz, "order") == orders
    assert from_xz.meta.bad_lines == 0 and from_xz.meta.other_events == {}
    assert from_xz.meta.with_callchain == len(from_xz)  # captured with -g: every event has its chain
    text = tmp_path / name.removesuffix(".xz")
    with lzma.open(SHARED / name) as src, open(text, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert_same(from_xz, read_trace(text))


# ---- perf script -------------------------------------------------------------------------------------------------

def test_perf_with_call_chains_finds_call_sites_and_contexts():
    ev = read_trace(DATA / "loopback-tcp.perf.txt")
    assert ev.meta.source_format == "perf" and ev.meta.with_callchain == len(ev) == 80
    assert ev.meta.counts == {"mm_page_alloc": 53, "mm_page_free": 25, "mm_page_free_batched": 0,
                              "mm_page_alloc_zone_locked": 2, "mm_page_pcpu_drain": 0}
    alloc = ev.event == 0
    sites = {ev.call_sites[i] for i in ev.call_site_id[alloc & (ev.order == 3)]}
    assert sites == {"skb_page_frag_refill", "__filemap_get_folio"}
    # the first event's header, read from the text independently of the parser
    first = (DATA / "loopback-tcp.perf.txt").read_text().split("\n", 1)[0]
    comm, pid, cpu, seconds = re.match(r"(\S+)\s+(\d+)\s+\[(\d+)\]\s+(\d+\.\d+):", first).groups()
    assert ev.comms[ev.comm_id[0]] == comm and ev.pid[0] == int(pid) and ev.cpu[0] == int(cpu)
    assert ev.time_ns[0] == round(float(seconds) * 1e9)
    # napi_consume_skb frees run in net_rx_action, a softirq
    softirq = ev.context == CONTEXTS.index("softirq")
    assert softirq.sum() == 18 and set(ev.event[softirq]) == {1}
    assert "handle_softirqs" in ev.stacks[ev.stack_id[softirq][0]].split(";")


def test_perf_call_site_is_the_first_frame_outside_the_allocator():
    ev = read_trace(DATA / "loopback-exec.perf.txt")
    stacks = [ev.stacks[i].split(";") for i in ev.stack_id]
    for frames, site in zip(stacks, ev.call_site_id):
        outside = [f for f in frames if f not in ALLOCATOR_FRAMES]
        assert ev.call_sites[site] == outside[0]
    assert set(ev.context) == {CONTEXTS.index("task")}


def test_perf_without_call_chains_says_so():
    ev = read_trace(DATA / "nocallchain.perf.txt")
    assert len(ev) == 150 and ev.meta.with_callchain == 0
    assert set(ev.call_site_id) == {ev.call_sites.index(NO_CALLCHAIN)}
    assert set(ev.context) == {CONTEXTS.index("unknown")}  # nothing in the trace tells
    assert count_by(ev, "order") == {0: 75, 1: 2, 2: 1, 3: 2, 4: 2, 5: 2}
    assert ev.comms[ev.comm_id[0]] in {"python3", "perf", "bash", "swapper", "perf-exec"}  # padded names trimmed


def test_perf_variants_and_5x_names():
    ev = read_trace(DATA / "handmade.perf.txt")
    assert ev.meta.other_events == {"sched:sched_switch": 1}
    assert [ev.call_sites[i] for i in ev.call_site_id] == ["foo_irq_handler", "do_anonymous_page", "release_pages"]
    assert [CONTEXTS[c] for c in ev.context] == ["hardirq", "task", "task"]
    assert list(ev.pid) == [0, 4243, 4243]  # the tid of pid/tid
    assert list(ev.time_ns) == [100_000_000_100, 100_000_000_200, 100_000_000_400]  # --ns, exact
    assert list(ev.pfn) == [-1, 0x100000, 0x100000]  # page=(nil): the allocation failed
    assert list(ev.migratetype) == [0, 1, -1]


def test_order8_page_cache_folios():
    ev = read_trace(DATA / "pagecache-write.perf.txt")
    assert count_by(ev, "order") == {0: 15, 8: 3}
    assert count_by(ev, "percpu_refill", 3) == {0: 3}
    order8 = {ev.call_sites[i] for i in ev.call_site_id[(ev.event == 0) & (ev.order == 8)]}
    assert order8 == {"__filemap_get_folio"}


# ---- ftrace --------------------------------------------------------------------------------------------------

def test_ftrace_stacks_find_their_events():
    ev = read_trace(DATA / "stacktrace.ftrace.txt")
    text = (DATA / "stacktrace.ftrace.txt").read_text()
    assert ev.meta.source_format == "ftrace"
    assert len(ev) == len(re.findall(r"\] \S+ +\d+\.\d+: mm_page_", text)) == 46
    # every <stack trace> but one found its event; the events softirq left without a stack say so
    assert ev.meta.with_callchain == text.count("<stack trace>") == 16
    # the alloc whose stack came after the softirq frees that interrupted its walk got it (get_free_pages via
    # tlb_next_batch), not the frees before it
    late = [i for i in range(len(ev)) if ev.pid[i] == 4052 and ev.event[i] == 0]
    assert [ev.call_sites[ev.call_site_id[i]] for i in late] == ["tlb_next_batch", "tlb_remove_table"]
    # the kernel's irq-info flags give the context even without a stack
    flagged = re.findall(r"\] \S\S(\S)\S\S +\d+\.\d+: mm_page_", text)
    assert [CONTEXTS[c] for c in ev.context] == [{"s": "softirq", ".": "task"}[f] for f in flagged]


def test_ftrace_trace_pipe_and_noirqinfo():
    pipe = read_trace(DATA / "trace_pipe.ftrace.txt")
    assert len(pipe) == 121 and pipe.meta.with_callchain == 0
    assert {CONTEXTS[c] for c in pipe.context} == {"task", "softirq"}
    plain = read_trace(DATA / "noirqinfo.ftrace.txt")
    assert len(plain) == 34 and set(plain.context) == {CONTEXTS.index("unknown")}


def test_ftrace_variants():
    ev = read_trace(DATA / "handmade.ftrace.txt")
    assert [EVENTS[e] for e in ev.event] == ["mm_page_alloc", "mm_page_alloc", "mm_page_pcpu_drain", "mm_page_alloc",
                                            "mm_page_free_batched", "mm_page_alloc_zone_locked"]
    assert [ev.comms[i] for i in ev.comm_id[:3]] == ["<idle>", "Web Content", "kworker/u8:2-events"]
    assert list(ev.pid[:3]) == [0, 1234, 77]
    assert ev.pfn[0] == 1221168 and ev.pfn[1] == -1  # decimal pfn; page=0000000000000000 failed
    assert [CONTEXTS[c] for c in ev.context] == ["softirq", "task", "task", "hardirq", "softirq", "softirq"]
    # the pcpu_drain stack starts in the mm_page class probe; the sched_switch stack is not given to anyone
    assert ev.call_sites[ev.call_site_id[2]] == "process_one_work" and ev.meta.with_callchain == 1
    assert ev.meta.lost_events == 17 and ev.meta.other_events == {"sched_switch": 1}
    assert ev.gfps[ev.gfp_id[3]] == "GFP_ATOMIC|0x4000000"


# ---- compressed input, the file format, determinism ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["loopback-tcp.perf.txt", "stacktrace.ftrace.txt", "nocallchain.perf.txt"])
def test_xz_gzip_bzip2_and_plain_give_the_same_events(name, tmp_path):
    plain = DATA / name
    data = plain.read_bytes()
    (tmp_path / f"{name}.xz").write_bytes(lzma.compress(data))
    (tmp_path / f"{name}.gz").write_bytes(gzip.compress(data))
    (tmp_path / "renamed.txt").write_bytes(bz2.compress(data))  # told by its magic, not its name
    expected = read_trace(plain)
    for path in (tmp_path / f"{name}.xz", tmp_path / f"{name}.gz", tmp_path / "renamed.txt"):
        assert_same(read_trace(path), expected)


def test_events_file_round_trip_and_is_deterministic(tmp_path):
    ev = read_trace(DATA / "loopback-tcp.perf.txt")
    write_events(tmp_path / "a.events.npz", ev)
    back = load_events(tmp_path / "a.events.npz")
    assert_same(back, ev)
    assert back.meta == ev.meta
    assert encode_events(read_trace(DATA / "loopback-tcp.perf.txt")) == (tmp_path / "a.events.npz").read_bytes()
    with np.load(tmp_path / "a.events.npz", allow_pickle=False) as npz:  # plain arrays: no pickle needed
        assert {"time_ns", "call_site_id", "stacks.utf8", "meta.json"} <= set(npz.files)
    for name, dtype in COLUMNS.items():
        assert back.column(name).dtype == dtype


def test_default_output_is_named_after_the_input_in_the_current_directory():
    assert default_output("/x/y/loopback-tcp.perf.txt.xz") == Path("loopback-tcp.perf.txt.events.npz")
    assert default_output("trace.txt") == Path("trace.txt.events.npz")


def test_import_is_streamed_not_read_whole(tmp_path):
    """Peak Python memory stays a small fraction of the text: the parser holds one event, the store ~40 B each."""
    big = tmp_path / "big.perf.txt"
    chunk = (DATA / "loopback-tcp.perf.txt").read_bytes()
    with open(big, "wb") as fh:
        for _ in range(30):
            fh.write(chunk)
    tracemalloc.start()
    try:
        ev = read_trace(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(ev) == 80 * 30
    assert peak < big.stat().st_size / 4, f"peak {peak} for a {big.stat().st_size}-byte trace"


# ---- gfp flags, call sites, contexts -------------------------------------------------------------------------------

def test_gfp_bits_are_the_models():
    from benchframe.mm import page
    from benchframe.trace import gfp

    for name in ("__GFP_MOVABLE", "__GFP_RECLAIMABLE", "__GFP_HIGH", "__GFP_ATOMIC", "__GFP_ZERO",
                 "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_NOWARN", "__GFP_NORETRY", "__GFP_IO",
                 "__GFP_FS", "GFP_ATOMIC", "GFP_KERNEL"):
        assert getattr(gfp, name) == getattr(page, name), name
    for name, mask in page.GFP_NAMES.items():
        assert decode_gfp(name).mask == mask


def test_gfp_decode_keeps_what_it_does_not_know():
    g = decode_gfp("GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP")
    assert g.mask == decode_gfp("GFP_KERNEL|__GFP_ZERO").mask and g.unknown == ("__GFP_COMP",)
    assert decode_gfp("GFP_HIGHUSER_MOVABLE").mask & 0x08  # __GFP_MOVABLE: gfp_migratetype() says movable
    assert decode_gfp("GFP_ATOMIC|0x4000000").unknown == ("0x4000000",)
    assert decode_gfp("none").mask == 0 and decode_gfp("").unknown == ()


def test_frame_symbols_and_contexts():
    assert frame_symbol("alloc_pages_mpol+0x86") == "alloc_pages_mpol"
    assert frame_symbol("do_execveat_common.isra.0+0x11c") == "do_execveat_common"
    assert frame_symbol("__alloc_pages+0x1a3/0x2c0") == "__alloc_pages"
    assert frame_symbol("vfree.part.0") == "vfree"
    # innermost first: a softirq run on interrupt exit is softirq; a task preempted on interrupt exit is a task
    assert context_of(["free_pages", "rcu_do_batch", "handle_softirqs", "__irq_exit_rcu",
                       "sysvec_apic_timer_interrupt"]) == "softirq"
    assert context_of(["__free_pages", "__mmdrop", "finish_task_switch", "__schedule", "preempt_schedule_irq",
                       "irqentry_exit", "asm_sysvec_apic_timer_interrupt"]) == "task"
    assert context_of(["alloc_pages", "my_handler", "__sysvec_call_function_single"]) == "hardirq"
    assert context_of(["alloc_pages", "do_anonymous_page"]) == "task"
    assert context_of(None) == "unknown"


def test_allocator_frames_are_extendable(tmp_path):
    assert CallSites().call_site(["__alloc_pages", "my_wrapper", "caller"]) == "my_wrapper"
    assert CallSites(["my_wrapper"]).call_site(["__alloc_pages", "my_wrapper", "caller"]) == "caller"
    ev = read_trace(DATA / "loopback-tcp.perf.txt", allocator_frames=["skb_page_frag_refill"])
    assert "skb_page_frag_refill" not in ev.call_sites and "sk_page_frag_refill" in ev.call_sites
    assert ev.meta.allocator_frames == ["skb_page_frag_refill"]
    out = tmp_path / "t.npz"
    assert main(["trace", "import", str(DATA / "loopback-tcp.perf.txt"), "-o", str(out),
                 "--allocator-frame", "skb_page_frag_refill"]) == 0
    assert "sk_page_frag_refill" in load_events(out).call_sites


# ---- malformed lines, unknown events, bad files ------------------------------------------------------------------

def test_malformed_line_is_a_one_line_error_with_its_number_or_skipped(tmp_path):
    lines = (DATA / "nocallchain.perf.txt").read_text().splitlines()
    lines[41] = lines[41].replace("order=0", "order=zero")
    lines[99] = "garbage in the middle"
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(BenchframeError, match=rf"^{re.escape(str(bad))}: line 42: .*order='zero' is not a number"):
        read_trace(bad)
    ev = read_trace(bad, skip_bad=True)
    assert ev.meta.bad_lines == 2 and len(ev) == 148


def test_other_events_are_counted_and_reported(tmp_path, capsys):
    out = tmp_path / "h.npz"
    assert main(["trace", "import", str(DATA / "handmade.perf.txt"), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ignored 1 events of other tracepoints: sched:sched_switch 1" in printed
    assert f"wrote {out}" in printed


def test_cli_import_default_output_and_report(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "in" / "nocallchain.perf.txt.xz"
    src.parent.mkdir()
    src.write_bytes(lzma.compress((DATA / "nocallchain.perf.txt").read_bytes()))
    assert main(["trace", "import", str(src)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "nocallchain.perf.txt.events.npz").is_file()
    assert "no call chains" in out and "only group by CPU and time" in out


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    text = (DATA / "loopback-tcp.perf.txt").read_bytes()
    xz = lzma.compress(text)
    files = {
        "binary": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "binary data"),
        "empty": (b"", "empty"),
        "wrong format": (b"time,cpu,event\n1,2,alloc\n", "not perf script, ftrace or trace-cmd text"),
        "truncated xz": (xz[: len(xz) // 2], "corrupt or truncated xz data"),
        "perf.data": (b"PERFILE2" + bytes(100), "perf script -i"),
        "ftrace header only": (b"# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n", "no events"),
        "other events only": (b"bash 1 [000] 1.000001: sched:sched_switch: prev_comm=bash\n", "no page-allocation"),
        "bad first line": (b"hello\n" + text, "line 1: not a perf script event line"),
    }
    out = {}
    for i, (name, (data, message)) in enumerate(files.items()):
        path = tmp / f"bad{i}.txt"
        path.write_bytes(data)
        out[name] = (path, message)
    return out


def test_bad_trace_files_are_one_line_errors_exit_2_and_write_nothing(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name, (path, message) in _bad_files(src).items():
        status = main(["trace", "import", str(path), "--output", str(out_dir / "t.events.npz")])
        err = capsys.readouterr().err
        assert status == 2, name
        assert err.count("\n") == 1 and err.startswith("benchframe: error: ") and message in err, (name, err)
        assert "Traceback" not in err
        assert list(out_dir.iterdir()) == [], name  # not even a temporary file
    assert main(["trace", "import", str(tmp_path / "missing.txt"), "-o", str(out_dir / "t")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["trace", "import", str(src), "-o", str(out_dir / "t")]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["trace", "import", str(DATA / "handmade.perf.txt"), "-o", str(tmp_path / "no" / "t")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_failed_import_keeps_the_previous_events_file(tmp_path):
    out = tmp_path / "t.events.npz"
    assert main(["trace", "import", str(DATA / "handmade.perf.txt"), "-o", str(out)]) == 0
    before = out.read_bytes()
    truncated = tmp_path / "t.xz"
    truncated.write_bytes(lzma.compress((DATA / "loopback-tcp.perf.txt").read_bytes())[:-100])
    assert main(["trace", "import", str(truncated), "-o", str(out)]) == 2
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["t.events.npz", "t.xz"]


def test_trace_command_in_a_subprocess_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.xz"
    bad.write_bytes(b"\xfd7zXZ\x00garbage")
    run = subprocess.run([sys.executable, "-m", "benchframe.cli", "trace", "import", str(bad)], capture_output=True,
                         text=True, cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == [bad]
