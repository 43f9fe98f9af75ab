"""The cost model: named primitive costs in cycles plus the clock rate, loaded from a profile file.

A profile is a TOML file with a ``[profile]`` table (``name``, ``description``, ``clock_ghz``) and a ``[costs]``
table of integer cycle counts. Every cost the model charges is a field of ``CostModel`` (its definition in
``COST_NAMES``); a profile must give each of them, so a missing or misspelt key is an error rather than a
silent zero. The shipped profiles live in ``benchframe/hw/profiles/``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from benchframe import BenchframeError
from benchframe.io import read_text

# name -> one-line definition, one per cost field of CostModel (a check below keeps the two in step).
COST_NAMES: dict[str, str] = {
    # primitives, measured with time_bench
    "spin_lock_unlock": "cycles: spin_lock() + spin_unlock() on an uncontended, cache-hot lock",
    "irq_save_restore": "cycles: local_irq_save() + local_irq_restore()",
    "irq_disable_enable": "cycles: local_irq_disable() + local_irq_enable()",
    "preempt_disable_enable": "cycles: preempt_disable() + preempt_enable()",
    "bh_disable_enable": "cycles: local_bh_disable() + local_bh_enable()",
    "function_call": "cycles: a direct function call and return",
    "func_ptr_call": "cycles: an indirect (function pointer) call and return",
    "this_cpu_cmpxchg": "cycles: this_cpu_cmpxchg() on a per-CPU word",
    "atomic_rmw": "cycles: a LOCK-prefixed cmpxchg/xchg/inc/dec on a line in this CPU's cache",
    # the prices of body work (benchframe.mm.work), fitted by `benchframe calibrate`
    "page_access": "cycles (fractional): one load or store of a struct page field in a function body, the line "
                   "in L1 (misses come on top, from the cache model)",
    "data_access": "cycles (fractional): one load or store of other kernel data (per-CPU pageset, zone, "
                   "zonelist, task, vmstat) in a function body",
    # the memory hierarchy (benchframe.hw.cache)
    "l1_hit": "cycles: load-to-use latency of an L1 hit (what a miss saves nothing of)",
    "l2_hit": "cycles: latency of a load served by this core's L2",
    "l3_hit": "cycles: latency of a load served by the shared L3",
    "cache_transfer": "cycles: latency of a load of a line another core holds modified",
    "dram_local": "cycles: latency of a load served by local DRAM",
    "dram_remote": "cycles: latency of a load served by a remote NUMA node's DRAM",
    "l1_lines": "lines: L1 data cache capacity (64-byte lines)",
    "l2_lines": "lines: L2 capacity per core",
    "l3_lines": "lines: L3 capacity (shared by the cores)",
    "fill_buffers": "count: cache misses one core keeps in flight when their addresses are independent",
    # other work
    "clear_page": "cycles: zeroing one 4 KiB page (__GFP_ZERO)",
    "irq_entry_exit": "cycles: hardware interrupt (or NMI) entry and exit",
    "kasan_check": "cycles: one KASAN shadow check of an instrumented access (CONFIG_KASAN)",
    "kasan_page": "cycles: poisoning or unpoisoning one 4 KiB page's shadow (CONFIG_KASAN)",
}
#: the costs that are prices (fractional cycles); every other cost is a whole number
FRACTIONAL = ("page_access", "data_access")


@dataclass(frozen=True, slots=True)
class CostModel:
    """Primitive costs in cycles, the prices of body work, the memory hierarchy and the clock rate of one
    simulated machine (see ``COST_NAMES``)."""

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
    page_access: float
    data_access: float
    l1_hit: int
    l2_hit: int
    l3_hit: int
    cache_transfer: int
    dram_local: int
    dram_remote: int
    l1_lines: int
    l2_lines: int
    l3_lines: int
    fill_buffers: int
    clear_page: int
    irq_entry_exit: int
    kasan_check: int
    kasan_page: int
    source: str = ""

    def cost(self, name: str) -> float:
        """The cost called ``name`` (one of ``COST_NAMES``)."""
        value: float = getattr(self, name)
        return value

    def costs(self) -> dict[str, float]:
        """Every cost by name, in ``COST_NAMES`` order."""
        return {name: self.cost(name) for name in COST_NAMES}

    def half(self, name: str) -> tuple[int, int]:
        """Split a round-trip cost into (enter, exit) halves that sum to the round trip."""
        total = int(self.cost(name))
        return total // 2, total - total // 2

    def ns(self, cycles: float) -> float:
        return cycles / self.clock_ghz

    def with_costs(self, **changes: Any) -> CostModel:
        """This model with some costs replaced (what a fit tries)."""
        return replace(self, **changes)


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
        kind = (int, float) if key in FRACTIONAL else (int,)
        if isinstance(value, bool) or not isinstance(value, kind) or not value >= 0 or value == float("inf"):
            what = "a non-negative number" if key in FRACTIONAL else "a non-negative integer"
            raise BenchframeError(f"profile {source}: cost {key} must be {what} ({COST_NAMES[key]})")
    return CostModel(name=name, description=str(meta.get("description", "")), clock_ghz=float(clock),
                     source=source, **costs)


def load_profile_file(path: str | Path) -> CostModel:
    return parse_profile(read_text(path, "profile"), str(path))


def builtin_profile_paths() -> dict[str, Path]:
    """Profiles shipped with benchframe, by file stem."""
    folder = resources.files("benchframe.hw") / "profiles"
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml")}


DEFAULT_PROFILE = "e5-1650v4"
