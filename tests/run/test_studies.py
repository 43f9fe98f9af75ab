"""The studies ``benchframe compare`` runs (``run/studies.py``): those the workloads contribute, a plugin
workload's included."""

from __future__ import annotations

import json

import pytest

from benchframe.cli import main
from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one
from benchframe.run.studies import ORDER, select_studies
from benchframe.workloads.page_bench04 import BULK_STUDY_PAGES


@pytest.mark.parametrize("design, bulk", [("single", 1), ("array", 512), ("llist", 8)])
def test_bulk_study_pages_give_the_default_per_page_figures(design, bulk):
    """The bulk study runs fewer pages than page_bench04's default to stay fast; its answers must not change."""
    study = next(s for s in get_registry(()).workload("page_bench04").compare_studies() if s.key == "bulk")
    assert study.params == {"pages": BULK_STUDY_PAGES}
    short = run_one(RunSpec(design=design, workload="page_bench04", params={**study.params, "bulk": bulk}, seed=1))
    default = run_one(RunSpec(design=design, workload="page_bench04", params={"bulk": bulk}, seed=1))
    assert short.params["pages"] < default.params["pages"]
    for metric in study.metrics:
        assert short.metrics[metric] == default.metrics[metric], metric


def test_the_default_studies_are_the_standard_workloads_in_the_reports_order():
    studies = select_studies(get_registry(()), [])
    assert [s.key for s in studies] == [k for k in ORDER if k != "trace"]  # trace needs a file: not standard
    assert all(s.workload for s in studies)


PLUGIN = '''
from benchframe import hookimpl
from benchframe.api import Param, Workload
from benchframe.mm.page import GFP_KERNEL


def run(ctx):
    caller = ctx.caller(0)
    for _ in range(ctx.params["calls"]):
        pages = caller.alloc(GFP_KERNEL, 8)
        caller.free_pages(pages)
    ctx.record("calls_made", ctx.params["calls"])


@hookimpl
def benchframe_register_workloads():
    return [Workload(name="burst8", run=run, description="8 pages at a time", seeded=False,
                     params=(Param("calls", 4, "bulk calls"),),
                     metrics={"calls_made": ("calls", "higher", "bulk calls made")})]
'''


def test_a_plugin_workload_declared_standard_is_in_the_default_compare(tmp_path, monkeypatch):
    """A workload plugin with ``standard=True`` (the default) and no study of its own is studied at its default
    parameters by ``benchframe compare`` without ``--workloads``."""
    plugin = tmp_path / "burst8.py"
    plugin.write_text(PLUGIN)
    reg = get_registry((str(plugin),))
    assert reg.workload("burst8").standard and not reg.errors
    keys = [s.key for s in select_studies(reg, [])]
    assert keys[-1] == "burst8" and keys[:-1] == [k for k in ORDER if k != "trace"]
    monkeypatch.setenv("BENCHFRAME_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "rep"
    assert main(["compare", "--designs", "single,array", "--seeds", "1", "--executor", "serial", "--plugin",
                 str(plugin), "--model-draws", "0", "--output", str(out)]) == 0  # the studies, not the model check
    text = (out / "comparison.md").read_text()
    assert "## burst8 at its default parameters" in text
    assert "### burst8: calls_made (calls, higher is better)" in text
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert {(r["design"], r["params"]["calls"]) for r in runs if r["workload"] == "burst8"} == {("single", 4),
                                                                                             ("array", 4)}
