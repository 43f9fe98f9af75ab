"""`benchframe plugins`, `new-plugin`, the environment switches and plugin errors during runs."""

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


def test_trace_env_prints_hook_calls():
    proc = subprocess.run([sys.executable, "-m", "benchframe.cli", "list", "designs"], capture_output=True,
                          text=True, env={**_env(), "BENCHFRAME_TRACE_PLUGINS": "1"})
    assert proc.returncode == 0 and "benchframe_register_designs" in proc.stderr


def _env():
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("BENCHFRAME_")}


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
    from benchframe.runner import RunSpec, run_one

    r = run_one(RunSpec(design="pcpspin", workload="irq_latency", params={"bulk": 64, "bursts": 60,
                                                                          "irq_interval": 3000}), reg)
    assert r.metrics["invariant_violations"] == 0
    assert r.metrics["irqs_off_max_cycles"] < 2000  # only zone->lock refills disable IRQs
