"""The cost model: named primitive costs in cycles plus the clock rate, loaded from a profile file.

A profile is a TOML file with a ``[profile]`` table (``name``, ``description``, ``clock_ghz``) and a ``[costs]``
table of integer cycle counts. Every cost the model charges is a field of ``CostModel`` (its definition in
``COST_NAMES``); a profile must give each of them, so a missing or misspelt key is an error rather than a
silent zero. The shipped profiles live in ``benchframe/hw/profiles/``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from benchframe import BenchframeError
from benchframe.io import parse_toml, read_text, schema_problem

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
    "lockdep_hook": "cycles: one lock_acquire() or lock_release() with its validation (CONFIG_LOCKDEP)",
    "trace_irqflags": "cycles: one trace_hardirqs_off() or trace_hardirqs_on() call (CONFIG_TRACE_IRQFLAGS)",
    "might_sleep": "cycles: one __might_sleep() call (CONFIG_DEBUG_ATOMIC_SLEEP)",
    "rdtsc": "cycles: what one rdtsc pair around a timed interval adds to it",
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
    lockdep_hook: int
    trace_irqflags: int
    might_sleep: int
    rdtsc: int
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


#: a whole cost: cycles, lines or a count (bool, float and str are refused: strict)
Whole = Annotated[int, Field(strict=True, ge=0, le=10**9)]
#: a price: fractional cycles, finite
Price = Annotated[float, Field(strict=True, ge=0, le=10**6, allow_inf_nan=False)]
#: the clock: 1e-320 GHz or 1e9 GHz would only make every time in ns absurd
CLOCK_GHZ = (0.01, 100.0)


class ProfileTable(BaseModel):
    """A profile's ``[profile]`` table."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, pattern=r"\S")]
    description: str = ""
    clock_ghz: Annotated[float, Field(ge=CLOCK_GHZ[0], le=CLOCK_GHZ[1], allow_inf_nan=False)]


#: a profile's ``[costs]`` table: one field per cost, every one required, no other key
CostTable = create_model("CostTable", __config__=ConfigDict(extra="forbid"),
                         **{n: (Price if n in FRACTIONAL else Whole, ...) for n in COST_NAMES})  # type: ignore[call-overload]


class ProfileFile(BaseModel):
    """A profile file: ``[profile]``, ``[costs]`` and the optional ``[fit]`` (read by ``benchframe.calibrate``)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    profile: ProfileTable
    costs: CostTable  # type: ignore[valid-type]
    fit: dict[str, Any] = {}


def parse_profile(text: str, source: str) -> CostModel:
    """Parse profile TOML text against the profile schema (pydantic); every problem is one line naming the file
    and the key: a missing or unknown cost, a wrong type, a negative, NaN or infinite value, a clock outside
    0.01-100 GHz."""
    data = parse_toml(text, f"profile {source}")
    try:
        ProfileFile.model_validate(data)
    except ValidationError as exc:
        raise BenchframeError(f"profile {source}: {_profile_problem(exc)}") from None
    meta, costs = data["profile"], data["costs"]
    return CostModel(name=meta["name"], description=meta.get("description", ""), clock_ghz=float(meta["clock_ghz"]),
                     source=source, **costs)


def _profile_problem(exc: ValidationError) -> str:
    """The schema's first complaint, said in the profile's terms (what each cost is, all missing or unknown
    costs at once)."""
    errors = exc.errors(include_url=False)
    loc = errors[0]["loc"]
    if len(loc) == 1 and loc[0] in ("profile", "costs"):
        return "needs a [profile] and a [costs] table"
    if loc[0] == "costs":
        missing = [e["loc"][1] for e in errors if e["type"] == "missing" and e["loc"][0] == "costs"]
        unknown = [e["loc"][1] for e in errors if e["type"] == "extra_forbidden" and e["loc"][0] == "costs"]
        if missing:
            return f"missing cost(s): {', '.join(map(str, missing))}"
        if unknown:
            return f"unknown cost(s): {', '.join(map(str, unknown))}"
        key = str(loc[1])
        what = "a non-negative number, at most 1e6" if key in FRACTIONAL else "a non-negative integer, at most 10**9"
        return f"cost {key} must be {what} ({COST_NAMES[key]}), not {errors[0]['input']!r}"
    if loc == ("profile", "name"):
        return "[profile] name must be a non-empty string"
    if loc == ("profile", "clock_ghz"):
        return (f"[profile] clock_ghz must be a positive number of GHz from {CLOCK_GHZ[0]:g} to {CLOCK_GHZ[1]:g}, "
                f"not {errors[0].get('input')!r}")
    where, _, what = schema_problem(exc).partition(": ")
    return f"[{where.replace('.', '] ', 1)}: {what}" if "." in where else f"{where}: {what}"


def load_profile_file(path: str | Path) -> CostModel:
    return parse_profile(read_text(path, "profile", kind="profile"), str(path))


def builtin_profile_paths() -> dict[str, Path]:
    """Profiles shipped with benchframe, by file stem."""
    folder = resources.files("benchframe.hw") / "profiles"
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml")}


DEFAULT_PROFILE = "e5-1650v4"
