"""The conformance kit (``testing/``): it catches a design that breaks the contract, runs unnamed suites per
``--benchframe-design``, and ``make_kernel`` boots a design on the shared harness. (The built-in designs
passing it: ``tests/designs/test_builtin_conformance.py``.)"""

from __future__ import annotations

import pytest

from benchframe.api import ARRAY, BulkAllocator, Design
from benchframe.plugins import get_registry
from benchframe.testing import conformance_suite

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
