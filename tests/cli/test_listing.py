"""``benchframe list``: the registries, built-in designs in the order of the 2021 thread."""

from __future__ import annotations

from benchframe.cli import main

DESIGNS = ["single", "list", "array", "twopass", "llist", "locallock"]


def test_list_designs_in_thread_order(capsys):
    assert main(["list", "designs"]) == 0
    out = capsys.readouterr().out
    positions = [out.index(f"\n{name} ") for name in DESIGNS]
    assert positions == sorted(positions)
