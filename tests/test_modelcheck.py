"""The model check (``benchframe/modelcheck.py``, ``report/modelcheck.py``): the report said nothing of how far
its numbers are from a measurement, which designs and workloads nothing checks, or how much the fitted prices
move them. Each test here fails on the code before the model check."""

from __future__ import annotations

import json

import numpy as np

from benchframe.cli import main
from benchframe.metrics import Catalogue
from benchframe.modelcheck import price_draws
from benchframe.plugins import get_registry
from benchframe.report.designs import decision_table
from benchframe.report.document import document
from benchframe.results import RunResult
from benchframe.run import RunSpec, run_one
from benchframe.snapshot import CheckedFile, ModelCheck, Snapshot, model_check_from_json, model_check_json


def test_price_draws_are_reproducible_within_their_bounds_and_correlated():
    reg = get_registry()
    e5 = reg.cost_model("e5-1650v4")
    prices, correlated, draws = price_draws(e5, 6)
    assert [p[0] for p in prices] == ["page_access", "data_access", "irq_save_restore"]
    assert correlated  # the profile records the fit's correlation
    assert price_draws(e5, 6)[2] == draws  # a fixed seed: the report is reproducible
    for draw in draws:
        values = dict(draw)
        assert values["page_access"] >= 0 and 14 <= values["irq_save_restore"] <= 27  # the fit's bounds
        assert values["irq_save_restore"].is_integer()
    # the i7's two prices are strongly anti-correlated in its fit: so are their draws
    _, _, many = price_draws(reg.cost_model("i7-4790k"), 400)
    pa, da = (np.array([dict(d)[k] for d in many]) for k in ("page_access", "data_access"))
    assert np.corrcoef(pa, da)[0, 1] < -0.7


def _run(design: str, workload: str, value: float, metric: str, **params) -> RunResult:
    return RunResult(design=design, workload=workload, params=params, seed=1, profile="e5-1650v4",
                     metrics={metric: value})


def _snapshot(check: ModelCheck | None) -> Snapshot:
    reg = get_registry()
    runs = [_run(d, "page_bench04", v, "alloc_free_cycles_per_page", bulk=64, pages=4096)
            for d, v in (("single", 200.0), ("list", 120.0), ("array", 195.0))]
    return Snapshot(runs=runs, studies=list(reg.workload("page_bench04").compare_studies()),
                    designs=["single", "list", "array"], baseline="single", verdicts={},
                    catalogue=Catalogue(reg.workloads), records={}, command="x", model_check=check)


CHECK = ModelCheck(
    profile="e5-1650v4", tolerance=10.0,
    files=(CheckedFile("published.csv", "e5-1650v4", ("single",), ("page_bench04",), 3, 3.9, "published.csv:10", 0),),
    unchecked_designs=("list", "array"), unchecked_workloads=("numa",),
    prices=(("page_access", 0.0, 0.591),), correlated=True, draws=((("page_access", 0.2),), (("page_access", 0.9),)),
    # list saves 40% however the prices move; array's 2.5% saving turns into a loss at the second draw
    values={("single", "cost64"): (205.0, 230.0), ("list", "cost64"): (123.0, 138.0),
            ("array", "cost64"): (199.0, 236.0)})


def test_the_decision_table_marks_a_change_within_model_uncertainty():
    table = decision_table(_snapshot(CHECK))
    rows = {label: dict(zip(table.headers[1:], cells)) for label, cells in table.cells}
    assert rows["list"]["cost @64"].render() == "120 (+40%)"
    assert rows["array"]["cost @64"].render() == "195 (+2%) ~"
    assert (rows["array"]["cost @64"].low, rows["array"]["cost @64"].high) == (195.0, 236.0)
    assert rows["single"]["model"].render() == "3 rows, worst +4%"
    assert rows["list"]["model"].render() == "unchecked"
    assert "within model uncertainty" in table.note


def test_every_report_says_what_checks_the_model_and_what_nothing_checks():
    blocks = document(_snapshot(CHECK), []).blocks
    text = " ".join(getattr(b, "text", "") or getattr(b, "note", "") for b in blocks)
    assert "model prediction, not a measurement" in text
    assert "Nothing checks the designs list, array or the workloads numa" in text
    titles = [getattr(b, "title", "") for b in blocks]
    assert "Measurements that check the model" in titles
    assert any(t.startswith("Model uncertainty of the decision cells") for t in titles)
    # and a report of results that carry no model check says so, rather than nothing
    bare = " ".join(getattr(b, "text", "") for b in document(_snapshot(None), []).blocks)
    assert "carry no model check" in bare


def test_the_model_check_survives_the_result_document():
    assert model_check_from_json(json.loads(json.dumps(model_check_json(CHECK)))) == CHECK
    assert model_check_from_json({"profile": "x"}) is None  # damaged: the report says it has none


def test_compare_reruns_the_deterministic_decision_cells_at_each_draw(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["compare", "--designs", "single,array", "--workloads", "page_bench04", "--seeds", "1,2",
                 "--model-draws", "2", "--executor", "serial", "--output", str(out)]) == 0
    doc = json.loads((out / "results.json").read_text())
    check = model_check_from_json(doc["model_check"])
    assert check is not None and len(check.draws) == 2 and check.profile == "e5-1650v4" and check.refitted
    assert {c.file for c in check.files} >= {"published.csv", "pagealloc-2017.csv"}
    assert "array" in check.unchecked_designs and "numa" in check.unchecked_workloads
    # each draw is a real rerun of the cell with those prices
    reg = get_registry()
    first = dict(check.draws[0])
    rerun = run_one(RunSpec(design="array", workload="page_bench04", params={"bulk": 64, "pages": 4096},
                            prices=tuple(first.items())), reg)
    assert check.values[("array", "cost64")][0] == rerun.metrics["alloc_free_cycles_per_page"]
    assert check.values[("array", "irqsoff64")][0] == rerun.metrics["irqs_off_max_cycles"]
    text = (out / "comparison.md").read_text()
    assert "## Model check: how far to trust these numbers" in text
    assert "Model uncertainty of the decision cells (e5-1650v4, 2 draws)" in text
    capsys.readouterr()
    assert main(["report", str(out / "results.json")]) == 0  # the saved check is shown again
    assert "Model uncertainty of the decision cells (e5-1650v4, 2 draws)" in capsys.readouterr().out


def test_the_report_says_how_the_draws_were_made():
    def note(check) -> str:
        blocks = document(_snapshot(check), []).blocks
        return next(b.note for b in blocks if getattr(b, "title", "").startswith("Model uncertainty"))

    refitted = model_check_from_json({**model_check_json(CHECK), "refitted": True})
    assert refitted is not None and refitted.refitted
    assert "`benchframe calibrate` redone on its measurements made again" in note(refitted)
    assert "lands on it or above" in note(refitted)
    # a check saved by an older benchframe made clipped normal draws: the report says so, not "refitted"
    assert not CHECK.refitted and "clipped at the fit's bounds" in note(CHECK)
