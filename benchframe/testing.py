"""The conformance kit: the contract tests every built-in design passes, for a design author to run on theirs.

It is a pytest plugin (entry point ``pytest11``: loaded automatically once benchframe is installed). In your
plugin's test file::

    from benchframe.testing import conformance_suite

    TestConformance = conformance_suite("mydesign")

``pytest`` then runs the contract against ``mydesign`` (which must be registered, i.e. your package installed,
or loaded with ``--benchframe-plugin PATH`` on the pytest command line). ``conformance_suite("mydesign",
config=("PREEMPT_RT",))`` runs it on a PREEMPT_RT kernel. Or leave the name to the command line::

    TestConformance = conformance_suite()          # in the test file

    pytest --benchframe-design mydesign,mydesign:opt=1 tests/

(every test of such a class runs once per design named; without the option they are skipped). To poke at a
design by hand, ``make_kernel("mydesign")`` boots the same small machine: ``(engine, kernel, impl)``.
What is checked:

* return values for the design's shape: a list design returns the number of pages it put on the list; an array
  design treats ``nr_pages`` as the array size, fills only NULL slots (holes anywhere), counts populated slots,
  and returns the array size for a fully populated array (not 0: the 5.13 NFSD regression);
* zero and negative requests return 0 and allocate nothing;
* a list design given a non-empty list keeps what is on it and appends, or refuses with a
  ``BenchframeError`` (``twopass``: the list must be empty) — never a crash or a silently dropped page;
* partial success: near exhaustion the design returns fewer pages than asked, but at least one while any page
  can be had, and every page it returns is real;
* fallbacks: one page to fill, or ``PAGE_OWNER``, goes through the single-page path;
* under random sequences of bulk allocations (both shapes' sizes, holes) and frees (hypothesis): page
  conservation, no page handed out twice, ``pcp->count`` and free counts equal to their lists, IRQ/preempt/
  migrate-disable state balanced after every call.
"""

from __future__ import annotations

import random

import pytest

from benchframe import BenchframeError
from benchframe.api import ARRAY, LIST
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.invariants import check_kernel
from benchframe.mm.page import GFP_ATOMIC, PAGE_ALLOCATED
from benchframe.plugins import get_registry
from benchframe.runner import boot, parse_design_spec

SMALL_ZONE = 16384  # pages: fast to check, batch 3 / high 18 so refills and drains happen often


def make_kernel(design_spec: str, topology: Topology | None = None, config: tuple[str, ...] = (),
                plugins: tuple[str, ...] = ()):
    """Boot a small simulated machine running ``design_spec`` (``"llist:free=splice"``): ``(engine, kernel,
    impl)``; ``impl.alloc_bulk(engine.cpus[0], GFP_ATOMIC, n, page_list=[])`` calls the design directly."""
    reg = get_registry(plugins)
    design, options = parse_design_spec(design_spec, reg)
    return boot(design, options, reg.cost_model(None), KernelConfig.parse(list(config)),
                topology or Topology.uma(cpus=1, normal_pages=SMALL_ZONE))


class Harness:
    """A small simulated kernel running one design, with helpers that keep track of the pages held."""

    def __init__(self, design_spec: str, pages: int = SMALL_ZONE, config: tuple[str, ...] = (),
                 plugins: tuple[str, ...] = ()):
        reg = get_registry(plugins)
        self.design, options = parse_design_spec(design_spec, reg)
        topology = Topology.uma(cpus=1, normal_pages=pages)
        self.engine, self.k, self.impl = boot(self.design, options, reg.cost_model(None),
                                              KernelConfig.parse(list(config)), topology)
        self.cpu = self.engine.cpus[0]
        self.held: set[int] = set()
        self.shape = self.design.shape

    def state(self):
        c = self.cpu
        return (c.irqs_on, c.preempt_count, c.migrate_disable_count, c.context)

    def call(self, nr_pages: int, page_list: list | None = None, page_array: list | None = None) -> int:
        before = self.state()
        n = self.impl.alloc_bulk(self.cpu, GFP_ATOMIC, nr_pages, page_list=page_list, page_array=page_array)
        assert self.state() == before, f"IRQ/preempt state not balanced: {before} -> {self.state()}"
        assert isinstance(n, int), f"alloc_bulk returned {n!r}, not an int"
        return n

    def alloc(self, nr_pages: int) -> tuple[int, list[int]]:
        """One bulk call in the design's own shape; returns (return value, new pages)."""
        if self.shape == LIST:
            lst: list[int] = []
            n = self.call(nr_pages, page_list=lst)
            new = lst
        else:
            arr: list = [None] * max(nr_pages, 0)
            n = self.call(nr_pages, page_array=arr)
            new = [p for p in arr if p is not None]
        self.take(new)
        return n, new

    def take(self, pages: list[int]) -> None:
        for p in pages:
            assert p not in self.held, f"page handed out twice: pfn {p}"
            assert self.k.mem.state[p] == PAGE_ALLOCATED, f"pfn {p} returned but not marked allocated"
            self.held.add(p)

    def free(self, pages: list[int], bulk: bool = False) -> None:
        before = self.state()
        for p in pages:
            self.held.discard(p)
        if bulk:
            self.impl.free_bulk(self.cpu, list(pages))
        else:
            for p in pages:
                self.impl.free_page(self.cpu, p)
        assert self.state() == before, "IRQ/preempt state not balanced by free"

    def check(self) -> None:
        problems = list(self.k.violations) + check_kernel(self.k, self.held)
        assert not problems, "\n".join(problems[:5])


def conformance_suite(design_spec: str | None = None, config: tuple[str, ...] = (), plugins: tuple[str, ...] = ()):
    """A pytest test class running the benchframe design contract against ``design_spec`` (``None``: against
    each design named by ``--benchframe-design``)."""

    class ConformanceSuite:
        spec = design_spec
        _benchframe_from_option = design_spec is None

        @pytest.fixture(autouse=True)
        def _benchframe_spec(self, request):
            if hasattr(request, "param"):
                self.spec = request.param
            elif self.spec is None:
                pytest.skip("no design: conformance_suite() without a name needs --benchframe-design NAME")

        def harness(self, **kw) -> Harness:
            return Harness(self.spec, config=config, plugins=plugins, **kw)

        # -- return values -------------------------------------------------------------------------------
        def test_bulk_returns_what_it_allocated(self):
            h = self.harness()
            for n in (2, 3, 8, 17, 64):
                got, new = h.alloc(n)
                assert got == n == len(new), f"asked {n}, returned {got}, got {len(new)} pages"
            h.check()

        def test_zero_and_negative_requests_allocate_nothing(self):
            h = self.harness()
            free_before = h.k.nr_free_pages()
            for n in (0, -1, -64):
                got, new = h.alloc(n)
                assert got == 0 and new == []
            assert h.k.nr_free_pages() == free_before and h.k.stat.pages_allocated == 0
            h.check()

        def test_array_semantics(self):
            h = self.harness()
            if h.shape != ARRAY:
                pytest.skip("list-shaped design")
            # holes in the middle are filled, populated slots kept and counted
            arr: list = [None] * 10
            assert h.call(10, page_array=arr) == 10
            h.take(list(arr))
            kept = {i: arr[i] for i in (0, 3, 4, 9)}
            holes = [i for i in range(10) if i not in kept]
            h.free([arr[i] for i in holes])
            for i in holes:
                arr[i] = None
            assert h.call(10, page_array=arr) == 10
            assert all(arr[i] == p for i, p in kept.items()), "a populated slot was overwritten"
            h.take([arr[i] for i in holes])
            # a fully populated array returns its size (ff4b2b4014cb), allocating nothing
            allocated = h.k.stat.pages_allocated
            assert h.call(10, page_array=arr) == 10
            assert h.k.stat.pages_allocated == allocated
            # nr_pages is the array size: slots past it are never touched
            big: list = [None] * 8
            assert h.call(5, page_array=big) == 5
            assert big[5:] == [None, None, None]
            h.take(big[:5])
            h.check()

        def test_list_semantics(self):
            h = self.harness()
            if h.shape != LIST:
                pytest.skip("array-shaped design")
            lst: list[int] = []
            assert h.call(12, page_list=lst) == 12 and len(lst) == 12
            h.take(lst)
            # a non-empty list: the pages on it stay, new ones are appended and counted — or a clear refusal
            lst = [h.alloc(2)[1][0]]
            before = list(lst)
            free_before = h.k.nr_free_pages()
            try:
                got = h.call(4, page_list=lst)
            except BenchframeError:
                assert lst == before and h.k.nr_free_pages() == free_before, "refused, but allocated anyway"
            else:
                assert lst[:1] == before and got == len(lst) - 1 == 4, f"non-empty list: returned {got}, {lst}"
                h.take(lst[1:])
            h.check()

        # -- fallbacks and partial success -----------------------------------------------------------------
        def test_one_page_takes_the_single_page_path(self):
            h = self.harness()
            got, _ = h.alloc(1)
            assert got == 1 and h.k.stat.fallbacks >= 1 or h.design.name == "single"
            if h.shape == ARRAY:
                # only the *leading* populated slots are counted before the "one page left" test (5.13)
                arr = [h.alloc(1)[1][0] for _ in range(3)] + [None]
                before = h.k.stat.fallbacks
                assert h.call(4, page_array=arr) == 4
                h.take([arr[3]])
                assert h.k.stat.fallbacks == before + 1 or h.design.name == "single"
            h.check()

        def test_page_owner_forces_single_pages(self):
            h = Harness(self.spec, config=tuple(config) + ("PAGE_OWNER",), plugins=plugins)
            got, new = h.alloc(8)
            assert got == len(new) >= 1
            assert h.k.stat.fallbacks >= 1 or h.design.name == "single"
            h.check()

        def test_partial_success_near_exhaustion(self):
            h = self.harness(pages=1024)
            total = []
            for _ in range(200):
                got, new = h.alloc(64)
                assert got == len(new)
                total += new
                if got < 64:
                    assert got > 0 or h.k.nr_free_pages() == 0, "pages left, but a bulk call returned none"
                    break
            else:
                raise AssertionError("1024 pages never ran out")
            assert 0 < len(total) <= 1024
            while True:  # keep asking: a page that can be had must be returned
                got, new = h.alloc(64)
                if not got:
                    break
                total += new
            assert h.k.nr_free_pages() <= max(z.watermark[0] for z in h.k.zones) + 64
            h.check()

        # -- random sequences --------------------------------------------------------------------------------
        def test_random_sequences_conserve_pages(self):
            from hypothesis import given, settings
            from hypothesis import strategies as st

            @settings(max_examples=25, deadline=None, derandomize=True)
            @given(st.lists(st.tuples(st.sampled_from(["alloc", "free", "free_bulk", "holes"]),
                                      st.integers(0, 80), st.integers(0, 10_000)), min_size=1, max_size=25))
            def run(ops):
                h = self.harness()
                for op, n, seed in ops:
                    rng = random.Random(seed)
                    if op == "alloc":
                        got, new = h.alloc(n)
                        assert got == len(new) <= max(n, 0)
                    elif op == "holes" and h.shape == ARRAY and n:
                        arr: list = [None] * n
                        pre = [p for p in rng.sample(sorted(h.held), min(len(h.held), n // 2))]
                        slots = rng.sample(range(n), len(pre))
                        for slot, page in zip(slots, pre):
                            arr[slot] = page
                        got = h.call(n, page_array=arr)
                        assert all(arr[s] == p for s, p in zip(slots, pre))
                        new = [arr[i] for i in range(n) if i not in slots and arr[i] is not None]
                        assert got == len(pre) + len(new) or got < n
                        h.take(new)
                    elif h.held:
                        pages = rng.sample(sorted(h.held), min(len(h.held), max(n, 1)))
                        h.free(pages, bulk=(op == "free_bulk"))
                    h.check()
                h.free(sorted(h.held))
                h.check()

            run()

    label = design_spec or "option"
    ConformanceSuite.__name__ = f"Conformance_{label.replace(':', '_').replace('=', '_')}"
    return ConformanceSuite


# -- the pytest plugin (entry point pytest11) --------------------------------------------------------------
def pytest_addoption(parser):
    group = parser.getgroup("benchframe")
    group.addoption("--benchframe-design", action="append", default=[], metavar="NAME[,NAME]",
                    help="design spec(s) that conformance_suite() classes without a name run against")
    group.addoption("--benchframe-plugin", action="append", default=[], metavar="PATH",
                    help="load a benchframe plugin module/path before collecting conformance suites")


def pytest_configure(config):
    extra = tuple(config.getoption("--benchframe-plugin") or ())
    if extra:
        from benchframe import plugins

        reg = plugins.get_registry(extra)
        plugins._CACHE[()] = reg  # conformance_suite() without plugins= sees them too


def pytest_generate_tests(metafunc):
    """``conformance_suite()`` without a name: one run of each test per ``--benchframe-design`` spec."""
    if not getattr(metafunc.cls, "_benchframe_from_option", False):
        return
    specs = [s.strip() for opt in metafunc.config.getoption("--benchframe-design") or ()
             for s in opt.split(",") if s.strip()]
    if specs:
        metafunc.parametrize("_benchframe_spec", specs, indirect=True, ids=specs)
