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


def test_the_header_s_os_release_picks_the_kernel_a_replay_runs_on(tmp_path, capsys):
    """``# os release : 6.18.0`` is kept with the events; ``run`` without ``--kernel`` replays on the modelled
    version of that release (6.14) and says so; ``--kernel`` still chooses."""
    import argparse
    import json

    from benchframe.cli import main
    from benchframe.cli.capture import choose_capture_kernel
    from benchframe.trace.replay import capture_kernel

    path = _header(tmp_path)
    events = read_trace(path)
    assert events.meta.os_release == "6.18.0"
    assert "it ran Linux 6.18.0: replayed on the modelled 6.14" in import_report(events, tmp_path / "h.npz")
    assert capture_kernel([str(path)]) == ("6.14", "6.18.0")
    out = tmp_path / "r.json"
    assert main(["run", "--design", "array", "--workload", "trace", "--param", f"file={path}", "--json", str(out)]) == 0
    assert {r["kernel"] for r in json.loads(out.read_text())["runs"]} == {"6.14"}
    assert "replaying on kernel 6.14, the modelled version of the capture's release 6.18.0" in capsys.readouterr().err
    given = argparse.Namespace(kernel="5.13")
    assert not choose_capture_kernel(given, [str(path)]) and given.kernel == "5.13"


def test_a_capture_without_a_release_or_of_an_unmodelled_one(tmp_path, capsys):
    """No header: the default version, nothing said. A release older than every modelled version is a one-line
    error naming --kernel; captures of two releases in one run too."""
    from benchframe.cli import main
    from benchframe.trace.replay import capture_kernel

    bare = tmp_path / "n.perf.txt"
    bare.write_text(_events(0x2eefb5))
    assert capture_kernel([str(bare)]) is None
    old = tmp_path / "old.perf.txt"
    old.write_text(HEADER.replace("6.18.0", "3.10.0-1160.el7") + _events(0x2eefb5))
    assert "no modelled version stands for it" in import_report(read_trace(old), tmp_path / "o.npz")
    with pytest.raises(BenchframeError, match=r"3\.10\.0.*older than every modelled release.*--kernel"):
        capture_kernel([str(old)])
    assert main(["run", "--design", "single", "--workload", "trace", "--param", f"file={old}"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--kernel" in err
    other = tmp_path / "o.perf.txt"
    other.write_text(HEADER.replace("6.18.0", "6.1.0") + _events(0x2eefb5))
    with pytest.raises(BenchframeError, match=r"different kernels \(6\.1\.0, 6\.18\.0\)"):
        capture_kernel([str(other), str(_header(tmp_path))])


def _header(tmp_path):
    path = tmp_path / "h.perf.txt"
    path.write_text(HEADER + _events(0x2eefb5))
    return path


def test_a_compare_of_captures_replays_on_their_release_s_kernel(tmp_path, capsys):
    import json

    from benchframe.cli import main

    out = tmp_path / "rep"
    assert main(["compare", "--designs", "array", "--workloads", f"trace:{_header(tmp_path)}", "--seeds", "1",
                 "--executor", "serial", "--model-draws", "0", "--output", str(out)]) == 0
    assert "replaying on kernel 6.14" in capsys.readouterr().err
    doc = json.loads((out / "results.json").read_text())
    assert {r["kernel"] for r in doc["runs"]} == {"6.14"}
