"""The conformance kit (``testing/``): it catches a design that breaks the contract, runs unnamed suites per
``--benchframe-design``, and ``make_kernel`` boots a design on the shared harness. (The built-in designs
passing it: ``tests/designs/test_builtin_conformance.py``.)"""

from __future__ import annotations

import pytest

from benchframe.api import ARRAY, BulkAllocator, Design
from benchframe.plugins import get_registry
from benchframe.testing import conformance_suite
from benchframe.testing.soak import run_sequences

pytest_plugins = ["pytester"]


class ReturnsZeroWhenFull(BulkAllocator):
    """The 5.13-final bug (b3b64ebd3822): a fully populated array returns 0."""

    shape = ARRAY

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None):
        if page_array is not None and all(p is not None for p in page_array[:nr_pages]) and nr_pages > 0:
            return 0
        return super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array)


class HandsOutTwice(BulkAllocator):
    shape = ARRAY

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None):
        n = super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array)
        if n >= 2:
            page_array[1] = page_array[0]
        return n


@pytest.fixture
def broken_registry(monkeypatch):
    reg = get_registry()
    designs = dict(reg.designs)
    designs["zero_when_full"] = Design("zero_when_full", ReturnsZeroWhenFull, "broken")
    designs["twice"] = Design("twice", HandsOutTwice, "broken")
    monkeypatch.setattr(reg, "designs", designs)
    return reg


def test_kit_catches_zero_for_a_full_array(broken_registry):
    suite = conformance_suite("zero_when_full")()
    with pytest.raises(AssertionError):
        suite.test_array_semantics()


def test_kit_catches_a_page_handed_out_twice(broken_registry):
    suite = conformance_suite("twice")()
    with pytest.raises(AssertionError, match="twice"):
        suite.test_bulk_returns_what_it_allocated()


MINE = "from benchframe.testing import conformance_suite\n\nTestMine = conformance_suite()\n"


def test_design_option_runs_an_unnamed_suite_per_design(pytester):
    pytester.makepyfile(test_mine=MINE)
    result = pytester.runpytest("--benchframe-design", "array,list", "-k", "zero_and_negative or array_semantics",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, skipped=1)  # list-shaped design: array semantics skipped
    result = pytester.runpytest("-k", "zero_and_negative", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)  # no --benchframe-design: nothing to run against


def test_design_option_fails_a_broken_design(pytester, broken_registry):
    pytester.makepyfile(test_mine=MINE)
    result = pytester.runpytest("--benchframe-design", "twice", "-k", "returns_what_it_allocated",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)


def test_make_kernel_boots_the_design():
    from benchframe.mm.page import GFP_ATOMIC
    from benchframe.testing import make_kernel

    h = make_kernel("list")
    lst: list[int] = []
    assert h.impl.alloc_bulk(h.cpus[0], GFP_ATOMIC, 8, page_list=lst) == 8 == len(set(lst))
    assert h.kernel.stat.pages_allocated == 8
    assert "8 page(s) lost" in h.invariant_problems()[0]  # allocated behind the harness's back
    h.held.update(lst)
    assert h.caller().alloc(GFP_ATOMIC, 4) and h.invariant_problems() == []


# -- no design is excused, no return value passes for being partial ------------------------------------------------
class NoOnePageFallback(BulkAllocator):
    """Takes one page through the bulk path instead of ``__alloc_pages()``."""

    shape = ARRAY

    def __init__(self, k, **options):
        super().__init__(k, **options)
        self.one_page_fallback = False


class UndercountsHoles(BulkAllocator):
    """Returns one less than it should whenever the array had a populated slot (a partial-looking lie)."""

    shape = ARRAY

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None):
        populated = page_array is not None and any(p is not None for p in page_array[:nr_pages])
        n = super().alloc_bulk(cpu, gfp, nr_pages, page_list=page_list, page_array=page_array)
        return n - 1 if populated and n > 1 and not all(p is not None for p in page_array[:nr_pages]) else n


def test_kit_does_not_excuse_a_design_by_its_name(monkeypatch):
    """The one-page contract is checked on what the design does, whatever it is called (the old kit passed
    anything named ``single``)."""
    reg = get_registry()
    designs = dict(reg.designs)
    designs["single"] = Design("single", NoOnePageFallback, "broken, under a built-in's name")
    monkeypatch.setattr(reg, "designs", designs)
    with pytest.raises(AssertionError, match="__alloc_pages"):
        conformance_suite("single")().test_one_page_takes_the_single_page_path()


def test_random_sequences_check_the_exact_return_value(broken_registry, first_failure):
    designs = dict(broken_registry.designs)
    designs["undercounts"] = Design("undercounts", UndercountsHoles, "broken")
    broken_registry.designs = designs
    result = first_failure("undercounts", examples=40, shrink=False)
    assert result.failure is not None and "returned" in result.failure and "populated" in result.failure


HOOKED = '''
from benchframe.api import ARRAY, BulkAllocator, Design, hookimpl

class Hooked(BulkAllocator):
    shape = ARRAY

@hookimpl
def benchframe_register_designs():
    return [Design(name="hooked", factory=Hooked, description="an array design with its own invariant")]

@hookimpl
def benchframe_check_invariants(kernel, design):
    if design.name != "hooked":
        return []
    return [f"hooked: {kernel.stat.pages_allocated} pages allocated, my private structure says 0"] \\
        if kernel.stat.pages_allocated else []
'''


def test_kit_runs_the_designs_own_invariant_hooks(tmp_path):
    path = tmp_path / "hooked_plugin.py"
    path.write_text(HOOKED)
    suite = conformance_suite("hooked", plugins=(str(path),))()
    with pytest.raises(AssertionError, match="my private structure says 0"):
        suite.test_bulk_returns_what_it_allocated()
    result = run_sequences("hooked", plugins=(str(path),), examples=5, seed=1, shrink=False)
    assert result.failure is not None and "my private structure says 0" in result.failure


# -- the random sequences search harder --------------------------------------------------------------------------
def test_random_sequences_break_the_unsafe_llist_del_first_with_interrupts(first_failure):
    """An IRQ handler that allocates and frees in the middle of the task's llist_del_first: the ABA."""
    found = first_failure("llist_del_first", examples=80, shrink=False)
    seed = found.seed
    assert found.failure is not None
    assert any(w in found.failure for w in ("handed out twice", "lost", "pages are listed")), found.failure
    assert f"hypothesis seed {seed};" in found.failure and f"--benchframe-seed {seed} " in found.failure
    # the same sequences without interrupts meet the contract (a single consumer per list)
    assert run_sequences("llist_del_first", interrupts=False, examples=20, seed=seed, shrink=False).failure is None


def test_random_sequences_break_a_zone_lock_released_early_on_several_cpus(early_unlock):
    result = run_sequences(early_unlock, examples=20, seed=0, shrink=False)
    assert result.failure is not None and "NR_FREE_PAGES" in result.failure
    assert result.sequences <= 20


def test_random_sequences_boot_several_cpus_configs_and_low_memory(monkeypatch):
    """What the sequences cover: several CPUs, PAGE_OWNER/PREEMPT_RT, a zone below its min watermark, an IRQ
    handler that allocated, a free from a CPU that did not allocate the page."""
    from benchframe.testing import sequences

    seen = {"cpus": set(), "config": set(), "below_min": False, "irq_allocs": 0, "remote_frees": 0}
    check = sequences.DesignSequences.check

    def spy(self, when):
        h = self.harness
        seen["cpus"].add(len(h.cpus))
        seen["config"].update(o for o in ("PAGE_OWNER", "PREEMPT_RT") if getattr(h.config, o.lower()))
        seen["below_min"] |= any(z.nr_free_pages <= z.watermark[0] for z in h.kernel.zones)
        seen["irq_allocs"] += sum(src.delivered for c in h.cpus for src in c.sources)
        seen["remote_frees"] += h.kernel.stat.remote_frees
        check(self, when)

    monkeypatch.setattr(sequences.DesignSequences, "check", spy)
    assert run_sequences("array", examples=60, seed=2, shrink=False).failure is None
    assert seen["cpus"] >= {1, 2, 3, 4} and seen["config"] == {"PAGE_OWNER", "PREEMPT_RT"}
    assert seen["below_min"] and seen["irq_allocs"] > 0 and seen["remote_frees"] > 0


def test_a_failing_run_prints_its_seed_and_a_fresh_one_is_drawn_each_run(pytester, broken_registry):
    pytester.makepyfile(test_mine=MINE)
    result = pytester.runpytest("--benchframe-design", "twice", "-k", "random_sequences", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.re_match_lines([r".*hypothesis seed \d+; rerun with --benchframe-seed \d+.*"])
    seeds = {run_sequences("array", examples=1).seed for _ in range(3)}
    assert len(seeds) == 3  # derandomize off: every run tries new sequences
