"""`benchframe plugins`, `new-plugin` and plugin errors during runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchframe.cli import main
from benchframe.plugins import get_registry, load_registry

RAISING = '''
from benchframe import hookimpl
from benchframe.api import ARRAY, BulkAllocator, Design

class Boom(BulkAllocator):
    shape = ARRAY
    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None):
        raise RuntimeError("kaboom")

@hookimpl
def benchframe_register_designs():
    return [Design(name="boom", factory=Boom, description="raises")]
'''


def test_plugins_json_lists_builtins_with_their_distribution(capsys):
    assert main(["plugins", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_name = {p["name"]: p for p in doc["plugins"]}
    for name in ("single", "list", "array", "twopass", "llist", "locallock"):
        assert by_name[name]["distribution"] == "benchframe"
        assert by_name[name]["hooks"] == ["benchframe_register_designs"]
        assert by_name[name]["registered"] == {"designs": [name]}
    assert "page_bench04" in by_name["benchframe.workloads"]["registered"]["workloads"]


OBSERVER = '''
from benchframe import hookimpl

@hookimpl
def benchframe_check_invariants(kernel, design):
    return []

@hookimpl
def benchframe_run_finished(run):
    if run.params["bulk"] == 8:
        raise ValueError("observer broke")

@hookimpl
def benchframe_report_sections(runs, baseline):
    raise KeyError("no section today")
'''


def test_a_design_that_raises_is_reported_and_others_still_run(tmp_path, capsys):
    plugin = tmp_path / "boom_plugin.py"
    plugin.write_text(RAISING)
    out = tmp_path / "r.json"
    status = main(["run", "--design", "array,boom", "--workload", "page_bench04", "--param", "pages=256",
                   "--plugin", str(plugin), "--json", str(out)])
    assert status == 1
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "kaboom" in ln]
    assert len(lines) == 1 and "design boom" in lines[0] and "RuntimeError" in lines[0]
    doc = json.loads(out.read_text())
    assert [r["design"] for r in doc["runs"]] == ["array"]


def test_a_broken_plugin_makes_the_exit_status_say_so(tmp_path, capsys):
    bad = tmp_path / "bad_plugin.py"
    bad.write_text("raise ImportError('missing dependency')\n")
    assert main(["list", "designs", "--plugin", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "array" in captured.out
    assert "failed to import" in captured.err and "missing dependency" in captured.err


def test_new_plugin_scaffolds_a_working_package(tmp_path):
    assert main(["new-plugin", "tryit", "--from", "locallock", "--dir", str(tmp_path)]) == 0
    pkg = tmp_path / "tryit"
    assert "tryit = \"benchframe_tryit\"" in (pkg / "pyproject.toml").read_text()
    assert "conformance_suite(\"tryit\")" in (pkg / "tests" / "test_conformance.py").read_text()
    module = pkg / "benchframe_tryit" / "__init__.py"
    assert "class Tryit(LocalLock)" in module.read_text()
    reg = load_registry((str(module),))
    assert reg.errors == [] and "tryit" in reg.designs
    assert reg.designs["tryit"].factory.account_per_page is False  # derived from locallock


@pytest.mark.parametrize("args, needle", [
    (["new-plugin", "Bad-Name"], "lower-case Python identifier"),
    (["new-plugin", "array"], "already registered"),
    (["new-plugin", "fine", "--from", "nosuch"], "unknown design"),
])
def test_new_plugin_bad_input(args, needle, tmp_path, capsys):
    assert main([*args, "--dir", str(tmp_path)]) == 2
    assert needle in capsys.readouterr().err


def test_new_plugin_refuses_to_overwrite(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    assert main(["new-plugin", "taken", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_pcpspin_example_plugin_by_path():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "pcpspin" / "benchframe_pcpspin" / "__init__.py"
    reg = get_registry() if "pcpspin" in get_registry().designs else load_registry((str(path),))
    assert "pcpspin" in reg.designs
    from benchframe.run import RunSpec, run_one

    r = run_one(RunSpec(design="pcpspin", workload="irq_latency", params={"bulk": 64, "bursts": 60,
                                                                          "irq_interval": 3000}), reg)
    assert r.metrics["invariant_violations"] == 0
    assert r.metrics["irqs_off_max_cycles"] < 2000  # only zone->lock refills disable IRQs


def test_a_raising_observer_hook_is_reported_by_plugin_and_other_rows_still_print(tmp_path, capsys):
    observer = tmp_path / "observer.py"
    observer.write_text(OBSERVER)
    out = tmp_path / "r.json"
    status = main(["run", "--design", "array", "--workload", "page_bench04", "--param", "pages=128",
                   "--param", "bulk=1,8", "--plugin", str(observer), "--executor", "serial", "--json", str(out)])
    captured = capsys.readouterr()
    assert status == 1
    errors = [ln for ln in captured.err.splitlines() if "observer broke" in ln]
    assert errors == [f"benchframe: plugin error: plugin {observer}: benchframe_run_finished raised ValueError: "
                      "observer broke (design array, workload page_bench04)"]
    assert [r["params"]["bulk"] for r in json.loads(out.read_text())["runs"]] == [1]


def test_a_raising_report_section_still_writes_the_report(tmp_path, capsys):
    observer = tmp_path / "observer.py"
    observer.write_text(OBSERVER.replace("bulk\"] == 8", "bulk\"] == -1"))
    results = tmp_path / "r.json"
    assert main(["run", "--design", "array,single", "--workload", "page_bench04", "--param", "pages=128",
                 "--executor", "serial", "--json", str(results)]) == 0
    capsys.readouterr()
    status = main(["report", str(results), "--plugin", str(observer), "--output", str(tmp_path / "rep")])
    err = capsys.readouterr().err
    assert status == 1 and "benchframe_report_sections raised KeyError" in err and str(observer) in err
    assert (tmp_path / "rep" / "report.md").stat().st_size > 0


def test_a_design_raising_in_a_kernel_helper_is_blamed_on_the_design(tmp_path, capsys):
    plugin = tmp_path / "helper_boom.py"
    plugin.write_text(RAISING.replace('raise RuntimeError("kaboom")', "return self.k.rmqueue(cpu, None, 0, gfp, 0)")
                      .replace('"boom"', '"hboom"'))
    status = main(["run", "--design", "hboom", "--workload", "page_bench04", "--param", "pages=128",
                   "--plugin", str(plugin), "--executor", "serial"])
    err = capsys.readouterr().err
    assert status == 1
    assert f"plugin {plugin}: design hboom raised AttributeError" in err and "(workload page_bench04)" in err


def test_a_scaffolded_plugin_loaded_by_path_runs_like_its_base(tmp_path, capsys):
    assert main(["new-plugin", "mine", "--from", "llist", "--dir", str(tmp_path)]) == 0
    module = tmp_path / "mine" / "benchframe_mine" / "__init__.py"
    out = tmp_path / "r.json"
    assert main(["run", "--plugin", str(module), "--design", "llist:free=splice,mine:free=splice", "--workload",
                 "page_bench04", "--param", "pages=256", "--executor", "serial", "--json", str(out)]) == 0
    runs = {r["design"]: r["metrics"] for r in json.loads(out.read_text())["runs"]}
    assert runs["mine:free=splice"] == runs["llist:free=splice"]  # derived: identical until edited
    assert runs["mine:free=splice"]["pcp_link_bytes"] == 8  # the base's record fields were carried over


def test_the_scaffolded_conformance_test_passes(tmp_path, clean_env):
    assert main(["new-plugin", "kit", "--from", "array", "--dir", str(tmp_path)]) == 0
    pkg = tmp_path / "kit"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchframe-plugin",
                           str(pkg / "benchframe_kit" / "__init__.py"), str(pkg / "tests"),
                           "-k", "returns or zero or array_semantics"],
                          capture_output=True, text=True, cwd=pkg, env=clean_env())
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert " passed" in proc.stdout and "Conformance" in (pkg / "tests" / "test_conformance.py").read_text()


def test_new_plugin_cannot_derive_from_an_uninstalled_plugin_file(tmp_path, capsys):
    plugin = tmp_path / "loose.py"
    plugin.write_text(RAISING)
    assert main(["new-plugin", "child", "--from", "boom", "--plugin", str(plugin), "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not importable" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "child").exists()
