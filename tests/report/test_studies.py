"""The standard studies ``benchframe compare`` runs (``report/studies.py``)."""

from __future__ import annotations

import pytest

from benchframe.report.studies import STUDIES
from benchframe.run import RunSpec, run_one


@pytest.mark.parametrize("design, bulk", [("single", 1), ("array", 512), ("llist", 8)])
def test_bulk_study_pages_give_the_default_per_page_figures(design, bulk):
    """The bulk study runs fewer pages than page_bench04's default to stay fast; its answers must not change."""
    study = next(s for s in STUDIES if s.key == "bulk")
    short = run_one(RunSpec(design=design, workload="page_bench04", params={**study.params, "bulk": bulk}, seed=1))
    default = run_one(RunSpec(design=design, workload="page_bench04", params={"bulk": bulk}, seed=1))
    assert short.params["pages"] < default.params["pages"]
    for metric in study.metrics:
        assert short.metrics[metric] == default.metrics[metric], metric
