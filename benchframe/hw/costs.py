"""The cost model: named primitive costs in cycles plus the clock rate, loaded from a profile file.

A profile is a TOML file with a ``[profile]`` table (``name``, ``description``, ``clock_ghz``) and a ``[costs]``
table of integer cycle counts. Every cost the model charges is a field of ``CostModel`` (its definition in
``COST_NAMES``); a profile must give each of them, so a missing or misspelt key is an error rather than a
silent zero. The shipped profiles live in ``benchframe/hw/profiles/``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from benchframe import BenchframeError
from benchframe.io import read_text

# name -> one-line definition, one per cost field of CostModel (a test keeps the two in step).
COST_NAMES: dict[str, str] = {
    "spin_lock_unlock": "spin_lock() + spin_unlock() on an uncontended, cache-hot lock",
    "irq_save_restore": "local_irq_save() + local_irq_restore()",
    "irq_disable_enable": "local_irq_disable() + local_irq_enable()",
    "preempt_disable_enable": "preempt_disable() + preempt_enable()",
    "bh_disable_enable": "local_bh_disable() + local_bh_enable()",
    "function_call": "a direct function call and return",
    "func_ptr_call": "an indirect (function pointer) call and return",
    "this_cpu_cmpxchg": "this_cpu_cmpxchg() on a per-CPU word",
    "atomic_rmw": "a LOCK-prefixed cmpxchg/xchg/inc on a line in this CPU's cache",
    "struct_page_l3": "touching a struct page that is in L3 but not L1/L2",
    "cache_miss_local": "a cache miss served by local DRAM",
    "cache_miss_remote": "a cache miss served by a remote NUMA node",
    "clear_page": "zeroing one 4 KiB page (__GFP_ZERO)",
    "alloc_pages_body": "__alloc_pages() itself: gfp checks, prepare_alloc_pages()",
    "get_page_from_freelist_body": "get_page_from_freelist(): zonelist walk and zone_watermark_fast()",
    "rmqueue_pcplist_page": "__rmqueue_pcplist() taking one page: list_first_entry, list_del, count--",
    "zone_statistics": "__count_zid_vm_events(PGALLOC) + zone_statistics() for one update",
    "prep_new_page": "prep_new_page() for an order-0 page without __GFP_ZERO",
    "free_unref_page_body": "free_unref_page() body: free_pages_prepare, migratetype lookup, pcp list_add",
    "array_store": "storing a page pointer into a caller's array slot",
    "list_add": "list_add() of page->lru onto a caller's list",
    "list_walk_page": "taking one page off a returned list (list_first_entry + list_del)",
    "array_scan_slot": "testing one array slot for NULL",
    "buddy_page": "moving one page between a buddy free list and a pcp list (zone->lock held)",
    "buddy_split_step": "one expand() step splitting a buddy block",
    "buddy_merge_step": "one __free_one_page() step merging with a buddy",
    "irq_entry_exit": "hardware interrupt (or NMI) entry and exit",
}


@dataclass(frozen=True, slots=True)
class CostModel:
    """Primitive costs in cycles and the clock rate of one simulated machine (see ``COST_NAMES``)."""

    name: str
    description: str
    clock_ghz: float
    spin_lock_unlock: int
    irq_save_restore: int
    irq_disable_enable: int
    preempt_disable_enable: int
    bh_disable_enable: int
    function_call: int
    func_ptr_call: int
    this_cpu_cmpxchg: int
    atomic_rmw: int
    struct_page_l3: int
    cache_miss_local: int
    cache_miss_remote: int
    clear_page: int
    alloc_pages_body: int
    get_page_from_freelist_body: int
    rmqueue_pcplist_page: int
    zone_statistics: int
    prep_new_page: int
    free_unref_page_body: int
    array_store: int
    list_add: int
    list_walk_page: int
    array_scan_slot: int
    buddy_page: int
    buddy_split_step: int
    buddy_merge_step: int
    irq_entry_exit: int
    source: str = ""

    def cost(self, name: str) -> int:
        """The cost called ``name`` (one of ``COST_NAMES``)."""
        value: int = getattr(self, name)
        return value

    def costs(self) -> dict[str, int]:
        """Every cost by name, in ``COST_NAMES`` order."""
        return {name: self.cost(name) for name in COST_NAMES}

    def half(self, name: str) -> tuple[int, int]:
        """Split a round-trip cost into (enter, exit) halves that sum to the round trip."""
        total = self.cost(name)
        return total // 2, total - total // 2

    def ns(self, cycles: float) -> float:
        return cycles / self.clock_ghz


_META = ("name", "description", "clock_ghz", "source")
assert [f.name for f in fields(CostModel) if f.name not in _META] == list(COST_NAMES), "COST_NAMES != fields"


def parse_profile(text: str, source: str) -> CostModel:
    """Parse profile TOML text; errors name the file and the problem in one line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BenchframeError(f"profile {source}: not valid TOML: {exc}") from None
    meta = data.get("profile")
    costs = data.get("costs")
    if not isinstance(meta, dict) or not isinstance(costs, dict):
        raise BenchframeError(f"profile {source}: needs a [profile] and a [costs] table")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise BenchframeError(f"profile {source}: [profile] name must be a non-empty string")
    clock = meta.get("clock_ghz")
    if isinstance(clock, bool) or not isinstance(clock, int | float) or not clock > 0:
        raise BenchframeError(f"profile {source}: [profile] clock_ghz must be a positive number")
    missing = [k for k in COST_NAMES if k not in costs]
    if missing:
        raise BenchframeError(f"profile {source}: missing cost(s): {', '.join(missing)}")
    unknown = [k for k in costs if k not in COST_NAMES]
    if unknown:
        raise BenchframeError(f"profile {source}: unknown cost(s): {', '.join(unknown)}")
    for key, value in costs.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise BenchframeError(f"profile {source}: cost {key} must be a non-negative integer of cycles")
    return CostModel(name=name, description=str(meta.get("description", "")), clock_ghz=float(clock),
                     source=source, **costs)


def load_profile_file(path: str | Path) -> CostModel:
    return parse_profile(read_text(path, "profile"), str(path))


def builtin_profile_paths() -> dict[str, Path]:
    """Profiles shipped with benchframe, by file stem."""
    folder = resources.files("benchframe.hw") / "profiles"
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml")}


DEFAULT_PROFILE = "e5-1650v4"
