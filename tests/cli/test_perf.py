"""``benchframe perf``: a perf report of each design's simulated run, perf diff against a baseline design, folded
stacks and a flame graph."""

from __future__ import annotations

import re

import pytest

from benchframe.cli import main
from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one

ARGS = ["perf", "--designs", "single,array", "--workload", "page_bench04", "--param", "bulk=64", "--param",
        "pages=2048", "--executor", "serial"]


def test_the_table_shows_where_a_bulk_call_and_the_single_path_spend_their_cycles(capsys):
    assert main(ARGS) == 0
    out = capsys.readouterr().out
    array = out[out.index("array:"):]
    for symbol in ("__alloc_pages_bulk", "__rmqueue_pcplist (inlined)", "free_unref_page", "prep_new_page",
                   "local_irq_save (inlined)", "local_irq_restore (inlined)", "[atomic] lock-prefixed rmw"):
        assert symbol in array, symbol
    single = out[out.index("single:"):out.index("array:")]
    for symbol in ("rmqueue ", "get_page_from_freelist", "__alloc_pages ", "alloc_pages ", "prep_new_page"):
        assert symbol in single, symbol
    assert "__alloc_pages_bulk" not in single
    # the table's lines are no wider than a mail
    assert max(len(line) for line in out.splitlines()) <= 100
    # the same command prints the same bytes
    assert main(ARGS) == 0
    assert capsys.readouterr().out == out


def test_diff_shows_what_array_saves_over_single_function_by_function(capsys):
    assert main([*ARGS, "--diff", "single"]) == 0
    out = capsys.readouterr().out
    assert "array against single" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("rmqueue "))
    single, array, change = line.split()[1:4]
    assert float(array) == 0 and float(change) == -float(single) < 0  # the bulk call has no rmqueue()
    bulk = next(ln for ln in out.splitlines() if ln.startswith("__alloc_pages_bulk "))
    assert float(bulk.split()[3]) > 0


def test_folded_stacks_add_up_to_the_run_and_are_flamegraph_input(tmp_path, capsys):
    folded, svg = tmp_path / "a.folded", tmp_path / "a.svg"
    assert main(["perf", "--designs", "array", "--workload", "page_bench04", "--param", "bulk=64", "--param",
                 "pages=2048", "--executor", "serial", "--folded", str(folded), "--svg", str(svg)]) == 0
    capsys.readouterr()
    lines = folded.read_text().splitlines()
    # flamegraph.pl's reader: everything up to the last run of spaces is the stack, then a count
    parsed = [re.match(r"^(.*)\s+?(\d+(?:\.\d*)?)$", line) for line in lines]
    assert all(parsed)
    run = run_one(RunSpec(design="array", workload="page_bench04", params={"bulk": 64, "pages": 2048},
                          perf=True), get_registry())
    assert sum(int(m[2]) for m in parsed if m) == run.perf_cycles
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "__alloc_pages_bulk" in text
    again = tmp_path / "b.svg"
    assert main(["perf", "--designs", "array", "--workload", "page_bench04", "--param", "bulk=64", "--param",
                 "pages=2048", "--executor", "serial", "--svg", str(again)]) == 0
    assert again.read_text() == text  # deterministic


def test_per_call_and_several_designs_name_their_files(tmp_path, capsys):
    folded = tmp_path / "s.folded"
    assert main(["perf", "--designs", "single,array", "--workload", "sunrpc", "--param", "calls=10", "--per",
                 "call", "--executor", "serial", "--folded", str(folded)]) == 0
    out = capsys.readouterr().out
    assert "cycles per allocation call" in out and "svc_alloc_arg" in out
    assert (tmp_path / "s-single.folded").is_file() and (tmp_path / "s-array.folded").is_file()


@pytest.mark.parametrize(("extra", "message"), [
    (["--param", "bulk=8,64"], "--param bulk: perf profiles one point, give one value"),
    (["--diff", "nosuch"], "unknown design 'nosuch'"),
    (["--min-share", "200"], "--min-share 200: a percentage from 0 to 100"),
])
def test_bad_options_are_one_line_errors(extra, message, capsys):
    assert main(["perf", "--designs", "array", "--workload", "page_bench04", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
