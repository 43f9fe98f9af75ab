"""Mutants derived mechanically from the built-in designs (``benchframe.testing.mutants``): every operator finds
its sites, a mutant is the design with one function rewritten, and what it breaks is what the mistake breaks."""

from __future__ import annotations

import collections

import pytest

from benchframe.explore import explore
from benchframe.plugins import get_registry
from benchframe.testing import Kit
from benchframe.testing.mutants import OPERATORS, all_sites, mutant


@pytest.fixture
def mutants(monkeypatch):
    """``make(design, operator, where)``: the mutant of ``design`` at the site whose ``where`` starts so,
    registered."""
    reg = get_registry()
    designs = dict(reg.designs)
    monkeypatch.setattr(reg, "designs", designs)

    def make(design: str, operator: str, where: str) -> str:
        record, _ = reg.design_spec(design)
        site = next(s for s in all_sites(record) if s.operator == operator and s.where.startswith(where))
        name = f"{design}~{operator}"
        designs[name] = mutant(record, site, name)
        return name

    return make


def test_every_operator_finds_sites_in_the_built_in_designs():
    reg = get_registry()
    for design in ("array", "llist", "locallock"):
        record, _ = reg.design_spec(design)
        ops = collections.Counter(s.operator for s in all_sites(record))
        assert set(ops) == set(OPERATORS), (design, ops)
    record, _ = reg.design_spec("llist")
    assert any(s.where.startswith("LlistDelAllPcp.") for s in all_sites(record))  # the design's own code too


def test_a_skipped_nr_free_pages_update_breaks_the_count(mutants):
    name = mutants("array", "skip-nr-free", "Kernel.rmqueue_bulk")
    kit = Kit(name)
    kit.free(kit.alloc(8)[1])
    with pytest.raises(AssertionError, match="NR_FREE_PAGES is"):
        kit.check()


def test_a_dropped_local_irq_save_is_unsafe_against_an_irq(mutants):
    name = mutants("array", "drop-irq-save", "PcpOps.lock")
    assert explore("array", "irq", first_only=True).verdict == "SAFE"
    result = explore(name, "irq", first_only=True)
    assert result.verdict == "UNSAFE" and ("corruption" in result.reason or "twice" in result.reason)


def test_spin_lock_instead_of_irqsave_deadlocks_a_handler_on_the_zone_lock(mutants):
    """llist takes zone->lock with IRQs on: without the irqsave an IRQ that refills spins on its own CPU's lock."""
    name = mutants("llist", "spin-lock", "Kernel.rmqueue_bulk")
    result = explore(name, "irq", first_only=True)
    assert result.verdict == "UNSAFE" and "deadlock" in result.reason and "zone->lock" in result.reason


def test_count_read_outside_the_section_keeps_its_stale_value(mutants):
    """The list's emptiness read before local_irq_save(): an IRQ in between that empties the list is not seen."""
    name = mutants("array", "count-outside", "PcpOps.rmqueue_pcplist")
    kit = Kit(name)
    kit.free(kit.alloc(8)[1])
    kit.check()  # without an interrupt nothing differs
    result = explore(name, "irq", first_only=True)
    assert result.verdict == "UNSAFE", result.render()


def test_the_unmutated_function_is_left_alone(mutants):
    name = mutants("array", "unlock-early", "BulkAllocator.alloc_bulk")
    reg = get_registry()
    base, _ = reg.design_spec("array")
    record, _ = reg.design_spec(name)
    assert record.factory.alloc_bulk is not base.factory.alloc_bulk
    assert record.factory.pcp_ops.rmqueue_pcplist is base.factory.pcp_ops.rmqueue_pcplist


def test_a_mutated_kernel_function_runs_the_fused_loops_would_pass_it(mutants):
    """A kernel function is mutated on the mutant's kernel instance, which the fused loops (benchframe.mm.fast*)
    do not look at: the mutant's kernel runs step by step, so every free reaches its ``free_unref_page``."""
    kit = Kit(mutants("array", "drop-irq-save", "Kernel.free_unref_page"))
    k = kit.k
    assert not (k.fused or k.fused_free or k.fused_free_locked or k.fused_alloc) and k.alloc_path is None
    mutated, calls = k.free_unref_page, []

    def spy(cpu, page):
        calls.append(page)
        mutated(cpu, page)

    k.free_unref_page = spy
    pages = kit.alloc(8)[1]
    kit.free(pages)
    assert sorted(calls) == sorted(pages)
    assert Kit("array").k.fused_free  # the design itself keeps them
