"""The engine: interrupt delivery and deferral, NMIs, PREEMPT_RT, ordering of shared state across CPUs."""

from __future__ import annotations

import pytest

from benchframe.engine import Deadlock
from benchframe.hw.costs import DEFAULT_PROFILE, builtin_profile_paths, load_profile_file
from benchframe.hw.cpu import HARDIRQ, NMI, TASK
from benchframe.hw.irq import NMI_KIND, InterruptSource
from benchframe.hw.locks import SpinLock
from benchframe.hw.machine import Machine
from benchframe.hw.topology import Topology
from benchframe.kconfig import KernelConfig
from benchframe.mm.page import GFP_ATOMIC
from benchframe.mm.page_alloc import Kernel

COSTS = load_profile_file(builtin_profile_paths()[DEFAULT_PROFILE])


def one_cpu(preempt_rt: bool = False):
    machine = Machine(COSTS, Topology.uma(cpus=1), preempt_rt)
    return machine, machine.cpus[0]


def test_irq_is_deferred_while_irqs_are_off_and_latency_recorded():
    engine, cpu = one_cpu()
    seen = []
    engine.add_interrupt(cpu, InterruptSource.at("dev", [100], lambda c: seen.append((c.clock, c.context))))
    cpu.charge(50)
    flags = cpu.local_irq_save()
    off_at = cpu.clock
    for _ in range(10):
        cpu.charge(100)  # arrival at 100 falls inside the window
    assert seen == []
    cpu.local_irq_restore(flags)
    assert len(seen) == 1 and seen[0][1] == HARDIRQ
    restore_at = off_at + 10 * 100 + COSTS.half("irq_save_restore")[1]
    assert cpu.irq_latencies == [restore_at - 100]
    assert cpu.irqs_off_windows == [restore_at - off_at]
    assert cpu.context == TASK and cpu.irqs_on


def test_irq_with_irqs_on_interrupts_a_charge_at_its_arrival():
    engine, cpu = one_cpu()
    starts = []
    engine.add_interrupt(cpu, InterruptSource.at("dev", [120], lambda c: starts.append(c.clock)))
    cpu.charge(100)
    assert cpu.irq_latencies == []
    cpu.charge(30)
    assert cpu.irq_latencies == [0]
    entry, leave = COSTS.half("irq_entry_exit")
    assert starts == [120 + entry]
    # the interrupted 30 cycles still complete, after the handler
    assert cpu.clock == 130 + entry + leave


def test_nmi_is_delivered_inside_an_irqs_off_window():
    engine, cpu = one_cpu()
    seen = []
    engine.add_interrupt(cpu, InterruptSource.at("nmi", [100], lambda c: seen.append((c.clock, c.context)),
                                                 kind=NMI_KIND))
    flags = cpu.local_irq_save()
    cpu.charge(200)
    assert seen and seen[0][1] == NMI
    assert not cpu.irqs_on  # still inside the window
    cpu.local_irq_restore(flags)


def test_preempt_rt_defers_threaded_handler_while_preempt_disabled():
    engine, cpu = one_cpu(preempt_rt=True)
    engine.add_interrupt(cpu, InterruptSource.at("dev", [10], lambda c: None))
    cpu.preempt_disable()
    cpu.charge(500)
    assert cpu.irq_latencies == []
    cpu.preempt_enable()
    assert len(cpu.irq_latencies) == 1 and cpu.irq_latencies[0] >= 490


def test_poisson_source_is_seeded():
    a = InterruptSource.poisson("d", 1000, lambda c: None, seed=7)
    b = InterruptSource.poisson("d", 1000, lambda c: None, seed=7)
    c = InterruptSource.poisson("d", 1000, lambda c: None, seed=8)
    ta = [(a.next_arrival, a.advance())[0] for _ in range(20)]
    tb = [(b.next_arrival, b.advance())[0] for _ in range(20)]
    tc = [(c.next_arrival, c.advance())[0] for _ in range(20)]
    assert ta == tb and ta != tc and ta == sorted(ta)


def _contend():
    engine = Machine(COSTS, Topology.uma(cpus=2))
    cpu0, cpu1 = engine.cpus
    lock = SpinLock("zone->lock", engine)
    log = []

    def holder(cpu):
        cpu.charge(100)
        lock.lock(cpu)
        log.append(("cpu0 locked", cpu.clock))
        cpu.charge(1000)
        lock.unlock(cpu)
        log.append(("cpu0 unlocked", cpu.clock))

    def waiter(cpu):
        cpu.charge(300)
        lock.lock(cpu)
        log.append(("cpu1 locked", cpu.clock))
        lock.unlock(cpu)

    engine.run({cpu0: holder, cpu1: waiter})
    return lock, log


def test_zone_lock_contention_between_two_cpus_is_simulated():
    lock, log = _contend()
    half = COSTS.half("spin_lock_unlock")
    locked0 = 100 + half[0]
    unlocked0 = locked0 + 1000 + half[1]
    assert log[0] == ("cpu0 locked", locked0)
    # cpu1 arrives at 300 while cpu0 holds the lock: it waits until the release
    assert lock.contended == 1
    assert lock.wait_cycles == unlocked0 - 300
    assert ("cpu1 locked", unlocked0 + half[0]) in log
    assert _contend()[1] == log  # deterministic


def test_a_cpu_spinning_on_a_lock_it_holds_deadlocks():
    engine, cpu = one_cpu()
    lock = SpinLock("zone->lock", engine)
    lock.lock(cpu)
    with pytest.raises(Deadlock, match="already holds"):
        lock.lock(cpu)


def test_two_cpus_refilling_through_the_kernel_contend_on_zone_lock():
    engine = Machine(COSTS, Topology.uma(cpus=2, normal_pages=262144))
    k = Kernel(engine, KernelConfig())

    def task(cpu):
        pages = []
        for _ in range(4):
            for _ in range(200):
                pages.append(k.alloc_pages(cpu, GFP_ATOMIC))
            for page in pages:
                k.free_unref_page(cpu, page)
            pages.clear()

    engine.run({engine.cpus[0]: task, engine.cpus[1]: task})
    assert k.zones[0].lock.contended > 0
    assert k.zones[0].lock.wait_cycles > 0
    assert k.violations == []


def test_back_to_back_interrupts_do_not_recurse():
    """Handlers that keep finding a new arrival are run in a loop, not by recursion (thousands in a row)."""
    engine, cpu = one_cpu()
    # a burst of 20,000 arrivals 100 cycles apart, each handler taking longer than that: thousands of
    # handlers back to back (far past Python's recursion limit), then the burst ends and the task resumes
    engine.add_interrupt(cpu, InterruptSource.at("dev", range(100, 2_000_100, 100), lambda c: c.charge(250)))
    cpu.charge(200)
    assert len(cpu.irq_latencies) > 2_000
    assert cpu.clock > 2_000_000
    assert cpu.context == TASK and cpu.irqs_on


def test_an_interrupt_storm_is_a_one_line_error():
    from benchframe import BenchframeError

    engine, cpu = one_cpu()
    engine.add_interrupt(cpu, InterruptSource.periodic("dev", 10, lambda c: c.charge(500)))
    with pytest.raises(BenchframeError, match="interrupt storm on CPU0"):
        cpu.charge(100)
