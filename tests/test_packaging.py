"""What pyproject.toml promises a user who installs benchframe: every folder of the package shipped, py.typed, the
licence, and extras that hold what their code imports. (.ci/lowest-versions installs the lowest allowed versions
and runs this suite against the installed wheel.)"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def requirement_names(reqs: list[str]) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.-]+", r)[0].lower() for r in reqs}


def package_dirs() -> dict[str, Path]:
    dirs = {name: ROOT / path for name, path in SETUPTOOLS["package-dir"].items()}
    out = {}
    for top, base in dirs.items():
        for folder in [base, *sorted(p for p in base.rglob("*") if p.is_dir())]:
            if folder.name == "__pycache__" or any(part.endswith(".egg-info") for part in folder.parts):
                continue
            out[".".join([top, *folder.relative_to(base).parts])] = folder
    return out


def test_every_folder_of_the_package_is_declared():
    """A folder left out of ``packages`` is either not installed or installed with setuptools' warning that a
    data folder is not a declared package (benchframe.data.measurements, benchframe.hw.profiles were)."""
    assert sorted(SETUPTOOLS["packages"]) == sorted(package_dirs())


def test_every_data_file_is_package_data():
    data = SETUPTOOLS["package-data"]
    for name, folder in package_dirs().items():
        files = [p for p in folder.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc")
                 and not p.name.endswith(tuple(EXTENSION_SUFFIXES))]  # the compiled core, built in place
        for f in files:
            assert any(f.match(pattern) for pattern in data.get(name, [])), f"{f} is not in {name}'s package-data"


def test_typed_and_licensed():
    for top in SETUPTOOLS["package-dir"].values():
        assert (ROOT / top / "py.typed").is_file()
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in licence
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])  # PEP 639: the SPDX string says it
    build = PYPROJECT["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(\d+)", r) and int(r.split(">=")[1]) >= 77 for r in build), build
    assert "Typing :: Typed" in PROJECT["classifiers"]
    minor = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"])[1]
    assert f"Programming Language :: Python :: 3.{minor}" in PROJECT["classifiers"]


def test_every_requirement_has_a_lower_bound():
    """.ci/lowest-versions tests the lower bounds: a requirement without one has nothing to test."""
    extras = PROJECT["optional-dependencies"]
    for req in PROJECT["dependencies"] + extras["kit"] + extras["test"]:
        assert req.startswith(f"{PROJECT['name']}[") or ">=" in req, req


def third_party_imports(folder: Path) -> set[str]:
    stdlib = set(sys.stdlib_module_names)
    names = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in stdlib and n not in ("benchframe", "__future__")}


def test_the_kit_extra_holds_what_the_conformance_kit_imports():
    """``pip install 'benchframe[kit]'`` is all a plugin author needs to run ``conformance_suite()``."""
    needed = third_party_imports(ROOT / "benchframe" / "testing") - requirement_names(PROJECT["dependencies"])
    # the soak runner's --executor dask: the dask extra, asked for in its own one-line error
    assert "dask[distributed]>=2024.1" in PROJECT["optional-dependencies"]["dask"]
    needed -= {"distributed"}
    assert needed == {"pytest", "hypothesis"}
    assert requirement_names(PROJECT["optional-dependencies"]["kit"]) == needed
    scaffold = (ROOT / "benchframe" / "scaffold.py").read_text()
    assert 'test = ["benchframe[kit]"]' in scaffold  # what `benchframe new-plugin` writes


def test_urls_and_asv_commit_links_agree():
    import json

    urls = PROJECT["urls"]
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    conf = json.loads((ROOT / "asv.conf.json").read_text())
    assert conf["show_commit_url"] == urls["Source"] + "/commit/"
