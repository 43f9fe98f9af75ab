"""What the code of a mutant (``benchframe.testing.mutants``) calls in place of what it replaced: IRQs disabled
and enabled instead of saved and restored, ``zone->lock`` without the IRQ save, and ``pcp->count`` or a list's
emptiness as they were read before the design's ``lock()`` -- which ``recording`` notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchframe.mm.pcp import PcpOps


def _mut_disable(cpu: Any) -> bool:
    cpu.local_irq_disable()
    return True


def _mut_enable(cpu: Any, flags: Any = None) -> None:
    cpu.local_irq_enable()


def _mut_spin_lock(cpu: Any, zone: Any) -> None:
    zone.lock.lock(cpu)  # spin_lock(): IRQs left as they are, so zone_unlock() restores nothing


def _before(owner: Any, cpu: Any) -> tuple[Any, int, list[int]] | None:
    ops = getattr(owner, "pcp_ops", owner)
    stack = getattr(ops, "_mut_before", {}).get(cpu.id)
    return stack[-1] if stack else None


def _mut_count(owner: Any, cpu: Any, value: int) -> int:
    """``pcp->count`` as read before the design's lock(): what came in between is not seen."""
    seen = _before(owner, cpu)
    return value if seen is None else value - seen[1]


def _mut_len(owner: Any, cpu: Any, lst: Any) -> int:
    seen = _before(owner, cpu)
    if seen is None or not any(lst is other for other in seen[0].lists):
        return len(lst)
    i = next(i for i, other in enumerate(seen[0].lists) if other is lst)
    return len(lst) - seen[2][i]


HELPERS = {f.__name__: f for f in (_mut_disable, _mut_enable, _mut_spin_lock, _mut_count, _mut_len)}


def recording(base: type[PcpOps]) -> dict[str, Any]:
    """``lock``/``unlock`` that note, per CPU, what changed between the read before the lock and the lock."""
    def lock(self: Any, cpu: Any, pcp: Any = None) -> Any:
        before = (pcp.count, [len(lst) for lst in pcp.lists]) if pcp is not None else None
        token = base.lock(self, cpu, pcp)
        if token is not None:
            stacks = self.__dict__.setdefault("_mut_before", {})
            if before is None:
                stacks.setdefault(cpu.id, []).append(None)
            else:
                stacks.setdefault(cpu.id, []).append((pcp, pcp.count - before[0],
                                                      [len(lst) - n for lst, n in zip(pcp.lists, before[1])]))
        return token

    def unlock(self: Any, cpu: Any, token: Any, pcp: Any = None) -> None:
        stack = self.__dict__.get("_mut_before", {}).get(cpu.id)
        if stack:
            stack.pop()
        base.unlock(self, cpu, token, pcp)
    return {"lock": lock, "unlock": unlock}


__all__ = ["HELPERS", "recording"]
