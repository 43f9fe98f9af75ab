"""The optional compiled core (setup.py compiles ``benchframe.build.MODULES`` with mypyc where it can): the
golden grid gives the same numbers on the other build than the one under test.

The suite runs on whichever build is installed (CI runs it on both: ``.ci/lowest-versions`` installs pure
Python, the README's command the compiled core); these tests run sample rows of the golden grid -- the fused
paths of irq_latency with its interrupt source, contention on four CPUs -- on the other build,
in a child process whose ``benchframe`` is a copy of this one's source: without its extension modules, or
compiled here with mypyc.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchframe.build import MODULES, build, compiled_modules

ROOT = Path(__file__).resolve().parents[1]
#: golden grid rows (tests/data/golden_grid.py) run on the other build: irq_latency (the fused allocation and
#: free loops, with an interrupt source) and contention (four CPUs on the engine); the whole grid runs on each
#: build in CI
ROWS = "test_grid_row_matches_the_fixture and (7-irq_latency or 9-contention)"
SOURCE = Path(__import__("benchframe").__file__).parent


def test_setup_compiles_the_modules_the_package_names():
    tree = ast.parse((ROOT / "setup.py").read_text())
    (listed,) = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "COMPILED" for t in node.targets)]
    files = ast.literal_eval(listed)
    assert [f.removesuffix(".py").replace("/", ".") for f in files] == list(MODULES)
    assert all((ROOT / f).is_file() for f in files)


def _copy(to: Path) -> Path:
    """This build's ``benchframe`` source, without extension modules or caches, in ``to``."""
    shutil.copytree(SOURCE, to / "benchframe", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    return to


def _child(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python args`` importing ``benchframe`` from ``where`` (its working directory: first on sys.path)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COV_CORE_SOURCE")}
    env["PYTHONPATH"] = str(where)
    return subprocess.run([sys.executable, *args], cwd=where, env=env, capture_output=True, text=True,
                          timeout=900, check=False)


def _golden_rows(where: Path, want: str) -> None:
    which = _child(where, "-c", "from benchframe.build import build; print(build())")
    assert which.stdout.strip() == want, which.stderr
    run = _child(where, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "--rootdir", str(ROOT),
                 "-c", str(ROOT / "pyproject.toml"), str(ROOT / "tests" / "test_golden.py"), "-k", ROWS)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout


def test_the_golden_grid_is_the_same_in_pure_python(tmp_path):
    if not compiled_modules():
        pytest.skip("this build is pure Python: the suite itself is the pure-Python run")
    _golden_rows(_copy(tmp_path), "pure Python")


def test_the_golden_grid_is_the_same_compiled(tmp_path):
    if compiled_modules():
        pytest.skip(f"this build is the {build()}: the suite itself is the compiled run")
    mypyc = shutil.which("mypyc", path=str(Path(sys.executable).parent))  # this environment's, not PATH's
    if mypyc is None:
        pytest.skip("mypyc is not installed (pip install 'benchframe[dev]'): the compiled build cannot be made here")
    where = _copy(tmp_path)
    files = [m.replace(".", "/") + ".py" for m in MODULES]
    flags = ["--ignore-missing-imports", "--no-warn-unused-ignores"]  # as setup.py
    made = subprocess.run([mypyc, *flags, *files], cwd=where, capture_output=True, text=True, timeout=900,
                          check=False)
    if made.returncode != 0 and "error:" not in made.stdout:  # no C compiler: nothing to compare with
        pytest.skip(f"mypyc could not build here: {(made.stderr or made.stdout).strip().splitlines()[-1:]}")
    assert made.returncode == 0, made.stdout[-3000:]  # a type error mypyc refuses is the source's bug
    _golden_rows(where, "compiled core")
