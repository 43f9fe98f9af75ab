"""The ``benchframe`` command line: ``main`` in ``benchframe.cli.main``, one module per command."""

from __future__ import annotations

from benchframe.cli.main import main

__all__ = ["main"]
