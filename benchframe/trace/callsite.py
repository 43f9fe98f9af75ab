"""Call sites and execution contexts from a kernel call chain.

The call site of a page event is the first frame (innermost first) outside the page allocator: for
``__alloc_frozen_pages_noprof <- alloc_pages_mpol <- alloc_pages_noprof <- skb_page_frag_refill <- ...`` it is
``skb_page_frag_refill``, the code that asked for the page and could ask for several at once. The allocator's
own frames changed names across kernels (``__alloc_pages_nodemask`` until 5.12, ``__alloc_pages`` in 5.13,
the ``_noprof`` suffixes of memory-allocation profiling in 6.10, ``__alloc_frozen_pages_noprof`` in 6.14), so the
list below covers 5.x and 6.x names, and ``CallSites(extra=...)`` (``trace import --allocator-frame``) extends it
for a kernel that renamed something again.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from benchframe.trace.events import INSIDE_ALLOCATOR, NO_CALLCHAIN

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: frames of the page allocator itself (mm/page_alloc.c, the mempolicy and folio wrappers around it), 5.x and
#: 6.x names. A frame here is never a call site.
ALLOCATOR_FRAMES = frozenset({
    # the allocation entry points and their policy wrappers
    "__alloc_pages_nodemask", "__alloc_pages", "__alloc_pages_noprof", "alloc_pages", "alloc_pages_noprof",
    "alloc_pages_current", "alloc_pages_vma", "alloc_page_interleave", "alloc_pages_preferred_many",
    "alloc_pages_mpol", "alloc_pages_mpol_noprof", "__alloc_frozen_pages_noprof", "alloc_frozen_pages_noprof",
    "alloc_frozen_pages_nolock_noprof", "alloc_pages_nolock_noprof", "try_alloc_pages_noprof",
    "__alloc_pages_node", "__alloc_pages_node_noprof", "alloc_pages_node", "alloc_pages_node_noprof",
    "__folio_alloc", "__folio_alloc_noprof", "folio_alloc", "folio_alloc_noprof", "folio_alloc_mpol_noprof",
    "vma_alloc_folio", "vma_alloc_folio_noprof", "__get_free_pages", "get_free_pages_noprof",
    "get_zeroed_page", "get_zeroed_page_noprof", "alloc_pages_exact", "alloc_pages_exact_noprof",
    "alloc_pages_exact_nid", "alloc_pages_exact_nid_noprof", "make_alloc_exact",
    # the bulk API
    "__alloc_pages_bulk", "alloc_pages_bulk_noprof", "alloc_pages_bulk_array_mempolicy",
    "alloc_pages_bulk_array_mempolicy_noprof", "alloc_pages_bulk_mempolicy_noprof",
    "alloc_pages_bulk_array_interleave", "alloc_pages_bulk_interleave", "alloc_pages_bulk_weighted_interleave",
    "alloc_pages_bulk_array_preferred_many", "alloc_pages_bulk_preferred_many",
    # inside the allocator
    "get_page_from_freelist", "rmqueue", "rmqueue_buddy", "rmqueue_pcplist", "__rmqueue_pcplist",
    "rmqueue_bulk", "__rmqueue", "__rmqueue_smallest", "__rmqueue_fallback", "__rmqueue_claim",
    "__rmqueue_steal", "__rmqueue_cma_fallback", "prep_new_page", "post_alloc_hook", "prep_compound_page",
    "__alloc_pages_slowpath", "__alloc_pages_direct_compact", "__alloc_pages_direct_reclaim",
    "__alloc_pages_may_oom", "__alloc_pages_cpuset_fallback", "steal_suitable_fallback",
    "try_to_claim_block", "expand", "page_del_and_expand",
    # the free side
    "__free_pages", "free_pages", "__free_pages_ok", "free_the_page", "__free_frozen_pages",
    "free_frozen_pages", "free_unref_page", "free_unref_page_list", "free_unref_folios", "free_unref_page_commit",
    "free_frozen_page_commit", "free_unref_page_prepare", "free_pages_prepare", "free_one_page", "__free_one_page",
    "free_pcppages_bulk", "free_compound_page", "__free_pages_core", "free_pages_exact", "__folio_put",
    "free_pages_nolock",
    # pcp draining
    "drain_pages_zone", "drain_pages", "drain_local_pages", "drain_all_pages", "__drain_all_pages",
    "drain_zone_pages", "decay_pcp_high", "drain_local_pages_wq",
})

#: frames of the tracing machinery itself (ftrace's stacktrace option starts the chain in the probe)
TRACING_PREFIXES = ("trace_event_raw_event_", "perf_trace_", "__traceiter_", "__bpf_trace_", "trace_call_bpf")

# Context markers, met innermost first: the first marker found decides. A softirq run on interrupt exit has
# handle_softirqs inside sysvec_*, so the softirq frame is met first; a task preempted on interrupt exit that
# allocates or frees in __schedule has the scheduler frames inside asm_sysvec_*, so task wins there.
SOFTIRQ_FRAMES = frozenset({
    "handle_softirqs", "__do_softirq", "do_softirq", "do_softirq_own_stack", "net_rx_action", "net_tx_action",
    "tasklet_action", "tasklet_hi_action", "tasklet_action_common", "run_timer_softirq", "blk_done_softirq",
    "irq_poll_softirq", "rcu_core_si", "hrtimer_run_softirq", "run_rebalance_domains",
})
HARDIRQ_FRAMES = frozenset({
    "handle_irq_event", "handle_irq_event_percpu", "__handle_irq_event_percpu", "handle_edge_irq",
    "handle_fasteoi_irq", "handle_level_irq", "handle_percpu_irq", "handle_percpu_devid_irq",
    "__common_interrupt", "common_interrupt", "asm_common_interrupt", "hrtimer_interrupt", "do_IRQ",
    "generic_handle_irq", "generic_handle_domain_irq", "handle_domain_irq", "gic_handle_irq", "el1_interrupt",
    "el0_interrupt",
})
# the x86 system-vector entries (__sysvec_irq_work, __sysvec_call_function_single, ...); not irq_work_run or
# smp_call_function*, which also run in task context (the lazy irq_work thread, the IPI's sender)
HARDIRQ_PREFIXES = ("__sysvec_", "sysvec_", "asm_sysvec_", "smp_apic_timer_interrupt")
NMI_FRAMES = frozenset({"asm_exc_nmi", "exc_nmi", "default_do_nmi", "nmi_handle", "do_nmi"})
TASK_FRAMES = frozenset({
    "__schedule", "schedule_tail", "finish_task_switch", "preempt_schedule_irq", "irqentry_exit_cond_resched",
    "raw_irqentry_exit_cond_resched", "exit_to_user_mode_loop", "irqentry_exit_to_user_mode",
})

# gcc's clone suffixes: do_execveat_common.isra.0 is do_execveat_common
_CLONE = re.compile(r"\.(?:isra|constprop|part|cold|llvm|lto_priv)(?:\.\d+)*.*$")


def frame_symbol(text: str) -> str:
    """``"alloc_pages_mpol+0x86"`` or ``"alloc_pages_mpol+0x86/0x1a0"`` -> ``"alloc_pages_mpol"``; gcc clone
    suffixes are dropped (``folios_put_refs.part.0`` -> ``folios_put_refs``) so one function is one call site."""
    plus = text.find("+0x")
    if plus > 0:
        text = text[:plus]
    return _CLONE.sub("", text) if "." in text else text


class CallSites:
    """The allocator-frame list (built-in plus ``extra``) and the two questions asked of a chain."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.extra = tuple(sorted(set(extra)))
        self.frames = ALLOCATOR_FRAMES | frozenset(self.extra)

    def is_internal(self, symbol: str) -> bool:
        return symbol in self.frames or symbol.startswith(TRACING_PREFIXES)

    def call_site(self, frames: Sequence[str] | None) -> str:
        """The first frame outside the page allocator, innermost first."""
        if frames is None:
            return NO_CALLCHAIN
        for symbol in frames:
            if not self.is_internal(symbol):
                return symbol
        return INSIDE_ALLOCATOR


def context_of(frames: Sequence[str] | None) -> str:
    """``task``, ``softirq``, ``hardirq`` or ``nmi`` from a call chain (innermost first); ``unknown`` without one.

    A chain with no interrupt or softirq frame is task context. A chain cut short by perf's maximum depth
    could hide an outer interrupt frame; kernel page-allocation chains are far shorter than that limit (127).
    """
    if frames is None:
        return "unknown"
    for symbol in frames:
        if symbol in SOFTIRQ_FRAMES:
            return "softirq"
        if symbol in TASK_FRAMES:
            return "task"
        if symbol in HARDIRQ_FRAMES or symbol.startswith(HARDIRQ_PREFIXES):
            return "hardirq"
        if symbol in NMI_FRAMES:
            return "nmi"
    return "task"
