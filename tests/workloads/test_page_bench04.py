"""``page_bench04`` under the kernel configs: PAGE_OWNER forces single pages, PREEMPT_RT flags a sleeping
``zone->lock`` taken with IRQs off."""

from __future__ import annotations

from benchframe.plugins import get_registry
from benchframe.run import RunSpec, run_one


def test_page_owner_forces_single_pages_on_5_14_designs_only(run):
    """The PAGE_OWNER fallback came with 5.14's local_lock (Jul 2021, Fixes dbbee9d5cd83): 5.13's array design
    keeps the bulk path, 5.14's locallock takes one page per call."""
    r = run("locallock", "page_bench04", config=("PAGE_OWNER",), bulk=16)
    assert r.metrics["fallbacks"] > 0
    assert r.config == ["PAGE_OWNER"]
    assert run("array", "page_bench04", config=("PAGE_OWNER",), bulk=16).metrics["fallbacks"] == 0


def test_preempt_rt_flags_sleeping_zone_lock_taken_with_irqs_off(run):
    """kf §3.1: on RT, local_irq_save() + spin_lock(&zone->lock) is unsafe; 5.13 designs do it on every refill
    and drain, local_lock (RT sleeping lock, IRQs on) never does."""
    rt = ("PREEMPT_RT",)
    assert run("list", "page_bench04", config=rt, bulk=512).metrics["rt_sleeping_lock_irqs_off"] > 0
    assert run("locallock", "page_bench04", config=rt, bulk=512).metrics["rt_sleeping_lock_irqs_off"] == 0
    assert run("list", "page_bench04", bulk=512).metrics["rt_sleeping_lock_irqs_off"] == 0  # !RT: spinning lock


NEGATIVE = '''
from benchframe import hookimpl
from benchframe.api import ARRAY, BulkAllocator, Design


class Negative(BulkAllocator):
    """Fills the array as 5.13 does, then returns -1: a count no call could return."""
    shape = ARRAY

    def alloc_bulk(self, cpu, gfp, nr_pages, page_list=None, page_array=None, preferred_nid=None):
        super().alloc_bulk(cpu, gfp, nr_pages, page_list, page_array, preferred_nid)
        return -1


@hookimpl
def benchframe_register_designs():
    return [Design(name="negative", factory=Negative, description="returns -1")]
'''


def test_a_negative_count_is_a_violation_and_leaves_the_array_whole(tmp_path):
    """The test clears ``array[:n]`` after each call; a design returning -1 is recorded (every call) and the
    array keeps its size, so every call is still made for ``bulk`` pages (a slice assignment to ``array[:-1]``
    would have cut it to one slot, and the next call would fail as larger than the array)."""
    plugin = tmp_path / "negative.py"
    plugin.write_text(NEGATIVE)
    reg = get_registry((str(plugin),))
    assert not reg.errors, reg.errors
    r = run_one(RunSpec(design="negative", workload="page_bench04", params={"pages": 256, "bulk": 64, "warmup": 0},
                        seed=1), reg)
    assert r.metrics["alloc_calls"] == 4
    assert sum("returned -1" in v for v in r.violations) == 4, r.violations[:3]
