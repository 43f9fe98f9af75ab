"""The example plugin's tests are collected together with the project's in one pytest run: both trees have a
``test_conformance.py``, which only ``--import-mode=importlib`` (pyproject's addopts) tells apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_project_and_example_tests_collect_in_one_run():
    ours = "tests/testing/test_conformance.py"
    example = "examples/pcpspin/tests/test_conformance.py"
    assert (ROOT / ours).exists() and (ROOT / example).exists()
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", ours,
                          example], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "import file mismatch" not in out.stdout + out.stderr
    counts = dict(line.rsplit(": ", 1) for line in out.stdout.splitlines() if ": " in line)  # -q -q: per file
    assert int(counts[ours]) > 5 and int(counts[example]) > 5, out.stdout
