"""The simulated kernel's version and configuration: what changes the semantics (or the work) of the model.

A *kernel version* (``--kernel``) is the code base the allocator paths follow: ``5.13`` (the default, where
the bulk allocator was merged), ``4.10-prototype`` (4.10-rc2 with Mel Gorman's January 2017 series, on which
the first bulk allocator prototype was measured; kernel-facts §2.4), ``5.12-v4``, and the kernels after 5.13
whose pcp changed under the bulk allocator: ``5.14`` (local_lock, high-order pcp lists), ``6.0`` (pcp spinlock
taken with trylock), ``6.2`` (IRQs left enabled around the pcp) and ``6.14`` (the list API gone), the latest
the reference reads (kernel-facts §0, §1.3, §3). *Options* (``--config``) are CONFIG_ switches on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    #: 44042b449872 "allow high-order pages to be stored on the per-cpu lists" (kernel-facts §3.4): one pcp list
    #: per order <= PAGE_ALLOC_COSTLY_ORDER and migrate type plus one for THP (pageblock_order)
    pcp_high_order: bool = False
    #: how the pcp is protected: "irqsave" (local_irq_save, <= 5.13), "local_lock" (local_lock_irqsave,
    #: dbbee9d5cd83, 5.14), "spin_irqsave" (pcp_spin_trylock_irqsave, 4b23a68f9536 + 01b44456a7aa, 6.0),
    #: "spin" (pcp_spin_trylock with IRQs enabled, 5749077415994, 6.2) -- kernel-facts §3
    pcp_lock: str = "irqsave"
    #: alloc_pages_bulk_list() exists (c8b979530f27 dropped the page_list argument in 6.14; kernel-facts §1.1)
    bulk_list_api: bool = True
    #: alloc_pages_bulk_array() exists (0f87d9d30f21, v5 on); on older versions array designs run as a what-if
    bulk_array_api: bool = True
    #: PAGE_OWNER forces the bulk allocator to one page at a time (Jul 2021, Fixes dbbee9d5cd83; §1.3)
    bulk_page_owner_fallback: bool = False
    #: nr_pcp_alloc() (~6.7): an order-0 refill of ``batch << pcp->alloc_factor`` pages, the factor doubling on
    #: consecutive refills without frees (kernel-facts §1.2, read at c8b979530f27)
    pcp_alloc_factor: bool = False
    #: pcp->high auto-tuning (Huang Ying's "PCP high auto-tuning" series, 6.7; mm/page_alloc.c (6.7+), derived
    #: from the code): pcp->high moves between high_min (zone_highsize() of the low watermark) and high_max
    #: (zone_managed_pages / MIN_PERCPU_PAGELIST_HIGH_FRACTION); nr_pcp_alloc() raises it by a batch per refill,
    #: nr_pcp_high() to hold what is freed, lowers it while the zone is below its high watermark (ZONE_BELOW_HIGH)
    #: or frees high-order pages in a row (free_high); the drain is nr_pcp_free() of pcp->free_count
    pcp_high_autotune: bool = False
    #: the mainline release the version is, when it is one ("" for a prototype or a posting): a trace captured
    #: on a release replays on the newest version not newer than it (``kernel_for_release``)
    release: str = ""
    #: where the version's facts come from, and what about it is unconfirmed (``benchframe list kernels``)
    source: str = ""

    @property
    def pcp_irqs_on(self) -> bool:
        """IRQs stay enabled while the pcp is held (6.2+, 5749077415994)."""
        return self.pcp_lock == "spin"

    @property
    def pcp_trylock(self) -> bool:
        """The pcp is a spinlock taken with trylock; failure falls back to the buddy lists (6.0+, §3.3)."""
        return self.pcp_lock in ("spin_irqsave", "spin")


_5_13 = KernelVersion(
    "5.13", "mm/page_alloc.c as merged in 5.13 (387ba26fb1cb, 0f87d9d30f21 and the 5.13 fixes)",
    pcp_batch_cap_bytes=1024 * 1024, bulk_one_page_fallback=True, bulk_stats_per_page=True,
    alloc_flags_nofragment=True, free_pages_bulk="", release="5.13",
    source="kernel-facts §1.1, §1.2, §2.3 (torvalds/linux@3b822017b636:mm/page_alloc.c)")
# Each version below is the one it grew from (dataclasses.replace) and what changed: the timeline reads as diffs.
_5_12_V4 = replace(
    _5_13, name="5.12-v4", description="5.12-rc2 + [PATCH 0/7 v4] of the bulk allocator (lore "
    "20210312154331.32229-1, 12 Mar 2021): the list API only, statistics once per call, a non-empty list refused "
    "(WARN_ON_ONCE, 0), 0 when no zone passes the watermark, free_pages_bulk() to the buddy lists; twopass as posted",
    bulk_stats_per_page=False, free_pages_bulk="2021", bulk_list_must_be_empty=True, bulk_no_zone_returns_0=True,
    bulk_array_api=False, release="", source="kernel-facts §0, §1.1, §2.2 (the v4 postings)")
_4_10_PROTOTYPE = replace(
    _5_13, name="4.10-prototype", description="4.10-rc2 + Mel Gorman's Jan 2017 series: the bulk allocator "
    "prototype (list API, free_pages_bulk, statistics once per call, no one-page fallback); kernel-facts §2.4",
    pcp_batch_cap_bytes=512 * 1024, bulk_one_page_fallback=False, bulk_stats_per_page=False,
    alloc_flags_nofragment=False, free_pages_bulk="2017", bulk_2017=True, bulk_array_api=False, release="",
    source="kernel-facts §0, §2.1, §2.4, §2.5 (lore 20170109163518.6001-5, 20170112104300.24345-4)")
_5_14 = replace(
    _5_13, name="5.14", description="5.13 + the local_lock pcp with batched bulk statistics (dbbee9d5cd83, "
    "3e23060b2d0b, f19298b9516c) + high-order pcp lists (44042b449872): orders <= 3 and THP on the pcp, one list "
    "per order and migrate type; zone_highsize(), free_factor",
    bulk_stats_per_page=False, pcp_high_order=True, pcp_lock="local_lock", bulk_page_owner_fallback=True,
    release="5.14",
    source="kernel-facts §0, §1.3, §3.1, §3.4; the release of 44042b449872 is UNCONFIRMED in the reference "
           "(\"believed to be 5.14\": written on 5.13-rc2, merged after 5.13, same -mm cycle as the local_lock "
           "series); modelled as 5.14")
_6_0 = replace(
    _5_14, name="6.0", description="5.14 + the pcp spinlock: pcp_spin_trylock_irqsave() on alloc and free, a failed "
    "trylock takes the buddy lists (rmqueue falls through, free_one_page), remote drains lock the pcp directly",
    pcp_lock="spin_irqsave", release="6.0",
    source="kernel-facts §0, §1.3, §3.3: 4b23a68f9536, 443c2accd1b6, 01b44456a7aa (in mm-stable 2022-07-18, "
           "so 6.0; the tag is UNCONFIRMED, 5.19 ruled out)")
_6_2 = replace(
    _6_0, name="6.2", description="6.0 + IRQs left enabled for pcp allocations (5749077415994): pcp_spin_trylock() "
    "without irqsave; an IRQ that allocates or frees while its CPU holds the pcp fails the trylock and takes the "
    "buddy lists; zone->lock is spin_lock_irqsave in rmqueue_bulk/free_pcppages_bulk",
    pcp_lock="spin", release="6.2",
    source="kernel-facts §1.3, §3.3: 5749077415994 (Nov 2022; the 6.2 tag is UNCONFIRMED, backported to "
           "6.1-stable)")
_6_14 = replace(
    _6_2, name="6.14", description="6.2 + the 6.7 pcp->high auto-tuning (high_min..high_max, nr_pcp_high(), "
    "nr_pcp_free() of free_count, ZONE_BELOW_HIGH) with nr_pcp_alloc()'s alloc_factor + the array-only bulk API "
    "(c8b979530f27, 6bf9b5b40af3: alloc_pages_bulk() fills an array; the list variant is gone)",
    bulk_list_api=False, pcp_alloc_factor=True, pcp_high_autotune=True, release="6.14",
    source="kernel-facts §0, §1.1, §1.2, §1.3 (torvalds/linux@c8b979530f27:mm/page_alloc.c, the latest code "
           "the reference reads); pcp->high auto-tuning: mm/page_alloc.c (6.7+), derived from the code "
           "(zone_set_pageset_high_and_batch, nr_pcp_alloc, nr_pcp_high, nr_pcp_free, free_unref_page_commit); "
           "not modelled: decay_pcp_high() (vmstat's per-second work), ZONE_RECLAIM_ACTIVE (no reclaim), "
           "PCPF_FREE_HIGH_BATCH (left unset: the captured machine's cache sizes are unknown)")
KERNELS: dict[str, KernelVersion] = {v.name: v for v in (_5_13, _5_12_V4, _4_10_PROTOTYPE, _5_14, _6_0, _6_2, _6_14)}
DEFAULT_KERNEL = "5.13"


def _release_key(release: str) -> tuple[int, ...]:
    nums = []
    for part in release.split("-")[0].split(".")[:2]:
        if not part.isdigit():
            raise BenchframeError(f"kernel release {release!r} is not of the form MAJOR.MINOR[.PATCH][-LOCAL]")
        nums.append(int(part))
    return tuple(nums)


def kernel_for_release(release: str) -> KernelVersion:
    """The newest modelled mainline version not newer than ``release`` (``uname -r`` of a capture, e.g.
    ``6.18.0-rc3``): the code base the capture's allocator paths are closest to."""
    want = _release_key(release)
    best = None
    for v in KERNELS.values():
        if v.release and _release_key(v.release) <= want and (best is None or
                                                             _release_key(v.release) > _release_key(best.release)):
            best = v
    if best is None:
        raise BenchframeError(f"kernel release {release!r} is older than every modelled release "
                              f"({', '.join(v.release for v in KERNELS.values() if v.release)})")
    return best


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
