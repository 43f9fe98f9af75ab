"""Kernel configuration options that change the semantics of the simulated kernel."""

from __future__ import annotations

from dataclasses import dataclass

from benchframe import BenchframeError

OPTIONS: dict[str, str] = {
    "PREEMPT_RT": "local_lock and spinlock_t become per-CPU sleeping locks; IRQ handlers are threaded",
    "PAGE_OWNER": "page_owner is initialised: the bulk allocator is forced to one page at a time",
    "NUMA": "two nodes of one CPU each instead of the default single node",
}


@dataclass(frozen=True)
class KernelConfig:
    """The set of CONFIG_ options a run uses (recorded in every result)."""

    options: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, values: list[str] | tuple[str, ...] | None) -> KernelConfig:
        opts: set[str] = set()
        for value in values or ():
            for item in str(value).split(","):
                item = item.strip().upper().removeprefix("CONFIG_")
                if not item:
                    continue
                if item not in OPTIONS:
                    raise BenchframeError(
                        f"unknown kernel config {item!r}; known: {', '.join(sorted(OPTIONS))}")
                opts.add(item)
        return cls(frozenset(opts))

    @property
    def preempt_rt(self) -> bool:
        return "PREEMPT_RT" in self.options

    @property
    def page_owner(self) -> bool:
        return "PAGE_OWNER" in self.options

    @property
    def numa(self) -> bool:
        return "NUMA" in self.options

    def as_list(self) -> list[str]:
        return sorted(self.options)
