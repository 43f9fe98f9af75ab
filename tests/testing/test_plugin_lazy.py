"""The pytest plugin costs nothing to a project that does not use it: pytest loads it wherever benchframe is
installed, and it must register its options without importing the simulator."""

from __future__ import annotations

import subprocess
import sys

UNRELATED_TEST = '''
import sys


def test_unrelated(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("benchframe")  # loaded through its pytest11 entry point
    assert pytestconfig.getoption("--benchframe-design") == []  # and its options are registered
    loaded = sorted(m for m in sys.modules if m == "benchframe" or m.startswith("benchframe."))
    assert "benchframe.mm" not in loaded
    assert loaded == ["benchframe", "benchframe.testing", "benchframe.testing.plugin"], loaded
'''


def test_an_unrelated_pytest_run_does_not_import_the_simulator(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # its own rootdir: none of benchframe's settings
    (tmp_path / "test_unrelated.py").write_text(UNRELATED_TEST)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_unrelated.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "1 passed" in out.stdout


def test_the_kit_names_still_import_from_the_package():
    import benchframe.testing as testing
    from benchframe.testing import Kit, conformance_suite, make_kernel

    assert conformance_suite.__module__ == Kit.__module__ == "benchframe.testing.conformance"
    assert make_kernel.__module__ == "benchframe.testing.kernel"
    try:
        testing.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
