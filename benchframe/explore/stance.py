"""What a design declares about each exploration context, so that ``benchframe explore`` fails (exit 1) only for
an UNSAFE verdict nobody declared.

A design's factory class may set ``explore_stances = {"nmi": "refuses"}``: per context, one of

* ``"safe"``: no interleaving may break it (the default for an IRQ, another CPU and preemption);
* ``"refuses"``: it refuses the allocation there (returns nothing) and so must stay SAFE;
* ``"unsafe"``: unsafe by contract -- an UNSAFE verdict is expected and does not fail ``explore``.

Against an NMI every design is ``"unsafe"`` unless it says otherwise: the kernel's contract forbids page
allocation and freeing in NMI context (``__free_pages()``: "not in NMI context", kernel-facts §4.2), so a pcp
allocator is unsafe there by design, and the NMI verdict documents how it breaks rather than failing it. An
UNSAFE verdict still marks a design's costs in the reports where it disqualifies them
(``benchframe.explore.verdicts.DISQUALIFYING``), declared or not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe import BenchframeError

if TYPE_CHECKING:
    from benchframe.records import Design

STANCES = ("safe", "refuses", "unsafe")
#: the kernel's contract, per context, for a design that declares nothing
DEFAULT_STANCES = {"irq": "safe", "nmi": "unsafe", "smp": "safe", "preempt": "safe"}
DEFAULT_NOTES = {"nmi": "by contract: no page allocation or freeing in NMI context (kernel-facts §4.2)"}


def stances(design: Design) -> dict[str, str]:
    """The design's stance per context: the defaults, overridden by its factory's ``explore_stances``; a
    declaration naming an unknown context or stance is the plugin's error, in one line."""
    declared = getattr(design.factory, "explore_stances", None) or {}
    if not isinstance(declared, dict):
        raise BenchframeError(f"design {design.name}: explore_stances must be a dict of context -> stance")
    out = dict(DEFAULT_STANCES)
    for context, stance in declared.items():
        if context not in DEFAULT_STANCES:
            raise BenchframeError(f"design {design.name}: explore_stances names context {context!r}; the contexts "
                                  f"are {', '.join(DEFAULT_STANCES)}")
        if stance not in STANCES:
            raise BenchframeError(f"design {design.name}: explore_stances[{context!r}] = {stance!r} must be one "
                                  f"of {', '.join(STANCES)}")
        out[context] = stance
    return out


def note(design: Design, context: str, stance: str, verdict: str, refused: int) -> str:
    """One line on how the verdict meets the stance ("" when there is nothing to say)."""
    declared = getattr(design.factory, "explore_stances", None) or {}
    if stance == "unsafe":
        if context in declared:
            return "declared by the design"
        return DEFAULT_NOTES.get(context, "declared") if verdict == "UNSAFE" else ""
    if stance == "refuses" and verdict == "SAFE" and not refused:
        return "the design declares it refuses allocation here, but no allocation was refused"
    if stance == "refuses" and verdict == "UNSAFE":
        return "the design declares it refuses allocation here, yet an interleaving breaks it"
    return ""


__all__ = ["DEFAULT_STANCES", "STANCES", "note", "stances"]
