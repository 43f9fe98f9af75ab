"""Systematic exploration of a design (``benchframe explore``): an interrupt or NMI raised at each charge point
of each operation in turn, a task preempted (and migrated) there, or a second CPU interleaved at each shared
access, on the shared harness; the adversaries' sizes read from the state they find."""

from __future__ import annotations

from benchframe.explore.explorer import explore
from benchframe.explore.result import ExploreResult
from benchframe.verdict import CONTEXT_LABELS, CONTEXTS

__all__ = ["CONTEXTS", "CONTEXT_LABELS", "ExploreResult", "explore"]
