"""The fused paths (``benchframe.mm.fast``, ``benchframe.mm.fast_alloc``, ``benchframe.mm.fast_free``) against
the step-by-step ones: every cell run both ways gives the same result, byte for byte, down to each CPU's clock,
its atomics and the kernel's counters.

The slow path is forced by making ``fusable`` and ``plain_machine`` refuse every kernel (``Kernel.__init__`` and
the llist designs' ``__init__`` ask them once)."""

from __future__ import annotations

import pytest

from benchframe.mm import llist_pcp, page_alloc
from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one

#: cells that cross each fused path where it applies: interrupt sources (irq_latency, nmi), several CPUs
#: (contention), the single-page path (single), a second prep pass (twopass), PREEMPT_RT's threaded handlers
CELLS = [
    ("single", "irq_latency", {"bulk": 64, "bursts": 40}, ()),
    ("single", "irq_latency", {"bulk": 8, "bursts": 60, "irq_interval": 700}, ()),
    ("single", "irq_latency", {"bulk": 64, "bursts": 40}, ("PREEMPT_RT",)),
    ("array", "irq_latency", {"bulk": 256, "bursts": 20}, ()),
    ("twopass", "irq_latency", {"bulk": 64, "bursts": 30, "irq_interval": 3000}, ()),
    ("locallock", "irq_latency", {"bulk": 64, "bursts": 40}, ()),
    ("locallock", "irq_latency", {"bulk": 8, "bursts": 60, "irq_interval": 700}, ()),
    ("single", "nmi", {"bulk": 64, "bursts": 30}, ()),
    ("single", "contention", {"cpus": 4, "bursts": 20}, ()),
    ("locallock", "contention", {"cpus": 4, "bursts": 20}, ()),
    ("single", "page_bench04", {"bulk": 8, "pages": 2048}, ()),
    ("locallock", "page_bench04", {"bulk": 64, "pages": 4096}, ()),
    ("array", "page_bench04", {"bulk": 64, "pages": 4096, "test": "single"}, ()),
    ("single", "page_pool", {"packets": 2048}, ()),
    ("single", "numa", {"calls": 20}, ()),
    ("array", "irq_latency", {"bulk": 64, "bursts": 40, "irq_interval": 700}, ()),
    # the design's own pcp lock around the inlined commit (free_pages_locked)
    ("preempt", "irq_latency", {"bulk": 64, "bursts": 40, "irq_interval": 700}, ()),
    ("preempt", "contention", {"cpus": 4, "bursts": 20}, ()),
    ("preempt", "page_pool", {"packets": 2048}, ()),
    ("locallock", "irq_latency", {"bulk": 64, "bursts": 40}, ("PREEMPT_RT",)),
    ("locallock", "page_bench04", {"bulk": 64, "pages": 4096}, ("PREEMPT_RT",)),
    # the llist designs' llist_add() (llist_free_pages): interrupts, NMIs, several CPUs, PREEMPT_RT
    ("llist", "irq_latency", {"bulk": 64, "bursts": 40, "irq_interval": 700}, ()),
    ("llist_del_first", "irq_latency", {"bulk": 8, "bursts": 60, "irq_interval": 700}, ()),
    ("llist", "nmi", {"bulk": 64, "bursts": 30}, ()),
    ("llist", "contention", {"cpus": 4, "bursts": 20}, ()),
    ("llist_del_first", "contention", {"cpus": 4, "bursts": 20}, ()),
    ("llist", "page_bench04", {"bulk": 64, "pages": 4096}, ("PREEMPT_RT",)),
    ("llist_del_first", "page_pool", {"packets": 2048}, ()),
]


#: a workload whose interrupt handlers free pages on the interrupted CPU while its task frees a burst: a
#: handler's llist_add() between the task's read of the head and its cmpxchg makes the task retry, an NMI's free
#: at pcp->high leaves the drain to the task, a handler's bulk free under ``preempt`` bypasses the pcp
HANDLER_FREES = '''
from benchframe import hookimpl
from benchframe.api import LIST, Param, Workload
from benchframe.hw.irq import IRQ, NMI_KIND, InterruptSource
from benchframe.mm.page import GFP_ATOMIC


def run(ctx):
    p = ctx.params
    caller, cpu, impl = ctx.caller(0), ctx.cpus[0], ctx.impl
    pool = []  # the handler's own pages, allocated before the interrupts start
    for _ in range(p["pool"] // 8):
        if ctx.design.shape == LIST:
            impl.alloc_bulk(cpu, GFP_ATOMIC, 8, page_list=pool)
        else:
            slots = [None] * 8
            impl.alloc_bulk(cpu, GFP_ATOMIC, 8, page_array=slots)
            pool += [pg for pg in slots if pg is not None]

    def handler(c):
        if p["bulk_free"] and len(pool) >= 2:
            impl.free_bulk(c, [pool.pop(), pool.pop()])
        elif pool:
            impl.free_page(c, pool.pop())

    kind = NMI_KIND if p["nmi"] else IRQ
    ctx.machine.add_interrupt(cpu, InterruptSource.poisson("dev", p["interval"], handler, seed=ctx.seed, kind=kind))
    array = [None] * p["bulk"]
    for _ in range(p["bursts"]):
        n = caller.alloc_array(GFP_ATOMIC, array, p["bulk"])
        caller.free_pages([pg for pg in array[:n] if pg is not None])
        array[:] = [None] * p["bulk"]


@hookimpl
def benchframe_register_workloads():
    return [Workload(name="handler_frees", run=run, description="interrupt handlers free pages", standard=False,
                     params=(Param("bulk", 64, "pages per burst"), Param("bursts", 40, "bursts"),
                             Param("pool", 512, "the handler's pages"), Param("interval", 300, "mean cycles"),
                             Param("nmi", False, "NMIs instead of IRQs", type=bool),
                             Param("bulk_free", False, "handlers free two pages at once", type=bool)))]
'''

#: cells of ``handler_frees``: what its interrupts make the fused llist loop take
HANDLER_CELLS = [
    ("llist", {}),
    ("llist", {"nmi": True}),
    ("llist_del_first", {"nmi": True, "interval": 150}),
    ("llist", {"bulk_free": True}),
    ("preempt", {}),
    ("preempt", {"bulk_free": True}),
]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    plugin = tmp_path_factory.mktemp("plugin") / "handler_frees.py"
    plugin.write_text(HANDLER_FREES)
    reg = get_registry((str(plugin),))
    assert not reg.errors, reg.errors
    return reg


def _run(registry, monkeypatch, spec: RunSpec) -> tuple[str, list[bool]]:
    """The run's result and end state, and for each kernel whether a fused path applied."""
    kernels: list[page_alloc.Kernel] = []
    llists: list[llist_pcp.LlistAllocator] = []
    init, llist_init = page_alloc.Kernel.__init__, llist_pcp.LlistAllocator.__init__

    def spy(self, *args, **kwargs):
        init(self, *args, **kwargs)
        kernels.append(self)

    def llist_spy(self, *args, **kwargs):
        llist_init(self, *args, **kwargs)
        llists.append(self)

    with monkeypatch.context() as m:
        m.setattr(page_alloc.Kernel, "__init__", spy)
        m.setattr(llist_pcp.LlistAllocator, "__init__", llist_spy)
        result = run_one(spec, registry)
    state = [([(cpu.clock, cpu.atomics) for cpu in k.machine.cpus], k.stat.as_dict()) for k in kernels]
    fused = [k.fused for k in kernels] if not llists else [d.fused_free for d in llists]
    return result.model_dump_json() + repr(state), fused


@pytest.mark.parametrize("design,workload,params,config", CELLS, ids=lambda v: str(v))
def test_the_fused_paths_give_the_slow_paths_numbers(registry, monkeypatch, design, workload, params, config):
    spec = RunSpec(design=design, workload=workload, params=params, seed=2, config=config)
    fused, took_fused = _run(registry, monkeypatch, spec)
    monkeypatch.setattr(page_alloc, "fusable", lambda k: False)
    monkeypatch.setattr(llist_pcp, "plain_machine", lambda k: False)
    slow, took_slow = _run(registry, monkeypatch, spec)
    assert took_fused and all(took_fused) and not any(took_slow)  # each way was taken
    assert fused == slow


@pytest.mark.parametrize("design,params", HANDLER_CELLS, ids=lambda v: str(v))
def test_the_fused_free_loops_give_the_slow_paths_numbers_when_handlers_free(registry, monkeypatch, design,
                                                                            params):
    spec = RunSpec(design=design, workload="handler_frees", params=params, seed=3)
    fused, took_fused = _run(registry, monkeypatch, spec)
    monkeypatch.setattr(page_alloc, "fusable", lambda k: False)
    monkeypatch.setattr(llist_pcp, "plain_machine", lambda k: False)
    slow, took_slow = _run(registry, monkeypatch, spec)
    assert took_fused and all(took_fused) and not any(took_slow)
    assert fused == slow
