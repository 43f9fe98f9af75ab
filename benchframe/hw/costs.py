"""The cost model: named primitive costs in cycles plus the clock rate, loaded from a profile file.

A profile is a TOML file with a ``[profile]`` table (``name``, ``description``, ``clock_ghz``) and a ``[costs]``
table of integer cycle counts. Every cost the model charges is listed in ``COST_NAMES``; a profile must give
each of them, so a missing or misspelt key is an error rather than a silent zero.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from benchframe import BenchframeError

# name -> one-line definition. The model reads these as attributes of CostModel.
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


@dataclass(frozen=True)
class CostModel:
    """Primitive costs in cycles and the clock rate of one simulated machine.

    Each cost is also an attribute (``costs.spin_lock_unlock``) so the model reads it at attribute speed.
    """

    name: str
    description: str
    clock_ghz: float
    costs: dict[str, int] = field(repr=False)
    source: str = ""

    def __post_init__(self) -> None:
        for key, value in self.costs.items():
            object.__setattr__(self, key, value)

    def half(self, name: str) -> tuple[int, int]:
        """Split a round-trip cost into (enter, exit) halves that sum to the round trip."""
        total = self.costs[name]
        return total // 2, total - total // 2

    def ns(self, cycles: float) -> float:
        return cycles / self.clock_ghz



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
    return CostModel(name, str(meta.get("description", "")), float(clock), dict(costs), source)


def load_profile_file(path: str | Path) -> CostModel:
    from benchframe.output import read_text

    return parse_profile(read_text(path, "profile"), str(path))


def builtin_profile_paths() -> dict[str, Path]:
    """Profiles shipped with benchframe, by file stem."""
    folder = resources.files("benchframe.hw") / "profiles"
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml")}


DEFAULT_PROFILE = "e5-1650v4"


from benchframe import hookimpl  # noqa: E402  (the built-in profiles register like a plugin's)


@hookimpl
def benchframe_register_profiles():
    from benchframe.api import ProfileSource

    return [ProfileSource(name=name, path=str(path), description=load_profile_file(path).description)
            for name, path in sorted(builtin_profile_paths().items())]
