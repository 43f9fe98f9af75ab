"""The mutation score of ``benchframe explore`` and the conformance kit: buggy variants derived mechanically from
the built-in designs (``benchframe.testing.mutants``), and which of them each catches.

    python tools/mutation_score.py [--designs single,array,...] [--operators drop-irq-save,...] [--jobs 2]
                                   [--stress-steps 300] [--stress-seeds 3] [--kit-examples 30] [--json out.json]

For every mutant whose mutated function the design runs at all (the rest are *unreached*):

* a **long random run** (``stress``: four CPUs allocating and freeing at once, remote frees, random interrupts
  whose handlers allocate and free random sizes, every invariant checked after every step; not the kit's
  adversarial sizes, not the explorer's charge points) says whether the mutant breaks an invariant at all;
* ``benchframe explore`` catches it if a context the design is SAFE against (irq, nmi, smp, preempt) finds it
  UNSAFE (``first_only``: the verdict);
* the kit catches it if a conformance test or its random sequences (``--kit-examples``, fixed seed) fail.

The score is the share of the mutants that break in the long run which explore or the kit catch: every one
should be. Mutants neither the long run nor explore nor the kit break are reported as *equivalent* (the
mistake does no harm in the model, e.g. an unlock moved past a charge that touches nothing). Exit status 1 if
a mutant that breaks in the long run is caught by neither.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from benchframe.explore import CONTEXTS, explore
from benchframe.hw.irq import InterruptSource
from benchframe.hw.topology import Topology
from benchframe.mm.page import GFP_ATOMIC
from benchframe.plugins import get_registry
from benchframe.testing import conformance_suite, make_kernel
from benchframe.testing.mutants import OPERATORS, all_sites, mutant
from benchframe.testing.soak import run_sequences

BUILTIN = ("single", "list", "array", "twopass", "llist", "locallock", "preempt")
KIT_TESTS = ("test_bulk_returns_what_it_allocated", "test_zero_and_negative_requests_allocate_nothing",
             "test_array_semantics", "test_list_semantics", "test_one_page_takes_the_single_page_path",
             "test_partial_success_near_exhaustion")


# -- the long random run ------------------------------------------------------------------------------------------
class Stress:
    """Random operations on four CPUs of one kernel running ``spec``, with random interrupts (``random.Random``
    seeded: the same seed, the same run)."""

    def __init__(self, spec: str, seed: int):
        self.rng = random.Random(seed)
        self.h = make_kernel(spec, Topology.uma(cpus=4, normal_pages=16384))

    def alloc(self, c: Any, n: int) -> list[int]:
        return self.h.caller(c).alloc(GFP_ATOMIC, n)

    def free(self, c: Any, k: int) -> None:
        held = sorted(self.h.held)
        pages = self.rng.sample(held, min(k, len(held)))
        if self.rng.random() < 0.5:
            self.h.caller(c).free_pages(pages)
            return
        for p in pages:
            if p in self.h.held:
                self.h.caller(c).free(p)

    def handler(self, n: int, back: int) -> Any:
        def run(c: Any) -> None:
            pages = [p for p in self.alloc(c, n)[:back] if p in self.h.held]
            if pages:
                self.h.caller(c).free_pages(pages)
        return run

    def step(self, i: int) -> None:
        rng, h = self.rng, self.h
        c = rng.choice(h.cpus)
        r = rng.random()
        if r < 0.3:
            self.alloc(c, rng.randint(1, 80))
        elif r < 0.55:
            self.free(c, rng.randint(1, 64))
        elif r < 0.75:
            sizes = {x.id: rng.randint(1, 40) for x in h.cpus}

            def task(x: Any) -> None:
                self.alloc(x, sizes[x.id])
                self.free(x, sizes[x.id] // 2)
            h.machine.run({x: task for x in h.cpus})
        else:
            at = c.clock + rng.randint(0, 4000)
            h.machine.add_interrupt(c, InterruptSource.at(f"stress{i}", [at], self.handler(rng.randint(1, 70),
                                                                                            rng.randint(0, 3))))

    def problem(self) -> str | None:
        problems = list(self.h.kernel.violations) + self.h.invariant_problems()
        return problems[0] if problems else None


def stress(spec: str, seed: int, steps: int) -> str | None:
    """The long random run: the first broken invariant, or None."""
    try:
        s = Stress(spec, seed)
        for i in range(steps):
            s.step(i)
            problem = s.problem()
            if problem:
                return f"step {i}: {problem}"
        s.free(s.h.cpus[0], len(s.h.held))
        return s.problem()
    except Exception as exc:  # noqa: BLE001 - a mutant that crashes the model breaks it
        return f"{type(exc).__name__}: {exc}"


def reached(spec: str, steps: int) -> set[tuple[str, str]]:
    """(class, function) of every function a stress run of ``spec`` calls."""
    seen: set[tuple[str, str]] = set()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            owner = frame.f_locals.get("self")
            if owner is not None:
                for cls in type(owner).__mro__:
                    if frame.f_code.co_name in vars(cls):
                        seen.add((cls.__name__, frame.f_code.co_name))
                        break

    sys.setprofile(profile)
    try:
        stress(spec, 1, steps)
        run_sequences(spec, examples=3, seed=1, shrink=False)
    finally:
        sys.setprofile(None)
    return seen


# -- what catches a mutant ----------------------------------------------------------------------------------------
def kit_catches(name: str, examples: int) -> str | None:
    suite = conformance_suite(name)()
    for test in KIT_TESTS:
        try:
            getattr(suite, test)()
        except pytest.skip.Exception:  # a test for the other caller shape
            continue
        except Exception as exc:  # noqa: BLE001 - any failure is the kit catching the mutant
            return f"{test}: {type(exc).__name__}: {str(exc)[:160]}"
    result = run_sequences(name, examples=examples, seed=1, shrink=False)
    return result.failure[:200] if result.failure else None


def explore_catches(name: str, base: dict[str, str]) -> str | None:
    for context in CONTEXTS:
        if base[context] != "SAFE":
            continue
        res = explore(name, context, first_only=True)
        if res.verdict == "UNSAFE":
            return f"{context}: {res.reason[:160]}"
    return None


_BASES: dict[str, dict[str, str]] = {}


def evaluate(job: tuple[str, int, int, int, int]) -> dict[str, Any]:
    """One mutant (the ``index``-th site of ``design``) in a worker: the long run, explore, the kit."""
    design, index, steps, seeds, examples = job
    reg = get_registry()
    record, _ = reg.design_spec(design)
    site = all_sites(record)[index]
    name = f"{design}~{index}"
    reg.designs[name] = mutant(record, site, name)
    if design not in _BASES:
        _BASES[design] = {c: explore(design, c, first_only=True).verdict for c in CONTEXTS}
    t0 = time.perf_counter()
    breaks = next((b for b in (stress(name, s, steps) for s in range(1, seeds + 1)) if b), None)
    out = {"design": design, "mutant": name, "operator": site.operator, "where": site.where, "breaks": breaks,
           "explore": _guarded(explore_catches, name, _BASES[design]), "kit": _guarded(kit_catches, name, examples)}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _guarded(check: Any, *args: Any) -> str | None:
    """A checker that itself fails on a mutant (an exception it does not turn into a finding) caught it too:
    the failure is what a developer would see."""
    try:
        found: str | None = check(*args)
    except Exception as exc:  # noqa: BLE001 - reported as what caught the mutant, with the exception
        return f"raised {type(exc).__name__}: {str(exc)[:160]}"
    return found


def jobs_for(designs: list[str], operators: set[str], steps: int, seeds: int, examples: int
             ) -> tuple[list[tuple[str, int, int, int, int]], list[dict[str, Any]]]:
    """The mutants to evaluate, and those whose function the design never runs (unreached)."""
    reg = get_registry()
    todo, unreached = [], []
    for design in designs:
        record, _ = reg.design_spec(design)
        ran = reached(design, steps)
        for i, site in enumerate(all_sites(record)):
            if site.operator not in operators:
                continue
            if (site.owner.__name__, site.function) in ran:
                todo.append((design, i, steps, seeds, examples))
            else:
                unreached.append({"design": design, "operator": site.operator, "where": site.where})
    return todo, unreached


def report(results: list[dict[str, Any]], unreached: list[dict[str, Any]]) -> tuple[str, bool]:
    lines = [f"{'mutant':<14} {'operator':<15} {'where':<42} {'long run':<9} {'explore':<8} {'kit':<5}"]
    for r in results:
        lines.append(f"{r['mutant']:<14} {r['operator']:<15} {r['where']:<42} {'breaks' if r['breaks'] else '-':<9} "
                     f"{'caught' if r['explore'] else '-':<8} {'caught' if r['kit'] else '-':<5}")
    breaking = [r for r in results if r["breaks"]]
    caught = [r for r in breaking if r["explore"] or r["kit"]]
    missed = [r for r in breaking if not (r["explore"] or r["kit"])]
    silent = [r for r in results if not (r["breaks"] or r["explore"] or r["kit"])]
    only_search = [r for r in results if not r["breaks"] and (r["explore"] or r["kit"])]
    lines += ["", f"mutants: {len(results)} run ({len(unreached)} more in functions the designs never run)",
              f"break in the long random run: {len(breaking)}; caught by explore or the kit: {len(caught)} "
              f"(explore {sum(1 for r in breaking if r['explore'])}, kit {sum(1 for r in breaking if r['kit'])})",
              f"score: {len(caught)}/{len(breaking)}" + (f" = {100 * len(caught) / len(breaking):.0f}%" if breaking
                                                           else ""),
              f"caught although the long run never breaks them: {len(only_search)}; broken by nothing (equivalent "
              f"in the model): {len(silent)}"]
    lines += [f"MISSED: {r['mutant']} {r['operator']} {r['where']}: {r['breaks']}" for r in missed]
    return "\n".join(lines), not missed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tools/mutation_score.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--designs", default=",".join(BUILTIN))
    p.add_argument("--operators", default=",".join(OPERATORS))
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--stress-steps", type=int, default=300)
    p.add_argument("--stress-seeds", type=int, default=3)
    p.add_argument("--kit-examples", type=int, default=30)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    operators = set(args.operators.split(","))
    unknown = operators - set(OPERATORS)
    if unknown:
        print(f"mutation_score: error: unknown operator(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    todo, unreached = jobs_for(args.designs.split(","), operators, args.stress_steps, args.stress_seeds,
                               args.kit_examples)
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(evaluate, todo))
    else:
        results = [evaluate(job) for job in todo]
    text, ok = report(results, unreached)
    print(text)
    print(f"{time.monotonic() - t0:.0f} s on {args.jobs} process(es)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"results": results, "unreached": unreached}, f, indent=1, sort_keys=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
