"""A design's exploration verdicts as the reports, the result document and the verdict cache hold them:
``Verdict`` (one design against one context: ``benchframe explore``), the contexts, and which verdicts mark a
design's costs ``[UNSAFE]``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: the contexts ``benchframe explore`` runs a design's operations against: an interrupt whose handler allocates
#: on the same CPU, an NMI, another CPU, and preemption (with migration) of the task on its own CPU
CONTEXTS = ("irq", "nmi", "smp", "preempt")
#: how a report names each context's column
CONTEXT_LABELS = {"irq": "vs IRQ", "nmi": "vs NMI", "smp": "vs another CPU", "preempt": "vs preemption"}
#: the contexts against which an UNSAFE verdict disqualifies a design's costs: an interrupt on the same CPU
#: (allocating from a hardirq is allowed: GFP_ATOMIC), a second CPU and preemption; not an NMI, from which no
#: page allocator may allocate (the single-page path itself is UNSAFE there)
DISQUALIFYING = ("irq", "smp", "preempt")
#: how the reports say it
DISQUALIFYING_TEXT = "against an IRQ on the same CPU, an operation on another CPU or preemption"
UNSAFE_MARK = "[UNSAFE]"


@dataclass(frozen=True)
class Verdict:
    """One design's verdict against one context: ``SAFE``, ``UNSAFE`` or ``ERROR`` (explore could not run it),
    the reason (the simplest failing case, or what a SAFE design refuses), the extent of the search (what it
    covered and not), and the stance the design declares there (``benchframe.explore.stance``)."""

    design: str
    context: str
    verdict: str
    reason: str
    explored_points: int = 0
    refused: int = 0
    failing_pairs: int = 0
    stance: str = "safe"
    covered: tuple[str, ...] = field(default_factory=tuple)
    not_covered: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["covered"], out["not_covered"] = list(self.covered), list(self.not_covered)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k in ("covered", "not_covered"):
            if k in kw:
                kw[k] = tuple(kw[k])
        return cls(**kw)

    @classmethod
    def checked(cls, d: Any) -> Verdict | None:
        """``from_dict`` of a dict with every field of its type, else None."""
        if not isinstance(d, dict) or set(d) != {f.name for f in fields(cls)}:
            return None
        texts = ("design", "context", "verdict", "reason", "stance")
        if not all(isinstance(d[k], str) for k in texts):
            return None
        if not all(type(d[k]) is int and d[k] >= 0 for k in ("explored_points", "refused", "failing_pairs")):
            return None
        if not all(isinstance(d[k], list) and all(isinstance(x, str) for x in d[k]) for k in ("covered",
                                                                                             "not_covered")):
            return None
        return cls.from_dict(d)

    @property
    def accepted(self) -> bool:
        """An UNSAFE verdict the design declares (``stance`` "unsafe"), or not UNSAFE."""
        return self.verdict != "UNSAFE" or self.stance == "unsafe"


#: per design, its verdicts by context
Verdicts = dict[str, dict[str, Verdict]]


def unsafe(verdicts: dict[str, Verdict] | None) -> bool:
    """Whether the verdicts disqualify the design's costs: UNSAFE against an interrupt on the same CPU, another
    CPU or preemption."""
    per = verdicts or {}
    return any(per[c].verdict == "UNSAFE" for c in DISQUALIFYING if c in per)


def marked(design: str, verdicts: Verdicts | None) -> str:
    """``llist [UNSAFE]`` for a design explore found unsafe against an interrupt, else the name."""
    return f"{design} {UNSAFE_MARK}" if unsafe((verdicts or {}).get(design)) else design


def verdicts_as_json(verdicts: Verdicts) -> dict[str, dict[str, dict[str, Any]]]:
    """The verdicts as a result document holds them: design -> context -> ``Verdict.as_dict()``."""
    return {d: {c: v.as_dict() for c, v in per.items()} for d, per in verdicts.items()}


def verdicts_from_json(doc: Any) -> Verdicts:
    """Verdicts saved in a result document; malformed entries are left out (they are explored again)."""
    out: Verdicts = {}
    if not isinstance(doc, dict):
        return out
    for design, per in doc.items():
        if not isinstance(per, dict):
            continue
        try:
            out[design] = {c: Verdict.from_dict(v) for c, v in per.items() if isinstance(v, dict)}
        except TypeError:
            continue
    return out
