"""The simulated kernel's version and configuration: what changes the semantics (or the work) of the model.

A *kernel version* (``--kernel``) is the code base the allocator paths follow: ``5.13`` (the default, where
the bulk allocator was merged) or ``4.10-prototype`` (4.10-rc2 with Mel Gorman's January 2017 series, on which
the first bulk allocator prototype was measured; kernel-facts §2.4). *Options* (``--config``) are CONFIG_
switches on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchframe import BenchframeError

OPTIONS: dict[str, str] = {
    "PREEMPT_RT": "local_lock and spinlock_t become per-CPU sleeping locks; IRQ handlers are threaded",
    "PAGE_OWNER": "page_owner is initialised: designs based on 5.14+ force the bulk allocator to one page at a "
                  "time (the pagesets.lock recursion fix)",
    "NUMA": "two nodes of one CPU each instead of the default single node",
    "KASAN": "generic KASAN: every instrumented memory access of a modelled function pays a shadow check; page "
             "allocation unpoisons and freeing poisons the page's shadow",
    "DEBUG_VM": "check_new_page() on every page taken from a pcp list and free_pages_check() on every page freed "
                "(instead of when pages move between the buddy and pcp lists), plus the VM_BUG_ON checks",
    "LOCKDEP": "lock_acquire/lock_release on every spin lock and unlock, and the fs_reclaim lockdep map taken in "
               "prepare_alloc_pages() for a request that may reclaim (GFP_KERNEL)",
    "TRACE_IRQFLAGS": "trace_hardirqs_off()/trace_hardirqs_on() on every IRQ save, restore, disable and enable",
    "DEBUG_ATOMIC_SLEEP": "might_sleep() in prepare_alloc_pages() for a request that may reclaim (GFP_KERNEL)",
}
#: the options that only add work (debugging): what ``Prices`` and the machine add by their mechanisms
DEBUG_OPTIONS = ("KASAN", "DEBUG_VM", "LOCKDEP", "TRACE_IRQFLAGS", "DEBUG_ATOMIC_SLEEP")


@dataclass(frozen=True)
class KernelVersion:
    """What differs between the kernel code bases the model follows (each field names its source)."""

    name: str
    description: str
    #: zone_batchsize(): the batch is capped at this many bytes of pages (512 KiB in 4.10, 1 MiB by 5.13)
    pcp_batch_cap_bytes: int
    #: __alloc_pages_bulk(): one page left to fill takes the single-page path (5.13); the 2017 prototype had
    #: no such fallback (kernel-facts §2.4: "which is why bulk=1, 128 cycles, beats single, 158")
    bulk_one_page_fallback: bool
    #: PGALLOC and zone_statistics() per page inside the IRQs-off loop (5.13) or once per call (2017, 5.14)
    bulk_stats_per_page: bool
    #: the fast path computes alloc_flags_nofragment() (since 5.0)
    alloc_flags_nofragment: bool
    #: the kernel has a free_pages_bulk(list) (dropped in v5): "2017", the prototype's, through the pcp
    #: (free_hot_cold_page()); "2021", v1-v4's, each page to the buddy lists by __free_pages_ok() under
    #: zone->lock (kernel-facts §2.2); "" none
    free_pages_bulk: str
    #: the bulk call's own work is the 2017 __alloc_pages_bulk_nodemask()'s, not 5.13's __alloc_pages_bulk()'s
    bulk_2017: bool = False
    #: v1-v4: "if (WARN_ON_ONCE(!list_empty(page_list))) return 0" -- a caller's list must be empty
    bulk_list_must_be_empty: bool = False
    #: v1-v4: no zone passing the watermark returns 0 (5.13 takes the single-page path, which may reclaim)
    bulk_no_zone_returns_0: bool = False


KERNELS: dict[str, KernelVersion] = {
    "5.13": KernelVersion(
        "5.13", "mm/page_alloc.c as merged in 5.13 (387ba26fb1cb, 0f87d9d30f21 and the 5.13 fixes)",
        pcp_batch_cap_bytes=1024 * 1024, bulk_one_page_fallback=True, bulk_stats_per_page=True,
        alloc_flags_nofragment=True, free_pages_bulk=""),
    "5.12-v4": KernelVersion(
        "5.12-v4", "5.12-rc2 + [PATCH 0/7 v4] of the bulk allocator (lore 20210312154331.32229-1, 12 Mar 2021): "
        "the list API only, statistics once per call, a non-empty list refused (WARN_ON_ONCE, 0), 0 when no "
        "zone passes the watermark, free_pages_bulk() to the buddy lists; twopass as posted",
        pcp_batch_cap_bytes=1024 * 1024, bulk_one_page_fallback=True, bulk_stats_per_page=False,
        alloc_flags_nofragment=True, free_pages_bulk="2021", bulk_list_must_be_empty=True,
        bulk_no_zone_returns_0=True),
    "4.10-prototype": KernelVersion(
        "4.10-prototype", "4.10-rc2 + Mel Gorman's Jan 2017 series: the bulk allocator prototype (list API, "
        "free_pages_bulk, statistics once per call, no one-page fallback); kernel-facts §2.4",
        pcp_batch_cap_bytes=512 * 1024, bulk_one_page_fallback=False, bulk_stats_per_page=False,
        alloc_flags_nofragment=False, free_pages_bulk="2017", bulk_2017=True),
}
DEFAULT_KERNEL = "5.13"


def kernel_version(name: str | None) -> KernelVersion:
    """The kernel version called ``name`` (``None``: the default); a one-line error names the known ones."""
    key = DEFAULT_KERNEL if name is None else name  # "" is no version, never the default
    if key not in KERNELS:
        raise BenchframeError(f"unknown kernel {key!r}; known: {', '.join(KERNELS)}")
    return KERNELS[key]


@dataclass(frozen=True)
class KernelConfig:
    """The kernel version and the set of CONFIG_ options a run uses (both recorded in every result)."""

    options: frozenset[str] = frozenset()
    version: KernelVersion = KERNELS[DEFAULT_KERNEL]

    @classmethod
    def parse(cls, values: list[str] | tuple[str, ...] | None, kernel: str | None = None) -> KernelConfig:
        opts: set[str] = set()
        for value in values or ():
            for item in str(value).split(","):
                item = item.strip().upper().removeprefix("CONFIG_")
                if not item:
                    raise BenchframeError(f"kernel config {value!r}: an empty option name")
                if item not in OPTIONS:
                    raise BenchframeError(
                        f"unknown kernel config {item!r}; known: {', '.join(sorted(OPTIONS))}")
                opts.add(item)
        return cls(frozenset(opts), kernel_version(kernel))

    @property
    def preempt_rt(self) -> bool:
        return "PREEMPT_RT" in self.options

    @property
    def page_owner(self) -> bool:
        return "PAGE_OWNER" in self.options

    @property
    def numa(self) -> bool:
        return "NUMA" in self.options

    @property
    def kasan(self) -> bool:
        return "KASAN" in self.options

    @property
    def debug_vm(self) -> bool:
        return "DEBUG_VM" in self.options

    @property
    def debug_options(self) -> frozenset[str]:
        """The debugging options on (``DEBUG_OPTIONS``)."""
        return self.options & frozenset(DEBUG_OPTIONS)

    def as_list(self) -> list[str]:
        return sorted(self.options)
