"""Comparison tables (``report/tables.py``) in the style of mmtests compare-kernels: golden renderings, stars
only on significant Amean cells, deterministic metrics as Amean alone."""

from __future__ import annotations

from pathlib import Path

import tabulate as tabulate_module

from benchframe.report.tables import TABLEFMT, compare_table, render

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def synthetic_table():
    # lower is better; "fast" is clearly and consistently faster, "noisy" overlaps the baseline
    samples = {
        ("base", "bulk=8"): [100.0, 101.0, 99.0],
        ("fast", "bulk=8"): [80.0, 80.5, 79.5],
        ("noisy", "bulk=8"): [90.0, 110.0, 101.0],
        ("base", "bulk=64"): [200.0, 202.0, 198.0],
        ("fast", "bulk=64"): [150.0, 151.0, 149.0],
        ("noisy", "bulk=64"): [180.0, 230.0, 200.0],
    }
    return compare_table("synthetic: cycles (lower is better)", ["base", "fast", "noisy"], "base",
                         ["bulk=8", "bulk=64"], samples, "lower")


def test_markdown_table_matches_golden():
    # pinned: tabulate's "pipe" format for --format md, as rendered by the tabulate range in pyproject
    assert TABLEFMT["md"] == "pipe"
    assert tabulate_module.__version__.startswith(("0.9", "0.10"))
    text = render(synthetic_table(), "md")
    golden = GOLDEN / "synthetic_table.md"
    assert text == golden.read_text()


def test_plain_table_matches_golden():
    assert render(synthetic_table(), "plain") == (GOLDEN / "synthetic_table.txt").read_text()


def test_cells_star_only_significant_amean():
    table = synthetic_table()
    rows = {r[0]: r for r in table.rows}
    assert rows["Amean bulk=8"][2].endswith("*)") and "*20." in rows["Amean bulk=8"][2]
    assert "*" not in rows["Amean bulk=8"][3]
    assert "*" not in rows["Min bulk=8"][2]
    assert rows["Gmean ratio"][1].startswith("1.000")


def test_deterministic_metric_shows_only_amean_without_stars():
    samples = {("a", ""): [5.0, 5.0], ("b", ""): [4.0, 4.0]}
    t = compare_table("det", ["a", "b"], "a", [""], samples, "lower")
    assert [r[0] for r in t.rows] == ["Amean", "Gmean ratio"]
    assert "*" not in t.rows[0][2] and "20.00%" in t.rows[0][2]
    assert "Deterministic" in t.note
