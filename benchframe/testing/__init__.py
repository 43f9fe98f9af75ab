"""The conformance kit for design authors: ``conformance_suite(NAME)`` is a pytest test class that runs the
design contract against a design; ``make_kernel(NAME)`` boots a small machine running it.

The names are imported on first use (PEP 562), not with the package: pytest imports ``benchframe.testing.plugin``
-- and so this package -- in every run wherever benchframe is installed, and an unrelated test suite should not
pay for importing the simulator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchframe.testing.conformance import Kit, conformance_suite
    from benchframe.testing.kernel import make_kernel

__all__ = ["Kit", "conformance_suite", "make_kernel"]
_MODULES = {"Kit": "conformance", "conformance_suite": "conformance", "make_kernel": "kernel"}


def __getattr__(name: str) -> object:
    """``Kit``, ``conformance_suite`` or ``make_kernel``, imported from its module on first use."""
    if name in _MODULES:
        return getattr(importlib.import_module(f"benchframe.testing.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
