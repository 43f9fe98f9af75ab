"""How an interleaving ended: completed, deadlocked, or with the model's own structures so corrupted that its
code raised; and which of its problems a kernel developer would name first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.engine import Deadlock

if TYPE_CHECKING:
    from collections.abc import Callable


def failure(body: Callable[[], None]) -> str:
    """Run an interleaving: ``""`` if it completed, else what broke it -- a deadlock, or a structure so
    corrupted that the model code itself raised (a finding too). Bad input still propagates."""
    try:
        body()
    except Deadlock as exc:
        return str(exc)
    except BenchframeError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupted structure broke the model code itself: a finding
        return f"model state corrupted: {type(exc).__name__}: {exc}"
    return ""


TELLING = ("lost update", "without holding", "twice", "lost", "corruption", "deadlock")


def most_telling(problems: list[str]) -> list[str]:
    """The problems, the one a kernel developer would name first (an update lost, a lock not held, a page
    handed out twice or lost, a corrupted list) ahead of its consequences (a count that no longer matches)."""
    def rank(p: str) -> int:
        return next((i for i, word in enumerate(TELLING) if word in p), len(TELLING))
    return sorted(problems, key=rank)


def reason_of(problem: str) -> str:
    return problem.split(" (CPU")[0]


__all__ = ["failure", "most_telling", "reason_of"]
