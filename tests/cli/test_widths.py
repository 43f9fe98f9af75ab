"""Every command's plain output fits a mail: no line over 100 columns. Before, ``validate`` printed 231 columns
(its summary line 731), ``list designs`` 183, ``run`` 164, ``explore`` 307, ``trace import`` 110 and ``trace
summary --format text`` 176."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchframe.cli import main

pytestmark = pytest.mark.usefixtures("shared_validate_runs")  # validate's cells, run once for its four outputs
WIDTH = 100
TRACES = Path(__file__).parents[1] / "data" / "traces"


def _widest(out: str) -> tuple[int, str]:
    return max(((len(ln), ln) for ln in out.splitlines()), default=(0, ""))


COMMANDS = [
    ["validate"],
    ["validate", "--normalize-to", "single", "--tolerance", "100"],
    *(["list", what] for what in ("designs", "workloads", "profiles", "metrics", "configs", "kernels")),
    ["run", "--designs", "single,list,llist_del_first", "--workload", "page_bench04", "--param", "bulk=8,64",
     "--executor", "serial"],
    ["perf", "--designs", "single,list", "--workload", "page_bench04", "--executor", "serial"],
    ["explore", "--designs", "array", "--context", "nmi"],
    ["plugins"],
    ["history", "--all", "--format", "plain"],
    ["history", "--all", "--format", "text"],
    ["history", "--series", "--all", "--format", "plain"],
    *([cmd, *rest, "--format", fmt] for fmt in ("plain", "text") for cmd, *rest in (
        ["validate"], ["explore", "--designs", "llist_del_first", "--context", "irq"],
        ["run", "--designs", "single,list,llist_del_first", "--workload", "page_bench04", "--executor", "serial"])),
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2] + a[-1:]))
def test_command_output_fits_a_mail(argv, capsys):
    main(argv)
    width, line = _widest(capsys.readouterr().out)
    assert 0 < width <= WIDTH, line


def test_trace_import_and_summary_fit_a_mail(tmp_path, capsys):
    events = tmp_path / "t.events.npz"
    assert main(["trace", "import", str(TRACES / "loopback-tcp.perf.txt"), "-o", str(events)]) == 0
    widths = [_widest(capsys.readouterr().out)]
    for fmt in ("plain", "text", "mmtests"):
        assert main(["trace", "summary", str(events), "--format", fmt]) == 0
        widths.append(_widest(capsys.readouterr().out))
    assert all(0 < w <= WIDTH for w, _ in widths), max(widths)
