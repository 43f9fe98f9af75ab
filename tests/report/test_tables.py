"""Comparison tables (``report/tables.py``) in the style of mmtests compare-kernels, rendered by the output
stack's writers: golden renderings, stars only on significant Amean cells, deterministic metrics as Amean
alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import tabulate as tabulate_module

from benchframe.output import Document, writer
from benchframe.output.writers import Markdown
from benchframe.report.tables import compare_table

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


def render(table, fmt):
    return writer(fmt).table(table)


def test_markdown_table_matches_golden():
    # pinned: tabulate's "pipe" format for --format md, as rendered by the tabulate range in pyproject
    assert Markdown.tablefmt == "pipe"
    assert tabulate_module.__version__.startswith(("0.9", "0.10"))
    text = render(synthetic_table(), "md")
    golden = GOLDEN / "synthetic_table.md"
    assert text == golden.read_text()


def test_plain_table_matches_golden():
    assert render(synthetic_table(), "plain") == (GOLDEN / "synthetic_table.txt").read_text()


def test_cells_star_only_significant_amean():
    table = synthetic_table()
    rows = {r[0]: r for r in table.rows}
    assert rows["Amean bulk=8"][2] == "80.0 *  20.00%*"  # compare-kernels: the stars replace the brackets
    assert "*" not in rows["Amean bulk=8"][3]
    assert "*" not in rows["Min bulk=8"][2]
    assert rows["Gmean ratio"][1] == "1.000"


def test_deterministic_metric_shows_only_amean_and_says_it_is_not_tested():
    samples = {("a", ""): [5.0, 5.0], ("b", ""): [4.0, 4.0]}
    t = compare_table("det", ["a", "b"], "a", [""], samples, "lower")
    assert [r[0] for r in t.rows] == ["Amean", "Gmean ratio"]
    assert "*" not in t.rows[0][2] and "20.00%" in t.rows[0][2]
    assert "Deterministic" in t.note
    cell = t.cells[0][1][1]
    assert cell.record()["test"] == "deterministic" and cell.p_value is None


def test_no_test_where_both_sides_are_constant_even_in_a_table_with_spread():
    # sunrpc irqs_off_cycles_per_call: array 957.05 (*9.37%*) against a constant baseline, while list's larger
    # exact change 913.00 (13.54%) carried nothing to say it was exact
    samples = {("single", ""): [1056.0] * 3, ("list", ""): [913.0] * 3, ("array", ""): [957.0, 956.0, 958.2]}
    t = compare_table("mixed", ["single", "list", "array"], "single", [""], samples, "lower")
    amean = dict(zip(t.headers[1:], t.cells[0][1]))
    assert amean["list"].record()["test"] == "deterministic" and amean["list"].p_value is None
    assert amean["array"].record()["test"] == "welch" and amean["array"].p_value is not None


def test_a_change_beyond_2x_stays_a_percentage_and_the_ratio_has_its_own_row():
    # "105.25 ( 48.15%)" beside "97.12 ( 0.48x)" in one column: two notations for "better"
    samples = {("base", ""): [38.0, 38.0], ("slow", ""): [8718.0, 8718.0], ("fast", ""): [0.5, 0.5],
               ("zero", ""): [0.0, 0.0]}
    t = compare_table("x", ["base", "slow", "fast", "zero"], "base", [""], samples, "lower")
    row = t.rows[0]
    assert row[2] == "8718.00 (-22842.11%)"
    assert row[3] == "0.50 (  98.68%)"
    assert row[4] == "0.00 ( 100.00%)"
    assert t.rows[-1] == ["Gmean ratio", "1.000", "229", "0.013", "-"]
    for r in t.rows[:-1]:
        assert not any(cell.endswith("x)") or cell.endswith("x*") for cell in r)
    from_zero = compare_table("y", ["base", "b"], "base", [""], {("base", ""): [0.0] * 2, ("b", ""): [5.0] * 2},
                              "lower")
    assert from_zero.rows[0][2] == "5.00 (  vs 0)"
    for table in (t, from_zero):
        assert not any("inf" in cell for r in table.rows for cell in r)


def test_counts_stay_whole_numbers():
    # "invariant_violations 0.67": a count over three seeds shown as a fractional mean
    samples = {("single", ""): [0.0, 1.0, 1.0], ("llist", ""): [0.0, 0.0, 0.0]}
    t = compare_table("violations", ["single", "llist"], "single", [""], samples, "lower", integer=True)
    rows = {r[0]: r[1:] for r in t.rows}
    assert set(rows) == {"Min", "Max", "Nonzero", "Gmean ratio"}
    assert rows["Nonzero"] == ["2 of 3 seeds", "0 of 3 seeds"]
    assert rows["Max"][0].startswith("1 (")
    assert not any("0.67" in c or "." in c.split(" (")[0] for r in t.rows[:-1] for c in r[1:])


def test_means_carry_the_digits_their_spread_supports():
    # "Stddev 26366.28" pages/s: five false digits
    samples = {("single", ""): [2.883e7, 2.885e7, 2.880e7], ("list", ""): [3.310e7, 3.313e7, 3.315e7]}
    t = compare_table("pps", ["single", "list"], "single", [""], samples, "higher")
    rows = {r[0]: r[1:] for r in t.rows}
    assert rows["Stddev"][0].split(" (")[0] == "25000"
    assert rows["Amean"][1].split(" ")[0] == "3.313e+07"
    small = compare_table("c", ["a", "b"], "a", [""], {("a", ""): [451.0, 400.0, 504.0],
                                                      ("b", ""): [120.1, 120.3, 119.9]}, "lower")
    values = {r[0]: r[1:] for r in small.rows}
    assert values["Amean"][0].split(" ")[0] == "450" and values["Amean"][1].split(" ")[0] == "120.1"
    assert values["Stddev"][0].split(" ")[0] == "52"


def test_significance_is_corrected_for_multiple_comparisons():
    # one difference at p = 0.02 among eight tests of noise: significant alone (Welch, p < 0.05), not once the
    # family is corrected (Benjamini-Hochberg: 0.02 * 8 / 1 = 0.17)
    from benchframe.report.stats import welch_p
    from benchframe.report.tables import correct

    base = [100.0, 101.0, 99.0, 100.5, 99.5]
    marginal = [v + 1.4 for v in [100.5, 99.0, 101.5, 100.0, 99.8]]
    noise = [100.2, 99.4, 101.1, 100.3, 99.6]
    assert 0.01 < welch_p(marginal, base) < 0.05 and welch_p(noise, base) > 0.5

    def table(other):
        return compare_table("x", ["base", "d"], "base", [""], {("base", ""): base, ("d", ""): other}, "lower")

    alone = table(marginal)
    assert "*" in alone.rows[0][2]
    family = [table(marginal)] + [table(noise) for _ in range(7)]
    assert correct(family) == 8
    assert "*" not in family[0].rows[0][2]
    cell = family[0].cells[0][1][1]
    assert cell.p_adjusted == pytest.approx(cell.p_value * 8)


def test_percentile_tables_give_the_sample_count_next_to_the_value():
    samples = {("a", "bulk=8"): [500.0], ("b", "bulk=8"): [700.0]}
    counts = {("a", "bulk=8"): [237, 240], ("b", "bulk=8"): [60]}
    t = compare_table("p99", ["a", "b"], "a", ["bulk=8"], samples, "lower", counts=counts)
    rows = {r[0]: r[1:] for r in t.rows}
    assert rows["Samples bulk=8"] == ["237-240", "60"]


def test_csv_output_is_machine_readable():
    import csv
    import io

    text = writer("csv").render(Document([synthetic_table()], column="design"))
    rows = list(csv.DictReader(io.StringIO(text)))
    fast8 = next(r for r in rows if r["row"] == "Amean bulk=8" and r["design"] == "fast")
    assert float(fast8["value"]) == 80.0 and float(fast8["ratio"]) == 0.8
    assert float(fast8["pct_better"]) == 20.0 and fast8["significant"] == "true"
    assert 0 <= float(fast8["p_adjusted"]) < 0.05 and float(fast8["p_value"]) <= float(fast8["p_adjusted"])
    noisy = next(r for r in rows if r["row"] == "Amean bulk=8" and r["design"] == "noisy")
    assert noisy["significant"] == "false"
    for r in rows:  # no cell packs a value and a percentage together any more
        assert r["value"] == "" or float(r["value"]) == float(r["value"])


def test_plain_tables_fit_100_columns_split_by_design_groups():
    from benchframe.output.writers import PLAIN_WIDTH

    designs = ["single", "list", "array", "twopass", "llist [UNSAFE]", "locallock", "preempt", "pcpspin"]
    samples = {(d, f"bulk={b}"): [12345.67 + i, 12346.0 + i, 12344.0] for i, d in enumerate(designs)
               for b in (8, 64)}
    t = compare_table("wide: cycles (lower is better)", designs, "single", ["bulk=8", "bulk=64"], samples, "lower")
    assert max(len(ln) for ln in render(t, "md").splitlines()) > PLAIN_WIDTH  # it is wide
    text = render(t, "plain")
    assert max(len(ln) for ln in text.splitlines()) <= PLAIN_WIDTH
    parts = [p for p in text.split("\n\n") if p.startswith("wide")]
    assert len(parts) >= 2 and all(p.splitlines()[1].split()[0] == "single" for p in parts)  # baseline in each
    assert all(d.split()[0] in text for d in designs)
