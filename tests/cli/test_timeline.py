"""``compare --kernel A,B``: one design across kernel versions, the timeline table; ``list kernels``."""

from __future__ import annotations

import json

from benchframe.cli import main


def test_list_kernels_shows_every_version_with_its_sources(capsys):
    assert main(["list", "kernels", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    for name in ("5.13", "5.14", "6.0", "6.2", "6.14"):
        assert f"\n,{name},pcp," in out
    assert "44042b449872" in out and "5749077415994" in out and "UNCONFIRMED" in out


def test_compare_across_kernels_prints_and_writes_the_timeline(capsys, tmp_path):
    out_dir = tmp_path / "t"
    assert main(["compare", "--kernel", "5.13,6.2", "--designs", "array", "--jobs", "1", "--executor", "serial",
                 "--format", "md", "--output", str(out_dir)]) == 0
    text = capsys.readouterr().out
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]
    rows = {r[0]: r for r in cells if r[0][:1].isdigit()}
    assert set(rows) == {"5.13", "6.2"}
    # 6.2 leaves IRQs on around the pcp: the cold refill's IRQs-off window is the zone->lock hold only
    irqs_off = {k: float(r[5]) for k, r in rows.items()}
    assert irqs_off["6.2"] < irqs_off["5.13"]
    assert {r[-1] for r in rows.values()} == {"0"}  # a count stays an integer (it printed 0.0)
    assert (out_dir / "timeline.md").read_text() == text
    runs = json.loads((out_dir / "timeline.json").read_text())["runs"]
    assert {r["kernel"] for r in runs} == {"5.13", "6.2"}
    png = (out_dir / "timeline.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_the_timeline_plot_is_the_table_s_numbers_and_the_same_bytes_each_time():
    from benchframe.report.plots import TIMELINE_PANELS, timeline_png
    from benchframe.run.timeline import COLUMNS

    labels = {label for label, _, _ in COLUMNS}
    assert {label for _, panel, _ in TIMELINE_PANELS for label in panel} <= labels  # a renamed column shows
    values = {label: [100.0, None, 90.0] for label in labels}
    first = timeline_png("array", ["5.13", "6.0", "6.2"], values)
    assert first == timeline_png("array", ["5.13", "6.0", "6.2"], values)
    assert first != timeline_png("array", ["5.13", "6.0", "6.2"], {**values, "bulk 64 (cycles/page)": [1.0] * 3})


def test_compare_across_kernels_refuses_a_design_a_version_lacks(capsys):
    assert main(["compare", "--kernel", "5.13,6.14", "--designs", "list"]) == 2
    err = capsys.readouterr().err
    assert "no alloc_pages_bulk_list" in err and len(err.strip().splitlines()) == 1
