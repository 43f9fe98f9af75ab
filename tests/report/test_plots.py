"""Plots (``report/plots.py``): a failed plot leaves no partial PNG; each design keeps its own colour and line
style, and coinciding curves are named in the legend."""

from __future__ import annotations

from pathlib import Path

import matplotlib.figure
import pytest

from benchframe.report.plots import design_styles, legend_labels, plot_all


def test_failed_plot_leaves_no_partial_png(tmp_path, monkeypatch):
    runs = [{"design": d, "workload": "page_bench04", "params": {"bulk": b}, "config": [], "seed": 1,
             "metrics": {"alloc_free_cycles_per_page": float(b), "irqs_off_max_cycles": 1.0}}
            for d in ("single", "array") for b in (1, 8)]

    def broken_savefig(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    with pytest.raises(OSError):
        plot_all(runs, ["single", "array"], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_plot_styles_tell_designs_apart_and_name_coinciding_lines():
    designs = ["single", "list", "array", "twopass", "llist", "locallock", "pcpspin"]
    styles = design_styles(designs)
    assert len({s["color"] for s in styles.values()}) == len(designs)
    assert len({str(s["linestyle"]) for s in styles.values()}) == len(designs)
    labels = legend_labels({"single": [(1, 5.0)], "llist": [(1, 0.0)], "pcpspin": [(1, 0.0)]}, designs)
    assert labels == {"single": "single", "llist": "llist", "pcpspin": "pcpspin (= llist)"}
