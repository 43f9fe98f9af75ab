"""Interrupt sources and their delivery (``hw/irq.py``): deferral while IRQs are off (latency recorded), delivery
at the arrival while IRQs are on, NMIs regardless, PREEMPT_RT threaded handlers, seeded Poisson arrivals,
back-to-back handlers and interrupt storms."""

from __future__ import annotations

import pytest

from benchframe import BenchframeError
from benchframe.hw.cpu import HARDIRQ, NMI, TASK
from benchframe.hw.irq import NMI_KIND, Interrupts, InterruptSource
from benchframe.hw.machine import Machine
from benchframe.hw.topology import Topology

PERIOD = 1000


@pytest.fixture
def one_cpu(costs):
    """``one_cpu(preempt_rt=False)`` -> (machine, its only CPU)."""

    def boot(preempt_rt: bool = False):
        machine = Machine(costs, Topology.uma(cpus=1), preempt_rt)
        return machine, machine.cpus[0]

    return boot


def test_irq_is_deferred_to_local_irq_restore_and_latency_is_the_deferral(one_cpu, costs):
    machine, cpu = one_cpu()
    seen: list[tuple[int, str, bool]] = []
    machine.add_interrupt(cpu, InterruptSource.periodic("timer", PERIOD, lambda c: seen.append(
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
    restored_at = off_since + 6 * 50 + costs.half("irq_save_restore")[1]
    assert list(cpu.irqs_off_windows) == [restored_at - off_since]
    assert len(seen) == 1 and seen[0][1] == HARDIRQ and seen[0][2] is False
    assert list(cpu.irq_latencies) == [restored_at - PERIOD]
    assert seen[0][0] == restored_at + costs.half("irq_entry_exit")[0]
    assert cpu.context == TASK and cpu.irqs_on  # back in the interrupted task, IRQs on again
    # the next arrival finds IRQs enabled: delivered on time
    cpu.charge(2 * PERIOD - cpu.clock + 10)
    assert list(cpu.irq_latencies) == sorted([restored_at - PERIOD, 0])  # a histogram: in order


def test_irq_with_irqs_on_interrupts_a_charge_at_its_arrival(one_cpu, costs):
    machine, cpu = one_cpu()
    starts = []
    machine.add_interrupt(cpu, InterruptSource.at("dev", [120], lambda c: starts.append(c.clock)))
    cpu.charge(100)
    assert list(cpu.irq_latencies) == []
    cpu.charge(30)
    assert list(cpu.irq_latencies) == [0]
    entry, leave = costs.half("irq_entry_exit")
    assert starts == [120 + entry]
    # the interrupted 30 cycles still complete, after the handler
    assert cpu.clock == 130 + entry + leave


def test_nmi_is_delivered_inside_the_irqs_off_window_irq_is_not(one_cpu, costs):
    machine, cpu = one_cpu()
    irq: list[int] = []
    nmi: list[tuple[int, str, bool]] = []
    machine.add_interrupt(cpu, InterruptSource.periodic("dev", PERIOD, lambda c: irq.append(c.clock)))
    machine.add_interrupt(cpu, InterruptSource.at("nmi", [PERIOD + 20], lambda c: nmi.append(
        (c.clock, c.context, c.irqs_on)), kind=NMI_KIND))
    flags = cpu.local_irq_save()
    cpu.charge(PERIOD + 200)
    assert not cpu.irqs_on
    assert irq == []
    assert len(nmi) == 1 and nmi[0][1] == NMI
    assert nmi[0][0] == PERIOD + 20 + costs.half("irq_entry_exit")[0], "the NMI ran at its arrival"
    cpu.local_irq_restore(flags)
    assert len(irq) == 1 and cpu.irq_latencies.order_statistic(0) > 0


@pytest.mark.parametrize("rt", [False, True])
def test_preempt_rt_defers_an_irq_while_preempt_count_is_raised(one_cpu, costs, rt):
    machine, cpu = one_cpu(preempt_rt=rt)
    machine.add_interrupt(cpu, InterruptSource.at("dev", [100], lambda c: None))
    cpu.preempt_disable()
    cpu.charge(500)
    delivered_inside = list(cpu.irq_latencies)
    enabled_at = cpu.clock + costs.half("preempt_disable_enable")[1]
    cpu.preempt_enable()
    if rt:
        assert delivered_inside == [], "PREEMPT_RT: the threaded handler may not preempt"
        assert list(cpu.irq_latencies) == [enabled_at - 100], "delivered at preempt_enable()"
    else:
        assert delivered_inside == [0], "without RT, preempt_disable does not mask hardirqs"


def test_poisson_source_is_seeded():
    a = InterruptSource.poisson("d", 1000, lambda c: None, seed=7)
    b = InterruptSource.poisson("d", 1000, lambda c: None, seed=7)
    c = InterruptSource.poisson("d", 1000, lambda c: None, seed=8)
    ta = [(a.next_arrival, a.advance())[0] for _ in range(20)]
    tb = [(b.next_arrival, b.advance())[0] for _ in range(20)]
    tc = [(c.next_arrival, c.advance())[0] for _ in range(20)]
    assert ta == tb and ta != tc and ta == sorted(ta)


def test_back_to_back_interrupts_do_not_recurse(one_cpu):
    """Handlers that keep finding a new arrival are run in a loop, not by recursion (thousands in a row)."""
    machine, cpu = one_cpu()
    # a burst of 20,000 arrivals 100 cycles apart, each handler taking longer than that: thousands of
    # handlers back to back (far past Python's recursion limit), then the burst ends and the task resumes
    machine.add_interrupt(cpu, InterruptSource.at("dev", range(100, 2_000_100, 100), lambda c: c.charge(250)))
    cpu.charge(200)
    assert len(cpu.irq_latencies) > 2_000
    assert cpu.clock > 2_000_000
    assert cpu.context == TASK and cpu.irqs_on


def test_an_interrupt_storm_is_a_one_line_error(one_cpu):
    machine, cpu = one_cpu()
    machine.add_interrupt(cpu, InterruptSource.periodic("dev", 10, lambda c: c.charge(500)))
    with pytest.raises(BenchframeError, match="interrupt storm on CPU0"):
        cpu.charge(100)


class AskEverySource(Interrupts):
    """The same policy, but a subclass: ``irqs_off`` asks ``rearm`` instead of taking its shortcut."""

    def rearm(self, cpu):
        super().rearm(cpu)


@pytest.mark.parametrize("preempt_rt", [False, True])
@pytest.mark.parametrize("with_nmi", [False, True])
def test_the_irqs_off_shortcut_delivers_as_rearm_does(costs, preempt_rt, with_nmi):
    """``Interrupts.irqs_off`` skips asking the sources when only hardirqs are connected; a policy that asks
    them every time (a subclass) must see the same deliveries at the same clocks."""
    seen = []
    for irq_class in (Interrupts, AskEverySource):
        machine = Machine(costs, Topology.uma(cpus=1), preempt_rt, irq_class)
        cpu = machine.cpus[0]
        assert machine.irq._plain == (irq_class is Interrupts)
        machine.add_interrupt(cpu, InterruptSource.poisson("eth0", 700, lambda c: c.charge(50), seed=3))
        if with_nmi:
            machine.add_interrupt(cpu, InterruptSource.poisson("perf", 5000, lambda c: c.charge(80), seed=4,
                                                               kind=NMI_KIND))
        for i in range(4000):
            flags = cpu.local_irq_save()
            cpu.charge(37 + i % 11)
            if i % 3 == 0:
                cpu.local_irq_disable()
                cpu.charge(5)
            cpu.local_irq_restore(flags)
            cpu.charge(13)
        seen.append((cpu.clock, cpu.irq_latencies, cpu.irqs_off_windows, [s.delivered for s in cpu.sources]))
    assert seen[0] == seen[1]
    assert all(n > 50 for n in seen[0][3])  # both kinds were delivered, many times
