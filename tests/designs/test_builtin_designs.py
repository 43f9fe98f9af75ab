"""What tells the built-in designs apart (``plugins/``): bulk designs amortise the IRQ cost of the pcp, the
second pass shortens the IRQs-off window, llist uses atomics instead; twopass refuses a non-empty list."""

from __future__ import annotations

import pytest

from benchframe import BenchframeError
from benchframe.run import RunSpec, run_one
from benchframe.testing import Kit

DESIGNS = ["single", "list", "array", "twopass", "llist", "locallock"]


def test_bulk_designs_amortise_the_irq_cost():
    per = {d: run_one(RunSpec(design=d, workload="page_bench04", params={"bulk": 64, "pages": 4096})).metrics
           for d in DESIGNS}
    assert per["array"]["alloc_cycles_per_page"] < per["single"]["alloc_cycles_per_page"]
    assert per["twopass"]["irqs_off_max_cycles"] < per["list"]["irqs_off_max_cycles"]
    assert per["llist"]["irqs_off_max_cycles"] == 0 and per["llist"]["atomics_per_page"] > 0
    assert all(m["invariant_violations"] == 0 for m in per.values())


def test_twopass_refuses_a_non_empty_list():
    h = Kit("twopass")
    lst = [h.alloc(2)[1][0]]
    with pytest.raises(BenchframeError, match="must be empty"):
        h.call(4, page_list=lst)
