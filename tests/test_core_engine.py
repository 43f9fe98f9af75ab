"""Issue 2 acceptance, engine: interrupt deferral while IRQs are off (latency recorded), NMI delivery regardless,
PREEMPT_RT threaded handlers, and zone->lock contention between two CPUs in simulated time."""

from __future__ import annotations

from conftest import COSTS, boot_kernel

from benchframe.hw.cpu import HARDIRQ, NMI
from benchframe.hw.irq import NMI_KIND, InterruptSource
from benchframe.hw.locks import SpinLock
from benchframe.hw.machine import Machine
from benchframe.hw.topology import Topology
from benchframe.mm.page import GFP_ATOMIC

PERIOD = 1000


def one_cpu(preempt_rt: bool = False):
    machine = Machine(COSTS, Topology.uma(cpus=1), preempt_rt)
    return machine, machine.cpus[0]


def test_periodic_irq_is_deferred_to_local_irq_restore_and_latency_is_the_deferral():
    engine, cpu = one_cpu()
    seen: list[tuple[int, str, bool]] = []
    engine.add_interrupt(cpu, InterruptSource.periodic("timer", PERIOD, lambda c: seen.append(
        (c.clock, c.context, c.irqs_on))))
    cpu.charge(PERIOD - 100)
    flags = cpu.local_irq_save()
    off_since = cpu.clock
    assert off_since < PERIOD
    for _ in range(6):
        cpu.charge(50)  # the arrival at PERIOD falls inside the window
    assert cpu.clock > PERIOD
    assert seen == [], "a hardirq ran while IRQs were disabled"
    cpu.local_irq_restore(flags)
    restored_at = off_since + cpu.irqs_off_windows[-1]
    assert len(seen) == 1 and seen[0][1] == HARDIRQ and seen[0][2] is False
    assert cpu.irq_latencies == [restored_at - PERIOD]
    assert seen[0][0] == restored_at + COSTS.half("irq_entry_exit")[0]
    # the next arrival finds IRQs enabled: delivered on time
    cpu.charge(2 * PERIOD - cpu.clock + 10)
    assert cpu.irq_latencies == [restored_at - PERIOD, 0]


def test_nmi_is_delivered_inside_the_irqs_off_window_irq_is_not():
    engine, cpu = one_cpu()
    irq: list[int] = []
    nmi: list[tuple[int, str, bool]] = []
    engine.add_interrupt(cpu, InterruptSource.periodic("dev", PERIOD, lambda c: irq.append(c.clock)))
    engine.add_interrupt(cpu, InterruptSource.at("nmi", [PERIOD + 20], lambda c: nmi.append(
        (c.clock, c.context, c.irqs_on)), kind=NMI_KIND))
    flags = cpu.local_irq_save()
    cpu.charge(PERIOD + 200)
    assert not cpu.irqs_on
    assert irq == []
    assert len(nmi) == 1 and nmi[0][1] == NMI
    assert nmi[0][0] == PERIOD + 20 + COSTS.half("irq_entry_exit")[0], "the NMI ran at its arrival"
    cpu.local_irq_restore(flags)
    assert len(irq) == 1 and cpu.irq_latencies[0] > 0


def test_preempt_rt_defers_an_irq_while_preempt_count_is_raised():
    for rt in (False, True):
        engine, cpu = one_cpu(preempt_rt=rt)
        engine.add_interrupt(cpu, InterruptSource.at("dev", [100], lambda c: None))
        cpu.preempt_disable()
        cpu.charge(500)
        delivered_inside = list(cpu.irq_latencies)
        enabled_at = cpu.clock + COSTS.half("preempt_disable_enable")[1]
        cpu.preempt_enable()
        if rt:
            assert delivered_inside == [], "PREEMPT_RT: the threaded handler may not preempt"
            assert cpu.irq_latencies == [enabled_at - 100], "delivered at preempt_enable()"
        else:
            assert delivered_inside == [0], "without RT, preempt_disable does not mask hardirqs"


def _two_cpu_lock_run():
    engine = Machine(COSTS, Topology.uma(cpus=2))
    cpu0, cpu1 = engine.cpus
    lock = SpinLock("zone->lock[test]", engine)
    marks: dict[str, int] = {}

    def f0(cpu):
        cpu.charge(100)
        lock.lock(cpu)
        cpu.charge(500)
        lock.unlock(cpu)
        marks["released"] = cpu.clock

    def f1(cpu):
        cpu.charge(200)
        marks["arrived"] = cpu.clock
        lock.lock(cpu)
        marks["acquired"] = cpu.clock
        cpu.charge(50)
        lock.unlock(cpu)

    engine.run({cpu0: f0, cpu1: f1})
    return lock, marks, (cpu0.clock, cpu1.clock)


def test_spinlock_waiter_waits_exactly_the_overlap_and_runs_are_deterministic():
    lock, marks, clocks = _two_cpu_lock_run()
    assert marks["arrived"] < marks["released"], "the two critical sections overlap"
    assert lock.contended == 1 and lock.acquisitions == 2
    assert lock.wait_cycles == marks["released"] - marks["arrived"]
    lock_half = COSTS.half("spin_lock_unlock")[0]
    assert marks["acquired"] == marks["released"] + lock_half
    lock2, marks2, clocks2 = _two_cpu_lock_run()
    assert (lock2.wait_cycles, lock2.hold_cycles, marks2, clocks2) == (lock.wait_cycles, lock.hold_cycles,
                                                                       marks, clocks)


def test_spinlock_without_overlap_has_no_wait():
    engine = Machine(COSTS, Topology.uma(cpus=2))
    cpu0, cpu1 = engine.cpus
    lock = SpinLock("l", engine)

    def quick(cpu):
        lock.lock(cpu)
        cpu.charge(10)
        lock.unlock(cpu)

    def late(cpu):
        cpu.charge(10_000)
        quick(cpu)

    engine.run({cpu0: quick, cpu1: late})
    assert lock.contended == 0 and lock.wait_cycles == 0


def _kernel_contention(pages_per_cpu: int = 400):
    k = boot_kernel(262144, cpus=2)
    held: dict[int, list[int]] = {0: [], 1: []}

    def task(cpu):
        for _ in range(pages_per_cpu):
            page = k.alloc_pages(cpu, GFP_ATOMIC)
            assert page is not None
            held[cpu.id].append(page)

    cpus = k.machine.cpus
    k.machine.run({cpus[0]: task, cpus[1]: task})
    return k, held


def test_two_cpus_refilling_contend_on_zone_lock():
    k, held = _kernel_contention()
    lock = k.zones[0].lock
    assert k.stat.pcp_refills >= 2 * (400 // 63)
    assert lock.contended > 0 and lock.wait_cycles > 0
    assert not set(held[0]) & set(held[1])
    k2, _ = _kernel_contention()
    assert (k2.zones[0].lock.wait_cycles, [c.clock for c in k2.machine.cpus]) == \
        (lock.wait_cycles, [c.clock for c in k.machine.cpus])
