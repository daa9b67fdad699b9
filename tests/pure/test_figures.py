"""One store of figures: the list's sparkline and `x`'s graphs read the same history."""

from __future__ import annotations

from kvmtui.virt.models import DomainKey, DomainState, DomainStats, StatsTick, VcpuStats
from kvmtui.virt.perf.figures import FleetFigures

A = DomainKey("qemu:///system", "a")
B = DomainKey("qemu:///system", "b")
REMOTE = DomainKey("qemu+ssh://kvm1/system", "c")


def tick(uri: str, *rows: tuple[DomainKey, DomainState, float | None]) -> StatsTick:
    stats = {key: DomainStats(key, key.uuid, state, 0.0, cpu_percent=cpu,
                              vcpus=(VcpuStats(0, cpu, 0.0, 0.0),))
             for key, state, cpu in rows}
    return StatsTick(uri, stats, 0.01, 1)


def test_history_is_bounded_and_off_is_a_gap_not_a_zero():
    figures = FleetFigures(length=3)
    for cpu in (10.0, 20.0, 30.0, 40.0):
        figures.record(tick(A.uri, (A, DomainState.RUNNING, cpu)))
    figures.record(tick(A.uri, (A, DomainState.SHUTOFF, None)))
    assert list(figures.cpu[A]) == [30.0, 40.0, None]
    assert list(figures.vcpus[A][0]) == [30.0, 40.0, None]
    assert figures.latest[A].state is DomainState.SHUTOFF


def test_a_vm_missing_from_its_connections_tick_is_forgotten_others_are_kept():
    figures = FleetFigures()
    figures.record(tick(A.uri, (A, DomainState.RUNNING, 5.0), (B, DomainState.RUNNING, 6.0)))
    figures.record(tick(REMOTE.uri, (REMOTE, DomainState.RUNNING, 7.0)))
    figures.record(tick(A.uri, (A, DomainState.RUNNING, 8.0)))
    assert set(figures.latest) == {A, REMOTE} and B not in figures.cpu
    assert [st.key for st in figures.of_connection(A.uri)] == [A]


def test_a_lost_connection_takes_its_figures_with_it():
    figures = FleetFigures()
    figures.record(tick(A.uri, (A, DomainState.RUNNING, 5.0)))
    figures.record(tick(REMOTE.uri, (REMOTE, DomainState.RUNNING, 7.0)))
    figures.forget(REMOTE.uri)
    assert set(figures.latest) == {A} and REMOTE not in figures.cpu
