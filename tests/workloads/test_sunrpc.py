"""``sunrpc``: ``svc_alloc_arg()`` filling the holes of a 259-slot array."""

from __future__ import annotations


def test_sunrpc_full_array_needs_no_allocation(run):
    r = run("array", "sunrpc", holes=0)
    assert r.metrics["pages_allocated"] == 0
    assert r.metrics["alloc_cycles_per_call"] > 0  # the array is still scanned


def test_sunrpc_array_beats_single_and_list_pays_for_holes(run):
    single, lst, arr = (run(d, "sunrpc", holes=64, pattern="scattered") for d in ("single", "list", "array"))
    assert arr.metrics["alloc_cycles_per_call"] < lst.metrics["alloc_cycles_per_call"] < \
        single.metrics["alloc_cycles_per_call"]


def test_sunrpc_under_page_owner_fills_every_hole_and_counts_the_sleeps(run, small):
    # PAGE_OWNER forces one page per bulk call on 5.14+ (kf §1.3): 5.13's svc_alloc_arg loop sleeps once per short
    # iteration
    r = run("locallock", "sunrpc", config=("PAGE_OWNER",), holes=40)
    assert r.metrics["invariant_violations"] == 0, r.violations
    assert r.metrics["pages_allocated"] == 40 * small["sunrpc"]["calls"]
    assert r.metrics["sleeps_per_call"] >= 39
    later = run("locallock", "sunrpc", config=("PAGE_OWNER",), holes=40, loop="progress")
    assert later.metrics["sleeps_per_call"] == 0
    assert run("array", "sunrpc", holes=8).metrics["sleeps_per_call"] == 0


def test_the_hole_pattern_changes_how_much_an_array_design_scans_with_irqs_off(run):
    # before: pattern=contiguous|scattered gave identical figures for every design -- a parameter that did
    # nothing. Scattered holes start near slot 0, so 5.13 skips nearly all 259 slots inside its IRQs-off loop.
    arr = {pat: run("array", "sunrpc", pattern=pat).metrics for pat in ("contiguous", "scattered")}
    assert arr["scattered"]["irqs_off_cycles_per_call"] > arr["contiguous"]["irqs_off_cycles_per_call"]
    # the same slots are tested either way: the cycles per call move only with the refills' cache state
    scattered, contiguous = arr["scattered"]["alloc_cycles_per_call"], arr["contiguous"]["alloc_cycles_per_call"]
    assert abs(scattered - contiguous) < 0.02 * contiguous
    # a list design finds the holes in the caller, IRQs on: the pattern changes nothing for it
    lst = {pat: run("list", "sunrpc", pattern=pat).metrics for pat in ("contiguous", "scattered")}
    scattered, contiguous = (lst[p]["irqs_off_cycles_per_call"] for p in ("scattered", "contiguous"))
    assert abs(scattered - contiguous) < 0.02 * contiguous  # only the refills' cache state differs
