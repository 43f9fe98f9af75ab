"""The conformance kit for design authors: ``conformance_suite(NAME)`` is a pytest test class that runs the
design contract against a design; ``make_kernel(NAME)`` boots a small machine running it.

The names are imported on first use (PEP 562), not with the package: pytest imports ``benchframe.testing.plugin``
-- and so this package -- in every run wherever benchframe is installed, and an unrelated test suite should not
pay for importing the simulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchframe.testing.conformance import Kit, conformance_suite, make_kernel

__all__ = ["Kit", "conformance_suite", "make_kernel"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from benchframe.testing import conformance

        return getattr(conformance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
