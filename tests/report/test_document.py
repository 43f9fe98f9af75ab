"""The report document (``report/document.py`` and its parts): the re-entrancy table shows each design's explore
verdicts and how many interleavings were tried; the header and headings say what the runs are, not what a
default was."""

from __future__ import annotations

from benchframe.explore import explore
from benchframe.explore.verdicts import design_verdicts
from benchframe.metrics import Catalogue
from benchframe.plugins import get_registry
from benchframe.report.designs import reentrancy_table
from benchframe.report.document import report_header
from benchframe.report.sections import study_heading
from benchframe.results import RunResult


def test_reentrancy_table_reports_explore_verdicts_and_extent():
    reg = get_registry(())
    table = reentrancy_table(design_verdicts(["single", "llist"], reg))
    assert table.headers == ["design", "vs IRQ", "vs NMI", "vs another CPU", "vs preemption"]
    for row in table.rows:
        name = row[0].split()[0]
        for context, cell in zip(("irq", "nmi", "smp", "preempt"), row[1:], strict=True):
            res = explore(name, context, registry=reg, first_only=True)  # what a verdict explores
            assert cell.startswith(res.verdict)
            assert f"{res.explored_points} interleavings" in cell


def _run(design: str, workload: str, config: list[str], **params) -> RunResult:
    return RunResult(design=design, workload=workload, params=params, config=config, seed=1, profile="e5-1650v4",
                     kernel="5.13", metrics={})


def test_header_counts_the_configs_of_the_runs_instead_of_naming_any_one():
    # 396 default runs and 90 PREEMPT_RT ones: the header said "PREEMPT_RT" (the union of the configs)
    runs = [_run("single", "page_bench04", []) for _ in range(396)] + \
        [_run("single", "irq_latency", ["PREEMPT_RT"]) for _ in range(90)]
    header = dict(report_header(runs, "benchframe report r.json", {"benchframe": "0.1.0"}))
    assert header["kernel config"] == "default (!PREEMPT_RT) (396 runs), PREEMPT_RT (90 runs)"
    assert header["plugins"] == "benchframe 0.1.0"
    only_rt = dict(report_header(runs[-90:], "x", {}))
    assert only_rt["kernel config"] == "PREEMPT_RT"


def test_study_heading_names_the_parameters_of_its_runs():
    # a sweep at pages=512: the heading said "pages=4096" (the compare default) over rows of pages=512
    reg = get_registry(())
    catalogue = Catalogue(reg.workloads)
    bulk = next(s for s in reg.workload("page_bench04").compare_studies() if s.key == "bulk")
    runs = [_run("single", "page_bench04", [], **{**reg.workload("page_bench04").resolve_params({}),
                                                   "bulk": b, "pages": 512}) for b in (8, 64)]
    heading = study_heading(runs, bulk, catalogue)
    assert "pages=512" in heading and "4096" not in heading
    mixed = runs + [_run("single", "page_bench04", [], **{**runs[0].params, "pages": 1024})]
    assert "pages=" not in study_heading(mixed, bulk, catalogue)  # varied: in the row labels, not the heading


def test_a_cell_run_once_and_copied_under_each_seed_counts_once():
    # "runs: 648" held 362 distinct results; contention at cpus=1 (unseeded) gave "Stddev 0.00" rows over three
    # copies of one run, as if they were three samples
    from benchframe.report.sections import study_tables

    reg = get_registry(())
    catalogue = Catalogue(reg.workloads)
    study = next(s for s in reg.workload("contention").compare_studies())
    params = reg.workload("contention").resolve_params({"cpus": 1})
    assert not reg.workload("contention").uses_seed(params)
    runs = [RunResult(design=d, workload="contention", params=params, seed=seed, profile="e5-1650v4",
                      metrics={"pages_per_sec": v, "zone_lock_wait_cycles": 0, "alloc_cycles_per_page": 1.0})
            for seed in (1, 2, 3) for d, v in (("single", 1.6e7), ("list", 2.5e7))]
    tables = study_tables(runs, study, ["single", "list"], "single", catalogue)
    pps = next(t for t in tables if "pages_per_sec" in t.title)
    assert [label for label, _ in pps.cells] == ["Amean cpus=1", "Gmean ratio"]
    assert all(c.n == 1 for _, cells in pps.cells[:1] for c in cells)
    assert "n = 1 distinct" in pps.note
    header = dict(report_header(runs, "x", {}, distinct=2))
    assert header["runs"].startswith("6 (2 distinct results")


def test_the_decision_table_has_contention_and_numa_and_links_every_cell_to_its_table():
    # contention, where the designs differ most (zone->lock wait), was not in the decision table
    from benchframe.output import writer
    from benchframe.report.designs import decision_table
    from benchframe.report.document import document
    from benchframe.snapshot import Snapshot

    reg = get_registry(())
    studies = [s for w in ("page_bench04", "contention", "numa") for s in reg.workload(w).compare_studies()]
    runs = []
    for design, wait, pps, numa in (("single", 9.6e5, 2.9e7, 118.0), ("list", 1.7e6, 3.3e7, 185.0)):
        for seed, jitter in ((1, 0.99), (2, 1.01)):
            runs.append(RunResult(design=design, workload="contention", params={"cpus": 4}, seed=seed,
                                  metrics={"zone_lock_wait_cycles": wait * jitter, "pages_per_sec": pps * jitter}))
        runs.append(RunResult(design=design, workload="numa", params={"spill": False}, seed=1,
                              metrics={"alloc_cycles_per_page": numa}))
    snap = Snapshot(runs=runs, studies=studies, designs=["single", "list"], baseline="single", verdicts={},
                    catalogue=Catalogue(reg.workloads), records={}, command="x")
    table = decision_table(snap)
    assert {"zone->lock wait @4 CPUs", "pages/s @4 CPUs", "NUMA low wmark"} <= set(table.headers)
    row = dict(zip(table.headers[1:], table.cells[1][1]))
    assert row["zone->lock wait @4 CPUs"].render().endswith("(-77%)")  # lower is better: more waiting, negative
    assert row["pages/s @4 CPUs"].render().endswith("(+14%)")
    assert row["NUMA low wmark"].render() == "185 (-57%)"
    md = writer("md").render(document(snap, []))
    assert "](#contention-zone-lock-wait-cycles)" in md and '<a id="contention-zone-lock-wait-cycles"></a>' in md
    assert "](#numa-alloc-cycles-per-page)" in md and '<a id="numa-alloc-cycles-per-page"></a>' in md
