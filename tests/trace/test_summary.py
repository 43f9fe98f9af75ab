"""``benchframe trace summary``: call sites, orders, contexts and order-0 runs, checked against an independent count
of the trace text (a few regexes and loops written here, not benchframe's parser)."""

from __future__ import annotations

import csv
import io
import lzma
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from benchframe.cli import main
from benchframe.output import writer
from benchframe.trace.events import EVENT_CODE, NO_CALLCHAIN, PageEvent
from benchframe.trace.runs import find_runs, histogram, nearest_rank
from benchframe.trace.store import EventBuilder, TraceMeta
from benchframe.trace.summary import summarise, summary_document

DATA = Path(__file__).resolve().parents[1] / "data" / "traces"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "traces"
GAP_US = 20  # the default of --gap-us

# ---- the independent count ---------------------------------------------------------------------------------------
# perf script text of the 6.18 captures: a header line, tab-indented frames "addr symbol+off (dso)", a blank line.
HEADER = re.compile(r"^\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d+):\s+kmem:(\w+): (.*)$")
ALLOCATOR_618 = {"__alloc_frozen_pages_noprof", "alloc_pages_mpol", "alloc_pages_noprof", "folio_alloc_noprof",
                 "vma_alloc_folio_noprof", "get_free_pages_noprof"}
SOFTIRQ_618 = {"handle_softirqs", "net_rx_action"}


def count_text(lines) -> list[dict]:
    """Every successful mm_page_alloc of the text: cpu, pid, time (ns), order, call site, context."""
    allocs: list[dict] = []
    current = None
    for line in lines:
        m = HEADER.match(line)
        if m:
            comm, pid, cpu, sec, frac, event, fields = m.groups()
            current = None
            if event == "mm_page_alloc" and "page=(nil)" not in fields:
                order = int(re.search(r"order=(\d+)", fields).group(1))
                current = {"cpu": int(cpu), "pid": int(pid), "t": int(sec) * 10**9 + int(frac.ljust(9, "0")),
                           "order": order, "frames": []}
                allocs.append(current)
        elif line.startswith("\t") and current is not None:
            current["frames"].append(line.split()[1].split("+")[0])
    for a in allocs:
        outside = [f for f in a["frames"] if f not in ALLOCATOR_618]
        a["site"] = outside[0].split(".")[0] if outside else "?"
        a["context"] = "softirq" if SOFTIRQ_618 & set(a["frames"]) else "task"
    return allocs


def count_runs(allocs: list[dict], gap_us: float) -> dict[str, list[int]]:
    """Run lengths per call site: walk each stream (CPU, context, task in task context) in time order."""
    streams = defaultdict(list)
    for i, a in enumerate(allocs):
        streams[(a["cpu"], a["context"], a["pid"] if a["context"] == "task" else None)].append((a["t"], i, a))
    runs = defaultdict(list)
    for stream in streams.values():
        stream.sort(key=lambda x: (x[0], x[1]))
        prev = None
        for t, _, a in stream:
            joins = (prev is not None and a["order"] == 0 and prev["order"] == 0 and a["site"] == prev["site"]
                     and t - prev["t"] <= gap_us * 1000)
            if joins:
                runs[a["site"]][-1] += 1
            elif a["order"] == 0:
                runs[a["site"]].append(1)
            prev = a
    return runs


def csv_cells(text: str) -> dict[tuple[str, str, str], str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["table", "row", "column", "value", "ratio", "pct_better", "p_value", "p_adjusted",
                       "significant", "test", "n", "low", "high", "link", "text"]  # every benchframe CSV's
    return {(row[0], row[1], row[2]): row[-1] for row in rows[1:]}


def n(text: str) -> int:
    return int(text.replace(",", ""))


def check_against_text(trace_lines, events_file: Path, capsys) -> dict[str, Counter]:
    allocs = count_text(trace_lines)
    assert main(["trace", "summary", str(events_file), "--format", "csv", "--top", "0"]) == 0
    cells = csv_cells(capsys.readouterr().out)
    # the order > 0 table names each call site with its count per order
    high = Counter((a["site"], a["order"]) for a in allocs if a["order"] > 0)
    table = "Allocations of order > 0 per call site (the bulk API does not serve them)"
    shown = {(site, int(column.split()[1])): n(value) for (t, site, column), value in cells.items()
             if t == table and column.startswith("order ") and value != "-"}
    assert shown == dict(high)
    # the runs, overall and per call site
    runs = count_runs(allocs, GAP_US)
    every = np.array([x for v in runs.values() for x in v])
    title = f"Order-0 run lengths per call site (gap <= {GAP_US} us)"
    assert n(cells[(title, "Runs", "all")]) == len(every)
    assert n(cells[(title, "Runs >= 2", "all")]) == int((every >= 2).sum())
    assert n(cells[(title, "Pages in runs >= 2", "all")]) == int(every[every >= 2].sum())
    assert n(cells[(title, "Max", "all")]) == int(every.max())
    assert n(cells[(title, "Order-0 pages", "all")]) == sum(1 for a in allocs if a["order"] == 0)
    columns = {c for (t, _, c) in cells if t == title} - {"all"}
    assert columns, "no call site columns"
    for site in columns:
        mine = sorted(runs[site])
        assert n(cells[(title, "Runs", site)]) == len(mine), site
        assert n(cells[(title, "Max", site)]) == max(mine), site
        assert n(cells[(title, "p90", site)]) == mine[max(1, -(-90 * len(mine) // 100)) - 1], site
    return {"high": high, "runs": Counter({site: len(v) for site, v in runs.items()})}


# ---- acceptance: the loopback trace ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["loopback-tcp.perf.txt", "loopback-exec.perf.txt", "pagecache-write.perf.txt"])
def test_summary_of_excerpts_matches_an_independent_count(name, tmp_path, capsys):
    out = tmp_path / "t.npz"
    assert main(["trace", "import", str(DATA / name), "-o", str(out)]) == 0
    capsys.readouterr()
    check_against_text((DATA / name).read_text().splitlines(), out, capsys)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared traces are not here ({SHARED}): they live beside the "
                    "repository, not in it, and a clean checkout without ../shared has only the excerpts")
def test_loopback_summary_names_order3_call_sites_and_order0_runs(tmp_path, capsys):
    src = SHARED / "loopback-tcp.perf.txt.xz"
    out = tmp_path / "loopback.npz"
    assert main(["trace", "import", str(src), "-o", str(out)]) == 0
    capsys.readouterr()
    with lzma.open(src, "rt") as fh:
        counted = check_against_text((line.rstrip("\n") for line in fh), out, capsys)
    order3 = {site: k for (site, order), k in counted["high"].items() if order == 3}
    assert order3 == {"skb_page_frag_refill": 9_674, "__filemap_get_folio": 39, "allocate_slab": 1}
    assert main(["trace", "summary", str(out)]) == 0
    md = capsys.readouterr().out
    assert "Most pages are order > 0: 91.8% of the pages allocated (58.1% of the allocations)" in md
    assert re.search(r"\| skb_page_frag_refill +(\| - +){2}\| 9,674 +(\| - +){2}\| 77,392 +\|", md)
    for site, _ in counted["runs"].most_common(3):  # the top order-0 run sites are named
        assert f"| {site} " in md


# ---- runs, on events made here -----------------------------------------------------------------------------------

def make_events(rows: list[tuple], callchains: bool = True):
    """rows: (time_us, cpu, pid, order, site, context) of mm_page_alloc events."""
    b = EventBuilder()
    for i, (t, cpu, pid, order, site, context) in enumerate(rows):
        frames = ("__alloc_pages", site) if callchains else None
        if callchains and context == "softirq":
            frames = (*frames, "net_rx_action", "handle_softirqs")
        b.add(PageEvent(i + 1, int(t * 1000), cpu, pid, "x", EVENT_CODE["mm_page_alloc"], 0x1000 + i, order, 0,
                        "GFP_KERNEL", frames=frames))
    meta = TraceMeta("made", "perf", "", len(rows), {}, {}, 0, 0, 0)
    return b.build(meta)


def lengths_by_site(ev, gap_us=GAP_US):
    runs = find_runs(ev, gap_us * 1000)
    out = defaultdict(list)
    for site, length in zip(runs.call_site_id, runs.length):
        out[ev.call_sites[site]].append(int(length))
    return dict(out)


def test_runs_break_on_gap_site_order_and_task_but_not_on_a_nested_interrupt():
    ev = make_events([
        (0, 0, 10, 0, "a", "task"), (5, 0, 10, 0, "a", "task"), (10, 0, 10, 0, "a", "task"),
        (12, 0, 10, 0, "napi", "softirq"),  # a softirq allocating inside the task's loop: its own stream
        (15, 0, 10, 0, "a", "task"),  # run a continues: 4 pages
        (100, 0, 10, 0, "a", "task"),  # an idle gap of 85 us ends it
        (105, 0, 10, 3, "a", "task"),  # order 3 ends it again
        (110, 0, 10, 0, "a", "task"), (112, 0, 11, 0, "a", "task"),  # another task: another stream
        (114, 1, 10, 0, "a", "task"),  # another CPU
        (116, 0, 10, 0, "b", "task"), (118, 0, 10, 0, "a", "task"),  # another site in between
    ])
    assert lengths_by_site(ev) == {"a": [4, 1, 1, 1, 1, 1], "b": [1], "napi": [1]}
    assert lengths_by_site(ev, gap_us=100) == {"a": [5, 1, 1, 1, 1], "b": [1], "napi": [1]}
    runs = find_runs(ev, GAP_US * 1000)
    assert runs.length.sum() == int(((ev.event == 0) & (ev.order == 0)).sum())  # each order-0 page in one run


def test_without_call_chains_runs_group_by_cpu_and_time_only():
    ev = make_events([(0, 0, 10, 0, "a", "task"), (1, 0, 11, 0, "b", "task"), (2, 0, 12, 0, "c", "softirq"),
                      (3, 1, 10, 0, "a", "task"), (60, 0, 10, 0, "a", "task")], callchains=False)
    assert lengths_by_site(ev) == {NO_CALLCHAIN: [3, 1, 1]}
    text = " ".join(writer("text").render(summary_document(summarise(ev, GAP_US * 1000))).split())  # unwrapped
    assert "no call chains" in text and "only be grouped by CPU and time" in text and "upper bound" in text
    assert "does not tell the context" in text


def test_run_statistics_helpers():
    assert nearest_rank(np.array([1, 1, 2, 9]), 50) == 1 and nearest_rank(np.array([1, 1, 2, 9]), 90) == 9
    assert nearest_rank(np.array([], dtype=np.int64), 50) == 0
    assert histogram(np.array([1, 2, 3, 4, 5, 200]))[:4] == [("1", 1, 1), ("2", 1, 2), ("3-4", 2, 7), ("5-8", 1, 5)]
    assert histogram(np.array([1, 2, 3, 4, 5, 200]))[-1] == ("129+", 1, 200)


# ---- the command -------------------------------------------------------------------------------------------------

@pytest.fixture
def imported(tmp_path, capsys):
    out = tmp_path / "t.npz"
    assert main(["trace", "import", str(DATA / "loopback-tcp.perf.txt"), "-o", str(out)]) == 0
    capsys.readouterr()
    return out


def test_summary_formats_and_the_plot(imported, tmp_path, capsys):
    assert main(["trace", "summary", str(imported), "--format", "md", "--plot", str(tmp_path / "runs.png")]) == 0
    md = capsys.readouterr().out
    assert md.startswith("## Trace summary: loopback-tcp.perf.txt")
    assert "### Allocations per call site" in md and "never used as costs" in md
    assert "GFP_NOWAIT\\|__GFP_IO" in md  # "|" in a Markdown cell is escaped
    assert (tmp_path / "runs.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.png", "t.npz"]  # no temporary file left
    assert main(["trace", "summary", str(imported), "--format", "text", "--top", "2"]) == 0
    text = capsys.readouterr().out
    assert "GFP_NOWAIT|__GFP_IO" in text and "more call sites with" in " ".join(text.split()) and "###" not in text
    assert main(["trace", "summary", str(imported), "--format", "plain", "--top", "2"]) == 0
    plain = capsys.readouterr().out  # the report's plain format: a mail
    assert "GFP_NOWAIT|__GFP_IO" in plain and max(len(line) for line in plain.splitlines()) <= 100


def test_summary_gap_option_changes_the_runs(imported, capsys):
    title = "Order-0 run lengths per call site (gap <= {} us)"
    counts = []
    for gap in ("0", "20", "1000000"):
        assert main(["trace", "summary", str(imported), "--format", "csv", "--gap-us", gap]) == 0
        cells = csv_cells(capsys.readouterr().out)
        counts.append(n(cells[(title.format(gap), "Runs", "all")]))
    assert counts[0] >= counts[1] >= counts[2] >= 1


def test_summary_bad_arguments_and_files_are_one_line_errors(imported, tmp_path, capsys):
    for args in (["--gap-us", "-1"], ["--top", "-3"], ["--plot", str(tmp_path / "no" / "p.png")], ["--format", "x"]):
        assert main(["trace", "summary", str(imported), *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("benchframe: error:"), args
    for data in (b"", b"not a zip", (DATA / "handmade.perf.txt").read_bytes()):
        path = tmp_path / "x.npz"
        path.write_bytes(data)
        assert main(["trace", "summary", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not a trace imported by 'benchframe trace import'" in err
    np.save(tmp_path / "lone.npy", np.arange(3))
    assert main(["trace", "summary", str(tmp_path / "lone.npy")]) == 2
    assert "not an .npz archive" in capsys.readouterr().err
    assert main(["trace", "summary", str(tmp_path / "missing.npz")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


def test_summary_of_a_trace_without_allocations(tmp_path, capsys):
    text = tmp_path / "frees.txt"
    text.write_text("bash 1 [000] 1.000001: kmem:mm_page_free: page=0x1 pfn=0x1 order=0\n")
    assert main(["trace", "import", str(text), "-o", str(tmp_path / "f.npz")]) == 0
    assert main(["trace", "summary", str(tmp_path / "f.npz"), "--plot", str(tmp_path / "f.png")]) == 0
    out = capsys.readouterr().out
    assert "no successful mm_page_alloc event" in out and "Order-0 runs of 2" not in out
    assert (tmp_path / "f.png").is_file()
