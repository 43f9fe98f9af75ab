"""``benchframe calibrate``: the shipped profiles come out of their measurements, known costs come back out of
measurements the model itself produced, and a fit that cannot be trusted says so."""

from __future__ import annotations

import re

import pytest

from benchframe.cli import main
from benchframe.hw.costs import builtin_profile_paths, load_profile_file
from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one


@pytest.mark.parametrize("name", sorted(builtin_profile_paths()))
def test_the_shipped_profiles_are_what_calibrate_makes_of_the_shipped_measurements(name, tmp_path, capsys):
    path = builtin_profile_paths()[name]
    out = tmp_path / f"{name}.toml"
    assert main(["calibrate", "--profile", name, "--output", str(out)]) == 0
    assert out.read_text() == path.read_text(), f"{name}: re-fitting changes the shipped profile"
    text = capsys.readouterr().out
    assert "std. error" in text and "left out" in text
    shown = [ln for ln in text.splitlines() if not ln.startswith("benchframe: wrote")]  # names the user's path
    assert max(map(len, shown)) <= 100, "calibrate's output is wider than a mail (it was 184 columns)"


def test_a_fitted_profile_says_so():
    assert "fitted by benchframe calibrate" in builtin_profile_paths()["i7-4790k"].read_text()


POINTS = [("preempt", {"test": "single"}), *(("preempt", {"test": "list", "bulk": b}) for b in (1, 2, 8, 64, 256))]


def test_known_prices_come_back_out_of_the_model_s_own_measurements(tmp_path, capsys):
    reg = get_registry()
    truth = reg.cost_model("i7-4790k").with_costs(page_access=0.9, data_access=0.45)
    lines = ["workload,design,test,bulk,pages,kernel,profile,metric,value,unit"]
    for design, params in POINTS:
        params = {"pages": 2048, **params}
        r = run_one(RunSpec(design=design, workload="page_bench04", params=params, kernel="4.10-prototype"), reg, truth)
        lines.append(f"page_bench04,{design},{params['test']},{params.get('bulk', '')},{params['pages']},"
                     f"4.10-prototype,i7-4790k,alloc_free_cycles_per_page,{r.metrics['alloc_free_cycles_per_page']},cycles")
    csv = tmp_path / "synthetic.csv"
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "fitted.toml"
    assert main(["calibrate", "--profile", "i7-4790k", "--measurements", str(csv), "--output", str(out)]) == 0
    text = out.read_text()
    fitted = {k: float(re.search(rf"^{k} = ([0-9.]+)", text, re.MULTILINE)[1]) for k in ("page_access", "data_access")}
    # prices are rounded to whole cycles per function, so the model is a staircase in them: close, not exact
    assert abs(fitted["page_access"] - 0.9) < 0.04 and abs(fitted["data_access"] - 0.45) < 0.04, fitted
    assert f"synthetic.csv:2-{len(POINTS) + 1}" in text  # each fitted number names the rows it was fitted to
    report = capsys.readouterr().out
    assert "under-determined" not in report and "bound" not in report
    # a new profile: named after its file, its [fit] table naming what was fitted to which file
    new = load_profile_file(out)
    assert new.name == "fitted" and "i7-4790k recalibrated" in new.description
    assert 'costs = ["page_access", "data_access"]\nmeasurements = ["synthetic.csv"]' in text
    # so `--fit auto` on it repeats the fit: a fixed point
    again = tmp_path / "again.toml"
    assert main(["calibrate", "--profile", str(out), "--output", str(again), "--name", "fitted"]) == 0
    assert again.read_text() == text


def test_an_under_determined_fit_says_so(tmp_path, capsys):
    csv = tmp_path / "one.csv"
    csv.write_text("workload,design,test,pages,metric,value,unit\n"
                   "page_bench04,single,single,1024,alloc_free_cycles_per_page,205,cycles\n")
    assert main(["calibrate", "--fit", "page_access,data_access", "--measurements", str(csv),
                 "--output", str(tmp_path / "p.toml")]) == 0
    out = capsys.readouterr().out
    assert [ln for ln in out.splitlines() if "under-determined: 2 cost(s) fitted to 1 row(s)" in ln]


def test_a_fit_that_lands_on_a_bound_says_so(tmp_path, capsys):
    csv = tmp_path / "low.csv"
    csv.write_text("workload,design,test,pages,metric,value,unit\n"
                   "page_bench04,single,single,1024,alloc_free_cycles_per_page,60,cycles\n")
    assert main(["calibrate", "--fit", "page_access", "--measurements", str(csv),
                 "--output", str(tmp_path / "p.toml")]) == 0
    assert "page_access landed on its lower bound (0)" in capsys.readouterr().out
