"""``make_kernel``: a small simulated machine running one design on the shared harness, for the conformance kit,
its random sequences and a design author poking at a design by hand."""

from __future__ import annotations

from benchframe.hw.irq import Interrupts
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.plugins import get_registry
from benchframe.workloads.context import Harness

SMALL_ZONE = 16384  # pages: fast to check, batch 3 / high 18 so refills and drains happen often


def make_kernel(design_spec: str, topology: Topology | None = None, config: tuple[str, ...] = (),
                plugins: tuple[str, ...] = (), irq_class: type[Interrupts] = Interrupts) -> Harness:
    """Boot a small simulated machine running ``design_spec`` (``"llist:free=splice"``) on the shared harness:
    ``h.impl.alloc_bulk(h.cpus[0], GFP_ATOMIC, n, page_list=[])`` calls the design directly,
    ``h.caller().alloc(GFP_ATOMIC, n)`` as a caller would, ``h.invariant_problems()`` checks the result
    (the design's own ``benchframe_check_invariants`` hooks included)."""
    reg = get_registry(plugins)
    design, options = reg.design_spec(design_spec)
    return Harness(design, options, reg.cost_model(None), KernelConfig.parse(list(config)),
                   topology or Topology.uma(cpus=1, normal_pages=SMALL_ZONE), reg, irq_class)
