"""Systematic exploration of a design: ``benchframe explore --designs NAME [--context irq|nmi|smp|preempt|all]``.

Each context is a kind of adversary that may run in the middle of a task's allocator operation:

* ``irq`` and ``nmi`` (``reentry``): an interrupt at each charge point, its handler allocating or freeing on the
  same CPU, in sizes read from the state it finds;
* ``preempt`` (``preemption``): at each charge point where the task may be preempted, another task runs on the
  same CPU; then the first resumes there, or -- where it may migrate -- on another CPU;
* ``smp`` (``smp``): a second CPU, every pair of operations interleaved at every shared access of each, with a
  preemption bound of two, and every access to shared state checked for lost updates and for data touched
  without the lock that protects it.

The verdict is SAFE, or UNSAFE with the first (smallest) interleaving that breaks: the simplest operation, the
simplest adversary, the earliest point -- printed as steps a kernel developer can follow, with the shared state
the adversary changed and the interrupted code's locals that still hold the old values. Each verdict says what
the search covered and what it did not, and how it meets the stance the design declares for the context
(``benchframe.explore.stance``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchframe import BenchframeError
from benchframe.explore.preemption import explore_preempt
from benchframe.explore.reentry import explore_interrupts
from benchframe.explore.result import ExploreResult
from benchframe.explore.smp import explore_smp
from benchframe.explore.stance import note, stances
from benchframe.kconfig import KernelConfig
from benchframe.plugins import get_registry
from benchframe.verdict import CONTEXT_LABELS, CONTEXTS

if TYPE_CHECKING:
    from benchframe.registry import Registry

def explore(design_spec: str, context: str = "irq", registry: Registry | None = None,
            config: tuple[str, ...] = (), kernel: str | None = None, every_point: bool = False,
            first_only: bool = False) -> ExploreResult:
    """Explore ``design_spec`` against ``context`` (see the module docstring). ``every_point``: run every charge
    point even where one run stands for an IRQs-off window (what that rule is tested against). ``first_only``:
    stop at the first interleaving that breaks the design -- the one the whole search reports first, and all a
    verdict needs (``benchframe.explore.verdicts``)."""
    if context not in CONTEXTS:
        raise BenchframeError(f"--context must be one of {', '.join(CONTEXTS)} or all, not {context!r}")
    registry = registry or get_registry()
    kconfig = KernelConfig.parse(list(config), kernel)
    design, _ = registry.design_spec(design_spec)  # unknown design: one-line error before any work
    stance = stances(design)[context]
    if context == "smp":
        result = explore_smp(design_spec, registry, kconfig, first_only)
    elif context == "preempt":
        result = explore_preempt(design_spec, registry, kconfig, first_only)
    else:
        result = explore_interrupts(design_spec, context, registry, kconfig, every_point, first_only)
    result.stance = stance
    result.stance_note = note(design, context, stance, result.verdict, result.refused)
    return result


__all__ = ["CONTEXTS", "CONTEXT_LABELS", "ExploreResult", "explore"]
