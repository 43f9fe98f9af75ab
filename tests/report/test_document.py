"""The report document (``report/document.py``): the re-entrancy table shows each design's explore verdicts and
how many interleavings were tried."""

from __future__ import annotations

from benchframe.cli.compare import verdicts
from benchframe.explore import explore
from benchframe.plugins import get_registry
from benchframe.report.document import reentrancy_table


def test_reentrancy_table_reports_explore_verdicts_and_extent():
    reg = get_registry(())
    table = reentrancy_table(verdicts(["single", "llist"], reg))
    assert table.headers == ["design", "vs IRQ", "vs NMI", "vs another CPU"]
    for row in table.rows:
        for context, cell in zip(("irq", "nmi", "smp"), row[1:], strict=True):
            res = explore(row[0], context, registry=reg)
            assert cell.startswith(res.verdict)
            assert f"{res.explored_points} interleavings" in cell
