"""Systematic re-entrancy exploration of a design (``benchframe explore``): an interrupt or NMI raised at each
charge point of each operation in turn, on the shared harness."""

from __future__ import annotations

from benchframe.explore.explorer import CONTEXTS, ExploreResult, explore

__all__ = ["CONTEXTS", "ExploreResult", "explore"]
