"""What a capture says of the machine it was taken on: ``perf script --header``'s online CPUs and total memory,
trace-cmd's ``cpus=N``; without a header, the Normal zone inferred from the pfns -- and the ``trace`` workload's
simulated machine built from them (``cpus`` and ``memory_mb`` still override)."""

from __future__ import annotations

import pytest

from benchframe import BenchframeError
from benchframe.kconfig import KernelConfig
from benchframe.plugins import get_registry
from benchframe.trace.importer import import_report, read_trace
from benchframe.trace.replay import capture_zone_pages

HEADER = """# ========
# captured on    : Mon Dec  7 07:00:00 2026
# hostname : box
# os release : 6.18.0
# perf version : 6.1
# arch : x86_64
# nrcpus online : 2
# nrcpus avail : 2
# total memory : 12235412 kB
# ========
#
"""


def _events(top_pfn: int, cpu: int = 0) -> str:
    """An allocation and its free on ``cpu``, plus one allocation at ``top_pfn``, as perf script prints them."""
    line = "{comm:>16} {pid:>6} [{cpu:03d}] {t}: kmem:{ev}: page=0x{pfn:x} pfn=0x{pfn:x} order=0 {rest}\n"
    alloc = "migratetype=1 gfp_flags=GFP_KERNEL"
    return "".join(line.format(comm="dd", pid=7, cpu=cpu, t=f"10.00000{i}", ev=ev, pfn=pfn, rest=rest)
                   for i, (ev, pfn, rest) in enumerate([("mm_page_alloc", 0x102a28, alloc),
                                                        ("mm_page_free", 0x102a28, ""),
                                                        ("mm_page_alloc", top_pfn, alloc)]))


def _topology(path, **params):
    w = get_registry(()).workload("trace")
    return w.topology(w.resolve_params({"file": str(path), **params}), KernelConfig.parse([], "6.14"))


def test_perf_script_header_gives_the_machines_cpus_and_memory(tmp_path):
    path = tmp_path / "h.perf.txt"
    path.write_text(HEADER + _events(0x2eefb5))
    events = read_trace(path)
    assert (events.meta.nrcpus_online, events.meta.total_memory_kb) == (2, 12235412)
    out = tmp_path / "h.events.npz"
    out.write_bytes(b"")
    assert "2 CPUs online and 12,235,412 kB of memory" in import_report(events, out)
    topo = _topology(path)
    assert topo.nr_cpus == 2  # the header's, though the trace has events on CPU 0 only
    assert topo.nodes[0].zones[-1].pages == 12235412 // 4  # the header wins over the pfns
    assert _topology(path, cpus=4, memory_mb=2048).nr_cpus == 4
    assert _topology(path, memory_mb=2048).nodes[0].zones[-1].pages == 2048 * 256


def test_trace_cmd_cpus_line_gives_the_machines_cpus(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("cpus=4\n           <...>-7     [000] ....  10.000001: mm_page_alloc: page=0x1 pfn=0x1 order=0 "
                    "migratetype=1 gfp_flags=GFP_KERNEL\n")
    assert read_trace(path).meta.nrcpus_online == 4


def test_without_a_header_the_normal_zone_reaches_the_highest_pfn_above_4_gib(tmp_path):
    path = tmp_path / "n.perf.txt"
    path.write_text(_events(0x2eefb5))
    events = read_trace(path)
    assert (events.meta.nrcpus_online, events.meta.total_memory_kb) == (0, 0)
    assert capture_zone_pages(events) == 0x2eefb5 + 1 - 0x100000  # ZONE_NORMAL starts at 4 GiB on x86-64
    topo = _topology(path)
    assert topo.nr_cpus == 1 and topo.nodes[0].zones[-1].pages == 0x1eefb6
    low = tmp_path / "low.perf.txt"  # every pfn below 4 GiB: nothing to infer, the 1 GiB default
    low.write_text(_events(0x3000).replace("0x102a28", "0x2000"))
    assert capture_zone_pages(read_trace(low)) == 0
    assert _topology(low).nodes[0].zones[-1].pages == 262144


def test_a_header_claiming_more_memory_than_a_replay_simulates_is_a_one_line_error(tmp_path):
    path = tmp_path / "big.perf.txt"
    path.write_text(HEADER.replace("12235412", str(128 << 20)) + _events(0x2eefb5))
    with pytest.raises(BenchframeError, match="header says 131072 MiB of memory.*pass memory_mb=N"):
        _topology(path)
    assert _topology(path, memory_mb=1024).nodes[0].zones[-1].pages == 262144
