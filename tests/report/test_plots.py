"""Plots (``report/plots.py``): PNG bytes drawn in memory; each design keeps its own colour and line style, and
coinciding curves are named in the legend."""

from __future__ import annotations

import matplotlib.figure
import pytest

from benchframe.report.plots import design_styles, legend_labels, plot_all
from benchframe.results import RunResult


def records(runs: list[dict]) -> list[RunResult]:
    return [RunResult.model_validate(r) for r in runs]


def test_plots_are_png_bytes_drawn_without_touching_the_disk(tmp_path, monkeypatch):
    """The report's plots are drawn into memory and written with the report by io.atomic_dir: drawing leaves no
    file behind (not even a partial one if it fails), and the same runs give the same bytes, whatever the jobs."""
    runs = [{"design": d, "workload": "page_bench04", "params": {"bulk": b}, "config": [], "seed": 1,
             "metrics": {"alloc_free_cycles_per_page": float(b), "irqs_off_max_cycles": 1.0}}
            for d in ("single", "array") for b in (1, 8)]
    monkeypatch.chdir(tmp_path)
    pngs = plot_all(records(runs), ["single", "array"])
    assert sorted(pngs) == ["cost_per_page_vs_bulk.png", "irqs_off_vs_bulk.png"]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in pngs.values())
    assert plot_all(records(runs), ["single", "array"], jobs=2) == pngs
    assert list(tmp_path.iterdir()) == []

    def broken_savefig(self, fname, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    with pytest.raises(OSError):
        plot_all(records(runs), ["single", "array"])
    assert list(tmp_path.iterdir()) == []


def test_plot_styles_tell_designs_apart_and_name_coinciding_lines():
    designs = ["single", "list", "array", "twopass", "llist", "locallock", "pcpspin"]
    styles = design_styles(designs)
    assert len({s["color"] for s in styles.values()}) == len(designs)
    assert len({str(s["linestyle"]) for s in styles.values()}) == len(designs)
    labels = legend_labels({"single": [(1, 5.0)], "llist": [(1, 0.0)], "pcpspin": [(1, 0.0)]}, designs)
    assert labels == {"single": "single", "llist": "llist", "pcpspin": "pcpspin (= llist)"}


def _figures(monkeypatch, runs, designs, tmp_path, names=None):
    """The figures plot_all draws, by file name (kept open for inspection)."""
    from benchframe.report import plots

    figs = {}

    def keep(self, fig, name):
        figs[name] = fig

    monkeypatch.setattr(plots._Plotter, "save", keep)
    plot_all(records(runs), designs, names)
    return figs


def test_latency_is_a_log_log_ccdf_and_cost_axes_start_at_zero(tmp_path, monkeypatch):
    runs = [{"design": d, "workload": "page_bench04", "params": {"bulk": b}, "config": [], "seed": 1,
             "metrics": {"alloc_free_cycles_per_page": 100.0 + b + i, "irqs_off_max_cycles": 50.0 * b}}
            for i, d in enumerate(("single", "array")) for b in (1, 8, 64)]
    runs += [{"design": d, "workload": "irq_latency", "params": {"bulk": 64}, "config": [], "seed": 1,
              "metrics": {}, "samples": {"irq_latency_cycles": list(range(0, 2000, 10 * (i + 1)))}}
             for i, d in enumerate(("single", "array"))]
    figs = _figures(monkeypatch, runs, ["single", "array"], tmp_path, {"array": "array [UNSAFE]"})
    assert set(figs) == {"cost_per_page_vs_bulk.png", "irqs_off_vs_bulk.png", "irq_latency_ccdf.png"}
    cost = figs["cost_per_page_vs_bulk.png"].axes[0]
    assert cost.get_ylim()[0] == 0  # not a broken axis that magnifies a 1% difference
    assert figs["irqs_off_vs_bulk.png"].axes[0].get_ylim()[0] == 0
    lat = figs["irq_latency_ccdf.png"].axes[0]
    assert lat.get_xscale() == "log" and lat.get_yscale() == "log" and "CCDF" in lat.get_ylabel()
    ys = lat.get_lines()[0].get_ydata()
    assert ys[0] == 1.0 and list(ys) == sorted(ys, reverse=True)  # the fraction still waiting falls
    labels = [t.get_text() for t in lat.get_legend().get_texts()]
    assert labels == ["single", "array [UNSAFE]"]  # the mark follows the design into the legend


def test_the_same_note_only_for_identical_curves_and_every_design_drawn(tmp_path, monkeypatch):
    runs = [{"design": d, "workload": "page_bench04", "params": {"bulk": b}, "config": [], "seed": 1,
             "metrics": {"alloc_free_cycles_per_page": v, "irqs_off_max_cycles": 0.0}}
            for d, vals in (("llist", (150.0, 140.0)), ("pcpspin", (150.0, 140.0)), ("array", (150.0, 140.001)))
            for b, v in zip((1, 8), vals)]
    figs = _figures(monkeypatch, runs, ["llist", "pcpspin", "array"], tmp_path)
    ax = figs["cost_per_page_vs_bulk.png"].axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["llist", "pcpspin (= llist)", "array"]  # 140.001 is not 140: no note
    lines = ax.get_lines()
    assert len(lines) == 3 and len({ln.get_linestyle() for ln in lines}) == 3  # drawn over each other, visible
    assert [ln.get_zorder() for ln in lines] == sorted(ln.get_zorder() for ln in lines)
