"""Re-entrancy exploration: ``benchframe explore --design NAME [--context irq|nmi]``.

For each operation of a design (a bulk allocation from a warm pcp list, one that needs a refill, a single
free, a bulk free) the explorer first counts the operation's charge points, then re-runs it on a fresh kernel
once per charge point, raising an interrupt (or NMI) at that point whose handler allocates and/or frees on the
same CPU through the same design (several small handler scripts). The hardirq is delivered when the model's
IRQ state allows it (deferred while IRQs are disabled, as in the kernel); an NMI is delivered at once. After
the operation the task keeps going briefly (it allocates what is left on its pcp list and frees everything)
and the DESIGN §7 invariants are checked; a deadlock (a handler spinning on a lock its CPU holds) counts as a
failure too.

The verdict is SAFE, or UNSAFE with the first (smallest) interleaving that breaks: the simplest operation,
the simplest handler, the earliest charge point — printed as steps a kernel developer can follow.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from benchframe import BenchframeError
from benchframe.api import LIST
from benchframe.engine import Deadlock, Engine
from benchframe.hw.cpu import NMI, TASK
from benchframe.hw.interrupts import IRQ, NMI_KIND, InterruptSource
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import GFP_ATOMIC
from benchframe.plugins import Registry, get_registry
from benchframe.runner import boot, parse_design_spec

ZONE_PAGES = 65536  # small enough to check invariants after every interleaving, big enough for batch 15
CONTEXTS = ("irq", "nmi")


@dataclass
class ExploreResult:
    design: str
    context: str
    verdict: str  # "SAFE" or "UNSAFE"
    reason: str
    steps: list[str] = field(default_factory=list)
    explored_points: int = 0
    refused: int = 0
    # every (operation, handler script) that breaks, simplest first, each with its earliest charge point:
    # {"operation", "handler", "charge_point", "reason", "steps"}
    findings: list[dict] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"{self.design} vs {self.context}: {self.verdict}"
                 + (f" ({self.reason})" if self.reason else "")
                 + f" — {self.explored_points} interleavings explored"]
        lines += [f"  {i}. {s}" for i, s in enumerate(self.steps, 1)]
        shown = {self.findings[0]["operation"]} if self.findings else set()
        for f in self.findings[1:]:
            lines.append(f"  also breaks: {f['operation']}, handler {f['handler']!r}, charge point "
                         f"{f['charge_point']}: {f['reason']}")
            if f["operation"] not in shown:  # the full interleaving once per operation
                shown.add(f["operation"])
                lines += [f"    {i}. {s}" for i, s in enumerate(f["steps"], 1)]
        return "\n".join(lines)


class ExploringEngine(Engine):
    """An engine that sees every charge point of task-context code while ``countdown`` is set, and raises one
    interrupt at the ``countdown``-th."""

    def __init__(self, costs, preempt_rt: bool = False):
        super().__init__(costs, preempt_rt)
        self.countdown: float | None = None
        self.points = 0
        self.injection: Callable | None = None
        self.where = ""
        self.read = ""

    def _deliverable(self, cpu, src) -> bool:
        """PREEMPT_RT: the handler is a thread, and every handler script uses the allocator, so while the
        interrupted task holds a sleeping lock of it (``local_lock``/``zone->lock``: migration disabled while
        held) the thread blocks on that lock and, by priority inheritance, runs once the task releases it.
        The nested model cannot block a handler, so it is delivered at that point instead of spinning."""
        if not super()._deliverable(cpu, src):
            return False
        return not (self.preempt_rt and src.kind != NMI_KIND and cpu.context == TASK
                    and cpu.migrate_disable_count)

    def rearm(self, cpu) -> None:
        super().rearm(cpu)
        if cpu.context == TASK and (self.countdown is not None or self._thread_waits(cpu)):
            cpu.next_event = -math.inf  # every charge comes through deliver()

    def _thread_waits(self, cpu) -> bool:
        return self.preempt_rt and any(src.pending_since is not None and src.kind != NMI_KIND
                                       for src in cpu.sources)

    def deliver(self, cpu) -> None:
        if self.countdown is not None and cpu.context == TASK:
            self.points += 1
            if self.points >= self.countdown:
                self.countdown = None
                self.where, self.read = _model_stack()
                self.injection(cpu)
                self.rearm(cpu)
                return
        super().deliver(cpu)


# locals of an interrupted model function that hold a pfn it has already read (shown in the trace)
PFN_LOCALS = ("entry", "following", "first", "page", "last")


def _model_stack() -> tuple[str, str]:
    """The model functions on the stack at an injection point, outermost first, and the pfns the innermost
    one has read so far (``entry=pfn 16, following=pfn 17``) — no tracing cost on the hot path: the frames
    are only looked at when an interrupt is injected."""
    names = []
    read = ""
    frame = sys._getframe(2)
    while frame is not None:
        mod = frame.f_globals.get("__name__", "")
        name = frame.f_code.co_name
        if name == "_operation":
            break
        if (mod.startswith("benchframe.mm") or mod.startswith("benchframe_") or "plugin" in mod) \
                and not name.startswith("_") and (not names or names[-1] != name):
            if not names:
                local = frame.f_locals
                read = ", ".join(f"{v}=pfn {local[v]}" for v in PFN_LOCALS
                                 if isinstance(local.get(v), int) and local[v] >= 0)
            names.append(name)
        frame = frame.f_back
    return " > ".join(reversed(names)) or "(entry)", read


# -- scenarios ------------------------------------------------------------------------------------------------
class Scenario:
    """One kernel with one design on one CPU, with the pages the task and the handler hold."""

    def __init__(self, registry: Registry, spec: str, config: KernelConfig):
        design, options = parse_design_spec(spec, registry)
        self.design = design
        self.costs = registry.cost_model(None)
        self.engine, self.k, self.impl = boot(design, options, self.costs, config,
                                              Topology.uma(cpus=1, normal_pages=ZONE_PAGES), ExploringEngine)
        self.cpu = self.engine.cpus[0]
        self.held: list[int] = []
        self.registry = registry

    def alloc(self, n: int) -> list[int]:
        if self.design.shape == LIST:
            lst: list[int] = []
            self.impl.alloc_bulk(self.cpu, GFP_ATOMIC, n, page_list=lst)
            pages = lst
        else:
            arr: list = [None] * n
            self.impl.alloc_bulk(self.cpu, GFP_ATOMIC, n, page_array=arr)
            pages = [p for p in arr if p is not None]
        self.held.extend(pages)
        return pages

    def free(self, pages: list[int], bulk: bool = False) -> None:
        for p in pages:
            if p in self.held:
                self.held.remove(p)
        if bulk:
            self.impl.free_bulk(self.cpu, list(pages))
        else:
            for p in pages:
                self.impl.free_page(self.cpu, p)

    def pcp_pages(self) -> int:
        return self.k.zones[0].pcp[0].count

    def problems(self) -> list[str]:
        out = list(self.k.violations)
        out += check_kernel(self.k, self.held)
        # a raising invariants hook is itself a finding, named by plugin (Registry.call), not a crash
        for extra in self.registry.call("benchframe_check_invariants", errors=out, kernel=self.k,
                                        design=self.design):
            out += [str(p) for p in extra]
        if len(set(self.held)) != len(self.held):
            dup = sorted({p for p in self.held if self.held.count(p) > 1})
            out.append(f"page handed out twice: pfn {dup[0]} is held twice")
        return out


def _warm(s: Scenario, pcp: bool) -> None:
    if pcp:
        s.free(s.alloc(20))  # leave pages on the pcp list
    s.spare = s.alloc(2)  # pages the "free" handler will free
    if not pcp and s.pcp_pages():
        s.alloc(s.pcp_pages())  # empty the pcp list: the operation has to refill it from the buddy lists


OPERATIONS: list[tuple[str, bool, Callable[[Scenario], str]]] = [
    ("alloc_bulk(8) from a warm pcp list", True, lambda s: f"returned {len(s.alloc(8))} pages"),
    ("alloc_bulk(8) that refills the pcp list", False, lambda s: f"returned {len(s.alloc(8))} pages"),
    ("free one page", True, lambda s: (s.free([s.task_pages[0]]), "freed")[1]),
    ("free_bulk(4)", True, lambda s: (s.free(s.task_pages[:4], bulk=True), "freed")[1]),
]


def _handler_alloc1(s: Scenario) -> str:
    got = s.alloc(1)
    return f"allocates 1 page -> {_pfns(got)}"


def _handler_alloc2_free1(s: Scenario) -> str:
    got = s.alloc(2)
    if got:
        s.free(got[:1])
    return f"allocates 2 pages -> {_pfns(got)}, frees {_pfns(got[:1])}"


def _handler_free1(s: Scenario) -> str:
    page = s.spare[:1]
    s.spare = s.spare[1:]
    s.free(page)
    return f"frees {_pfns(page)}"


def _handler_bulk4(s: Scenario) -> str:
    got = s.alloc(4)
    return f"alloc_bulk(4) -> {_pfns(got)}"


# simplest first: the first failing script is the one reported
HANDLERS: list[tuple[str, Callable[[Scenario], str]]] = [
    ("alloc 1", _handler_alloc1),
    ("free 1", _handler_free1),
    ("alloc 2, free the first", _handler_alloc2_free1),
    ("alloc_bulk(4)", _handler_bulk4),
]


def _pfns(pages: list[int]) -> str:
    return "[" + ", ".join(f"pfn {p}" for p in pages) + "]"


def _run_one(registry, spec, config, op, handler, context, inject_at) -> tuple[Scenario, list[str], list[str]]:
    name, warm_pcp, fn = op
    hname, hfn = handler
    s = Scenario(registry, spec, config)
    _warm(s, warm_pcp)
    s.task_pages = s.alloc(4) if name.startswith("free") else []
    steps = [f"task on CPU0: {name} ({s.design.shape} interface; {s.pcp_pages()} pages on the pcp list)"]
    kind = NMI_KIND if context == "nmi" else IRQ
    refused_before = s.k.stat.refused

    def handler_body(cpu) -> None:
        start = cpu.clock
        late = start - s.inject_clock - s.costs.half("irq_entry_exit")[0]
        label = "NMI" if cpu.context == NMI else "IRQ"
        if late <= 0:
            when = f"at once (clock {start})"
        elif s.engine.preempt_rt and cpu.context != NMI:
            when = (f"{late} cycles later: the handler thread blocked on the sleeping lock the task held and "
                    f"runs when the task releases it (clock {start})")
        else:
            when = f"{late} cycles later, when IRQs are enabled again (clock {start})"
        steps.append(f"{label} handler runs {when}: {hname}")  # what it tried, should it never return
        steps[-1] = f"{label} handler runs {when}: {hfn(s)}"

    def inject(cpu) -> None:
        s.inject_clock = cpu.clock
        label = "NMI" if kind == NMI_KIND else "IRQ"
        state = "IRQs on" if cpu.irqs_on else "IRQs off"
        read = f" after reading {s.engine.read}" if s.engine.read else ""
        steps.append(f"charge point {s.engine.points} (clock {cpu.clock}, {state}) in {s.engine.where}{read}: "
                     f"an {label} arrives")
        s.resume_note = f" (continuing with {s.engine.read} read before the {label})" if read else ""
        s.engine.add_interrupt(cpu, InterruptSource.at(f"explore-{context}", [cpu.clock], handler_body, kind))

    s.engine.injection = inject
    s.engine.countdown = inject_at
    s.engine.points = 0
    s.engine.rearm(s.cpu)
    failure = ""
    try:
        result = _operation(fn, s)
        s.engine.countdown = None
        s.engine.rearm(s.cpu)
        steps.append(f"task resumes{getattr(s, 'resume_note', '')} and completes: {result}")
        rest = s.alloc(max(s.pcp_pages(), 1))
        steps.append(f"task allocates the {len(rest)} pages left on its pcp list, then frees all it holds")
        s.free(list(s.held))
    except Deadlock as exc:
        failure = str(exc)
    except BenchframeError:
        raise
    except Exception as exc:  # a corrupted structure broke the model code itself
        failure = f"model state corrupted: {type(exc).__name__}: {exc}"
    s.engine.countdown = None
    problems = [failure] if failure else _most_telling(s.problems())
    s.refused = s.k.stat.refused - refused_before
    if problems:
        steps.insert(1, f"(handler script: {hname})")
        steps.append("invariant violated: " + problems[0])
    return s, problems, steps


def _operation(fn, s):
    return fn(s)


def explore(design_spec: str, context: str = "irq", registry: Registry | None = None,
            config: tuple[str, ...] = ()) -> ExploreResult:
    if context not in CONTEXTS:
        raise BenchframeError(f"--context must be one of {', '.join(CONTEXTS)}, not {context!r}")
    registry = registry or get_registry()
    kconfig = KernelConfig.parse(list(config))
    parse_design_spec(design_spec, registry)  # unknown design: one-line error before any work
    explored = 0
    refused = 0
    findings: list[dict] = []
    for op in OPERATIONS:
        for handler in HANDLERS:
            # count the operation's charge points without injecting
            probe, _, _ = _run_one(registry, design_spec, kconfig, op, handler, context, math.inf)
            total = probe.engine.points
            for k in range(1, total + 1):
                s, problems, steps = _run_one(registry, design_spec, kconfig, op, handler, context, k)
                explored += 1
                refused += s.refused
                if problems:  # the earliest charge point at which this script breaks this operation
                    findings.append({"operation": op[0], "handler": handler[0], "charge_point": k,
                                     "reason": _reason(problems[0]), "steps": steps})
                    break
    if findings:
        first = findings[0]
        return ExploreResult(design_spec, context, "UNSAFE", first["reason"], first["steps"], explored, refused,
                             findings)
    reason = f"refuses allocation in {context.upper()} context ({refused} refusals)" if refused else ""
    return ExploreResult(design_spec, context, "SAFE", reason, [], explored, refused)


TELLING = ("twice", "lost", "corruption", "deadlock")


def _most_telling(problems: list[str]) -> list[str]:
    """The problems, the one a kernel developer would name first (a page handed out twice or lost, a
    corrupted list) ahead of its consequences (a count that no longer matches)."""
    def rank(p: str) -> int:
        return next((i for i, word in enumerate(TELLING) if word in p), len(TELLING))
    return sorted(problems, key=rank)


def _reason(problem: str) -> str:
    return problem.split(" (CPU")[0]


def cmd_explore(args) -> int:
    from benchframe.output import dumps, write_atomic

    reg = get_registry(tuple(args.plugin))
    contexts = [args.context] if args.context else list(CONTEXTS)
    results = [explore(args.design, c, reg, tuple(args.config or ())) for c in contexts]
    for r in results:
        print(r.render())
    if args.json:
        write_atomic(args.json, dumps([r.__dict__ for r in results]))
    return 1 if any(r.verdict == "UNSAFE" for r in results) else 0


__all__ = ["explore", "ExploreResult", "cmd_explore"]
