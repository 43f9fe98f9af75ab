"""The conformance kit: the contract tests every built-in design passes, for a design author to run on theirs.

Its pytest plugin (``benchframe.testing.plugin``, entry point ``pytest11``) is loaded automatically once
benchframe is installed. In your plugin's test file::

    from benchframe.testing import conformance_suite

    TestConformance = conformance_suite("mydesign")

``pytest`` then runs the contract against ``mydesign`` (which must be registered, i.e. your package installed,
or loaded with ``--benchframe-plugin PATH`` on the pytest command line). ``conformance_suite("mydesign",
config=("PREEMPT_RT",))`` runs it on a PREEMPT_RT kernel. Or leave the name to the command line::

    TestConformance = conformance_suite()          # in the test file

    pytest --benchframe-design mydesign,mydesign:opt=1 tests/

(every test of such a class runs once per design named; without the option they are skipped). To poke at a
design by hand, ``make_kernel("mydesign")`` (``benchframe.testing.kernel``) boots the same small machine on the
shared harness (``benchframe.workloads.context.Harness``) that runs and ``benchframe explore`` use. What is
checked (the design's own ``benchframe_check_invariants`` hooks included):

* return values for the design's shape: a list design returns the number of pages it put on the list; an array
  design treats ``nr_pages`` as the array size, fills only NULL slots (holes anywhere), counts populated slots,
  and returns the array size for a fully populated array (not 0: the 5.13 NFSD regression);
* zero and negative requests return 0 and allocate nothing;
* a list design given a non-empty list keeps what is on it and appends, or refuses with a
  ``BenchframeError`` (``twopass``: the list must be empty) — never a crash or a silently dropped page;
* partial success: near exhaustion the design returns fewer pages than asked, but at least one while any page
  can be had, and every page it returns is real;
* fallbacks: one page to fill, or ``PAGE_OWNER``, goes through the single-page path (``__alloc_pages()`` is
  called once and its page is the one returned) -- whatever the design is called;
* random sequences (``benchframe.testing.sequences``, a hypothesis state machine): several CPUs, both caller
  shapes with populated slots, remote frees, zones below their low and min watermarks, PAGE_OWNER/PREEMPT_RT,
  interrupts raised at a drawn charge point of a call whose handlers allocate or free in the adversary's sizes
  (exactly the pages on the pcp list they find, one more, one fewer, the batch, up to ``pcp->high``, or today's
  fixed sizes), CPUs running at once, every choice shrinkable -- every return value checked exactly, and after
  every step page conservation, no page handed out twice, ``pcp->count`` and free counts equal to their lists,
  IRQ/preempt/migrate-disable state balanced. ``--benchframe-examples N`` (default 10) and
  ``--benchframe-steps N`` (20) size them; each run draws a fresh seed, printed with a failure, and
  ``--benchframe-seed S`` repeats it. ``python -m benchframe.testing.soak`` runs them by the thousand.
"""

from __future__ import annotations

import pytest

from benchframe import BenchframeError
from benchframe.hw.topology import Topology
from benchframe.mm.bulk import ARRAY, LIST
from benchframe.mm.page import GFP_ATOMIC
from benchframe.testing.kernel import SMALL_ZONE, make_kernel


class Kit:
    """The shared harness with assertions: every call through its ``Caller`` must leave no violation (a wrong
    count, a page handed out twice or still free, unbalanced IRQ/preempt state), ``check()`` runs every
    invariant, the design's own ``benchframe_check_invariants`` hooks included."""

    def __init__(self, design_spec: str, pages: int = SMALL_ZONE, config: tuple[str, ...] = (),
                 plugins: tuple[str, ...] = ()):
        self.h = make_kernel(design_spec, Topology.uma(cpus=1, normal_pages=pages), config, plugins)
        self.k = self.h.kernel
        self.design = self.h.design
        self.shape = self.design.shape
        self.caller = self.h.caller(0)
        self.held = self.h.held

    def _clean(self, what: str) -> None:
        assert not self.k.violations, f"{what}: " + "; ".join(self.k.violations[:5])

    def call(self, nr_pages: int, page_list: list[int] | None = None,
             page_array: list[int | None] | None = None) -> int:
        """One bulk call with the given list or array, through the caller (no conversion)."""
        if page_list is not None:
            n = self.caller.alloc_list(GFP_ATOMIC, nr_pages, page_list)
        else:
            assert page_array is not None
            n = self.caller.alloc_array(GFP_ATOMIC, page_array, nr_pages)
        self._clean(f"alloc_bulk({nr_pages})")
        assert isinstance(n, int), f"alloc_bulk returned {n!r}, not an int"
        return n

    def alloc(self, nr_pages: int) -> tuple[int, list[int]]:
        """One bulk call in the design's own shape; returns (return value, new pages)."""
        if self.shape == LIST:
            lst: list[int] = []
            return self.call(nr_pages, page_list=lst), lst
        arr: list[int | None] = [None] * max(nr_pages, 0)
        n = self.call(nr_pages, page_array=arr)
        return n, [p for p in arr if p is not None]

    def free(self, pages: list[int], bulk: bool = False) -> None:
        """Free ``pages`` through the caller: one ``free_pages()`` call with ``bulk``, else one by one."""
        if bulk:
            self.caller.free_pages(list(pages))
        else:
            for p in pages:
                self.caller.free(p)
        self._clean("free")

    def check(self) -> None:
        """Every invariant holds: the kernel's and the design's own; no violation recorded."""
        problems = list(self.k.violations) + self.h.invariant_problems()
        assert not problems, "\n".join(problems[:5])


class ConformanceSuite:
    """The design contract as pytest tests; ``conformance_suite()`` makes a subclass per design."""

    spec: str | None = None
    kernel_config: tuple[str, ...] = ()
    extra_plugins: tuple[str, ...] = ()
    interrupts = True  # random sequences raise interrupts whose handlers allocate
    _benchframe_from_option = False

    @pytest.fixture(autouse=True)
    def _benchframe_spec(self, request: pytest.FixtureRequest) -> None:
        if hasattr(request, "param"):
            self.spec = request.param
        elif self.spec is None:
            pytest.skip("no design: conformance_suite() without a name needs --benchframe-design NAME")

    def harness(self, **kw: int) -> Kit:
        """A fresh ``Kit`` on this suite's design, config and plugins (``pages=N``: the zone's size)."""
        assert self.spec is not None
        return Kit(self.spec, config=self.kernel_config, plugins=self.extra_plugins, **kw)

    # -- return values -------------------------------------------------------------------------------
    def test_bulk_returns_what_it_allocated(self):
        """A bulk call returns the number of pages it allocated, and allocates the number asked."""
        h = self.harness()
        for n in (2, 3, 8, 17, 64):
            got, new = h.alloc(n)
            assert got == n == len(new), f"asked {n}, returned {got}, got {len(new)} pages"
        h.check()

    def test_zero_and_negative_requests_allocate_nothing(self):
        """0 and negative requests return 0 and take no page."""
        h = self.harness()
        free_before = h.k.nr_free_pages()
        for n in (0, -1, -64):
            got, new = h.alloc(n)
            assert got == 0 and new == []
        assert h.k.nr_free_pages() == free_before and h.k.stat.pages_allocated == 0
        h.check()

    def test_array_semantics(self):
        """An array design fills only the NULL slots and returns the populated count (5.13 semantics)."""
        h = self.harness()
        if h.shape != ARRAY:
            pytest.skip("list-shaped design")
        # holes in the middle are filled, populated slots kept and counted
        arr: list = [None] * 10
        assert h.call(10, page_array=arr) == 10
        kept = {i: arr[i] for i in (0, 3, 4, 9)}
        holes = [i for i in range(10) if i not in kept]
        h.free([arr[i] for i in holes])
        for i in holes:
            arr[i] = None
        assert h.call(10, page_array=arr) == 10
        assert all(arr[i] == p for i, p in kept.items()), "a populated slot was overwritten"
        # a fully populated array returns its size (ff4b2b4014cb), allocating nothing
        allocated = h.k.stat.pages_allocated
        assert h.call(10, page_array=arr) == 10
        assert h.k.stat.pages_allocated == allocated
        # nr_pages is the array size: slots past it are never touched
        big: list = [None] * 8
        assert h.call(5, page_array=big) == 5
        assert big[5:] == [None, None, None]
        h.check()

    def test_list_semantics(self):
        """A list design appends to a non-empty list, or refuses it with a one-line error."""
        h = self.harness()
        if h.shape != LIST:
            pytest.skip("array-shaped design")
        lst: list[int] = []
        assert h.call(12, page_list=lst) == 12 and len(lst) == 12
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
        h.check()

    # -- fallbacks and partial success -----------------------------------------------------------------
    def test_one_page_takes_the_single_page_path(self):
        """One page to fill goes through ``__alloc_pages()`` (``Kernel.alloc_pages``): exactly one call of it,
        whose page is the one returned."""
        h = self.harness()
        calls: list[int | None] = []
        alloc_pages = h.k.alloc_pages

        def spy(*args, **kwargs):
            page = alloc_pages(*args, **kwargs)
            calls.append(page)
            return page

        h.k.alloc_pages = spy  # type: ignore[method-assign]
        h.k.unfuse()  # a fused loop inlines alloc_pages()'s common case, where the spy cannot see it
        got, new = h.alloc(1)
        assert got == 1 and calls == new, f"one page: returned {got}, pages {new}, __alloc_pages() gave {calls}"
        if h.shape == ARRAY:
            # only the *leading* populated slots are counted before the "one page left" test (5.13)
            arr = [h.alloc(1)[1][0] for _ in range(3)] + [None]
            calls.clear()
            assert h.call(4, page_array=arr) == 4
            assert calls == [arr[3]], f"one NULL slot left: __alloc_pages() gave {calls}, slot holds {arr[3]}"
        h.check()

    def test_page_owner(self):
        """PAGE_OWNER: a design built on 5.14+ (``page_owner_fallback``) takes one page at a time; every design
        still returns what it allocated."""
        assert self.spec is not None
        h = Kit(self.spec, config=(*self.kernel_config, "PAGE_OWNER"), plugins=self.extra_plugins)
        got, new = h.alloc(8)
        assert got == len(new) >= 1
        if getattr(h.h.impl, "page_owner_fallback", False):
            assert got == 1 and h.k.stat.fallbacks == 1, "PAGE_OWNER must force the single-page path"
        h.check()

    def test_partial_success_near_exhaustion(self):
        """Near exhaustion: fewer pages than asked, but one while any can be had, each real."""
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
    def test_random_sequences(self, request: pytest.FixtureRequest):
        """The stateful random sequences of ``benchframe.testing.sequences`` (several CPUs, both shapes with
        populated slots, remote frees, low memory, PAGE_OWNER/PREEMPT_RT, interrupts whose handlers allocate).
        ``--benchframe-examples N`` sequences (default 10), each of up to ``--benchframe-steps`` rules; a fresh
        random seed every run (``--benchframe-seed S`` repeats one), printed when a sequence fails."""
        from benchframe.testing.soak import run_sequences

        assert self.spec is not None
        opt = request.config.getoption
        result = run_sequences(self.spec, self.kernel_config, self.extra_plugins, self.interrupts,
                               examples=opt("--benchframe-examples"), steps=opt("--benchframe-steps"),
                               seed=opt("--benchframe-seed"))
        assert result.failure is None, result.failure


def conformance_suite(design_spec: str | None = None, config: tuple[str, ...] = (),
                      plugins: tuple[str, ...] = (), interrupts: bool = True) -> type[ConformanceSuite]:
    """A pytest test class running the benchframe design contract against ``design_spec`` (``None``: against
    each design named by ``--benchframe-design``) on a kernel with ``config``. ``interrupts=False``: the random
    sequences raise no interrupts (for a design documented as unsafe under re-entrancy, whose verdict is
    ``benchframe explore``'s)."""
    label = design_spec or "option"
    name = f"Conformance_{label.replace(':', '_').replace('=', '_')}"
    return type(name, (ConformanceSuite,), {"spec": design_spec, "kernel_config": tuple(config),
                                            "extra_plugins": tuple(plugins), "interrupts": interrupts,
                                            "_benchframe_from_option": design_spec is None})
