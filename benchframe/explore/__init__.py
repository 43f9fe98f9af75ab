"""Systematic re-entrancy exploration of a design (``benchframe explore``): an interrupt or NMI raised at each
charge point of each operation in turn, or a second CPU at each shared access, on the shared harness."""

from __future__ import annotations

from benchframe.explore.explorer import ExploreResult, explore
from benchframe.results import CONTEXT_LABELS, CONTEXTS

__all__ = ["CONTEXTS", "CONTEXT_LABELS", "ExploreResult", "explore"]
