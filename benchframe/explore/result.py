"""What one exploration found: the verdict, the simplest interleaving that breaks the design, the extent of
the search (what it covered and what it did not), and the stance the design declared for that context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SAFE = "SAFE"
UNSAFE = "UNSAFE"


@dataclass
class ExploreResult:
    design: str
    context: str
    verdict: str  # "SAFE" or "UNSAFE"
    reason: str
    steps: list[str] = field(default_factory=list)
    explored_points: int = 0  # interleavings the search stands for (a run may stand for several, see covered)
    refused: int = 0
    # every (operation, adversary) that breaks, simplest first, each with its earliest charge point:
    # {"operation", "handler", "charge_point", "reason", "steps"}
    findings: list[dict[str, Any]] = field(default_factory=list)
    runs: int = 0  # interleavings actually run
    covered: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    stance: str = "safe"  # what the design declares for this context (``benchframe.explore.stance``)
    stance_note: str = ""

    @property
    def accepted(self) -> bool:
        """False for an UNSAFE verdict the design does not declare: what makes ``benchframe explore`` exit 1."""
        return self.verdict != UNSAFE or self.stance == "unsafe"

    def render(self) -> str:
        declared = ""
        if self.verdict == UNSAFE and self.stance == "unsafe":
            declared = f" [declared: {self.stance_note}]" if self.stance_note else " [declared unsafe]"
        lines = [f"{self.design} vs {self.context}: {self.verdict}"
                 + (f" ({self.reason})" if self.reason else "")
                 + f" — {self.explored_points} interleavings explored ({self.runs} runs){declared}"]
        lines += [f"  {i}. {s}" for i, s in enumerate(self.steps, 1)]
        shown = {self.findings[0]["operation"]} if self.findings else set()
        for f in self.findings[1:]:
            at = f"charge point {f['charge_point']}" if isinstance(f["charge_point"], int) else f["charge_point"]
            who = f"handler {f['handler']}" if self.context in ("irq", "nmi") else f["handler"]
            lines.append(f"  also breaks: {f['operation']}, {who}, {at}: {f['reason']}")
            if f["operation"] not in shown:  # the full interleaving once per operation
                shown.add(f["operation"])
                lines += [f"    {i}. {s}" for i, s in enumerate(f["steps"], 1)]
        if self.verdict != UNSAFE and self.stance == "unsafe" and self.stance_note:
            lines.append(f"  note: the design declares itself unsafe here ({self.stance_note}); none was found")
        elif self.stance_note and self.stance != "unsafe":
            lines.append(f"  note: {self.stance_note}")
        lines += [f"  covered: {c}" for c in self.covered]
        lines += [f"  not covered: {c}" for c in self.not_covered]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["accepted"] = self.accepted
        return out


__all__ = ["SAFE", "UNSAFE", "ExploreResult"]
