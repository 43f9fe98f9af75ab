"""``benchframe new-plugin``: the scaffolded package registers, runs like the design it derives from, and its
conformance test passes. (Refusals are in the bad-input catalogue, ``test_bad_input.py``.)"""

from __future__ import annotations

import json
import subprocess
import sys

from benchframe.cli import main
from benchframe.plugins import load_registry


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
