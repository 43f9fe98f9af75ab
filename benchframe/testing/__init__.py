"""The conformance kit for design authors: ``conformance_suite(NAME)`` is a pytest test class that runs the
design contract against a design; ``make_kernel(NAME)`` boots a small machine running it."""

from __future__ import annotations

from benchframe.testing.conformance import Kit, conformance_suite
from benchframe.testing.kernel import make_kernel

__all__ = ["Kit", "conformance_suite", "make_kernel"]
