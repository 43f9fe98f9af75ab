"""The conformance kit's pytest plugin (entry point ``pytest11``): ``--benchframe-design`` and
``--benchframe-plugin``.

pytest loads this module in every run of every project where benchframe is installed, so it imports nothing of
the simulator: the options are plain declarations, and ``benchframe.plugins`` is imported only in the hook that
needs it, when ``--benchframe-plugin`` is given. The kit itself (``benchframe.testing.conformance``) is imported
by the test modules that use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """The kit's options: ``--benchframe-design``, ``-plugin``, ``-examples``, ``-steps``, ``-seed``."""
    group = parser.getgroup("benchframe")
    group.addoption("--benchframe-design", action="append", default=[], metavar="NAME[,NAME]",
                    help="design spec(s) that conformance_suite() classes without a name run against")
    group.addoption("--benchframe-plugin", action="append", default=[], metavar="PATH",
                    help="load a benchframe plugin module/path before collecting conformance suites")
    group.addoption("--benchframe-examples", type=int, default=None, metavar="N",
                    help="random sequences per conformance suite (default 10)")
    group.addoption("--benchframe-steps", type=int, default=None, metavar="N",
                    help="rules per random sequence, at most (default 20)")
    group.addoption("--benchframe-seed", type=int, default=None, metavar="S",
                    help="the hypothesis seed of the random sequences (default: a fresh one each run)")


def pytest_configure(config: pytest.Config) -> None:
    """Load the ``--benchframe-plugin`` modules into every registry of the test run."""
    extra = tuple(config.getoption("--benchframe-plugin") or ())
    if extra:
        from benchframe import plugins  # the simulator, only for a run that asks for a benchframe plugin

        plugins.set_default_plugins(extra)  # conformance_suite() without plugins= sees them too


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``conformance_suite()`` without a name: one run of each test per ``--benchframe-design`` spec."""
    if not getattr(metafunc.cls, "_benchframe_from_option", False):
        return
    specs = [s.strip() for opt in metafunc.config.getoption("--benchframe-design") or ()
             for s in opt.split(",") if s.strip()]
    if specs:
        metafunc.parametrize("_benchframe_spec", specs, indirect=True, ids=specs)
