"""Tier 1: every domain's totals, the full breakdown only for the domains watched in detail.

The list reads each domain's total exits, CPU, memory, disk and network; `x`, a host's view and
`kvmtui top` read every reason of every vCPU. The totals must be the very figures the full
parse gives, on a real KVM guest's record (benchmarks/kvm_record.json, 108 fields).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import libvirt
import pytest

from kvmtui.virt.models import DomainKey
from kvmtui.virt.perf import kvmstat
from kvmtui.virt.perf.exitnames import reason_key
from kvmtui.virt.perf.rates import RateTracker
from kvmtui.virt.perf.stats import TOTAL_STATS, StatsSampler, parse_record
from tests.helpers import copy_demo_fleet

URI = "qemu+ssh://root@kvm1/system"  # remote: the sampler never looks for debugfs here
A = "0b5a5ba2-9ff5-4d47-8bd5-3a3c7ab0f0f1"
B = "7c1f3d1e-2f6a-4a57-9d0e-5b8c2e9d4a10"
REAL = json.loads((Path(__file__).resolve().parents[2] / "benchmarks" / "kvm_record.json")
                  .read_text())
# the recorded guest has no disk or NIC: give it two of each, as libvirt names them
REAL_WITH_IO = dict(REAL, **{
    "block.count": 2, "block.0.rd.bytes": 4096, "block.0.wr.bytes": 512,
    "block.1.rd.bytes": 100, "block.1.wr.bytes": 0, "net.count": 1,
    "net.0.rx.bytes": 1000, "net.0.tx.bytes": 70})


def later(record: dict, step: int) -> dict:
    """The record `step` seconds on: every counter moved, each by its own amount."""
    moved = {}
    for i, (name, value) in enumerate(record.items()):
        counter = name.endswith((".sum", ".time", ".wait", ".delay", ".bytes"))
        if counter and type(value) is int:
            value += step * (1 + i % 7) * (1_000_000 if name.endswith(("time", "delay"))
                                             else 13)
        moved[name] = value
    return moved


def reasons_in(record: dict) -> set[str]:
    return {reason_key(name.split(".")[2]) for name in record
            if name.startswith("vcpu.") and name.endswith(".sum")}


def test_totals_only_gives_the_figures_of_the_full_parse_of_a_real_record():
    full, light = RateTracker(), RateTracker()
    key = DomainKey(URI, A)
    for step in range(3):
        record = later(REAL_WITH_IO, step)
        a = full.update([parse_record(key, "k", 1, record, float(step), detail=True)])[key]
        b = light.update([parse_record(key, "k", 1, record, float(step))])[key]
    assert a.exits_detail and not b.exits_detail
    assert b.exits == {"total": a.exits["total"]}
    assert a.exits["total"].rate is not None and a.exits["total"].rate > 0
    assert (a.cpu_percent, a.vcpus, a.memory_kib, a.memory_used_kib, a.memory_used_source) == \
        (b.cpu_percent, b.vcpus, b.memory_kib, b.memory_used_kib, b.memory_used_source)
    assert a.cpu_percent is not None and a.vcpus[0].cpu_percent is not None
    assert (a.disk_read_bps, a.disk_write_bps, a.net_rx_bps, a.net_tx_bps) == \
        (b.disk_read_bps, b.disk_write_bps, b.net_rx_bps, b.net_tx_bps)
    assert None not in (b.disk_read_bps, b.disk_write_bps, b.net_rx_bps, b.net_tx_bps)
    # the totals carry no per-vCPU or per-reason dicts at all
    assert b.vcpu_exits == () and a.vcpu_exits != ()


def test_the_total_equals_the_sum_over_vcpus_that_x_shows():
    tracker = RateTracker()
    key = DomainKey(URI, A)
    for step in range(2):
        st = tracker.update([parse_record(key, "k", 1, later(REAL, step), float(step),
                                          detail=True)])[key]
    per_vcpu = st.exits_per_vcpu()
    assert set(st.exits) == reasons_in(REAL) and len(per_vcpu) == REAL["vcpu.current"]
    assert sum(v["total"].total for v in per_vcpu) == st.exits["total"].total == \
        sum(later(REAL, 1)[f"vcpu.{i}.exits.sum"] for i in range(2))
    assert sum(v["total"].rate for v in per_vcpu) == pytest.approx(st.exits["total"].rate)


def rows(*uuids: str, step: int = 0) -> list[tuple[str, int, str, dict]]:
    # as sample_connection hands them on: name, libvirt id, UUID, record
    return [(f"vm-{u[:4]}", 5, u, later(REAL, step)) for u in uuids]


def exits_of(sampler: StatsSampler, step: int = 0, uri: str = URI) -> dict[str, dict]:
    return {raw.key.uuid: raw.exits for raw in sampler.samples(uri, rows(A, B, step=step),
                                                                float(step))}


def test_a_watched_domain_has_every_reason_and_vcpu_and_the_others_their_total():
    sampler = StatsSampler(lambda: [])
    exits = exits_of(sampler)
    assert exits[A].totals.keys() == exits[B].totals.keys() == {"total"}
    assert exits[A].per_vcpu == exits[B].per_vcpu == ()
    sampler.watch_detail(DomainKey(URI, A))
    exits = exits_of(sampler)
    assert exits[A].detail and set(exits[A].totals) == reasons_in(REAL)
    assert len(exits[A].per_vcpu) == 2 and exits[A].per_vcpu[1]["total"] == 45
    assert exits[B].totals.keys() == {"total"} and exits[B].per_vcpu == ()
    assert exits[A].totals["total"] == exits[B].totals["total"]
    sampler.unwatch_detail(DomainKey(URI, A))
    assert exits_of(sampler)[A].totals.keys() == {"total"}


def test_watchers_are_counted_as_screens_of_one_vm_stack():
    sampler = StatsSampler(lambda: [])
    key = DomainKey(URI, A)
    sampler.watch_detail(key)
    sampler.watch_detail(key)
    sampler.unwatch_detail(key)
    assert sampler.wants_detail(key) and exits_of(sampler)[A].detail
    sampler.unwatch_detail(key)
    assert not sampler.wants_detail(key) and not exits_of(sampler)[A].detail
    sampler.unwatch_detail(key)  # one too many (a screen unmounted twice): no negative count
    sampler.watch_detail(key)
    assert sampler.wants_detail(key)


def test_a_host_view_takes_its_host_in_detail_and_top_takes_every_host():
    sampler = StatsSampler(lambda: [])
    sampler.watch_host_detail(URI)
    assert all(e.detail for e in exits_of(sampler).values())
    other = "qemu+ssh://root@kvm2/system"
    assert not any(e.detail for e in exits_of(sampler, uri=other).values())
    sampler.unwatch_host_detail(URI)
    assert not any(e.detail for e in exits_of(sampler).values())
    everything = StatsSampler(lambda: [], detail_all=True)
    assert all(e.detail for e in exits_of(everything, uri=other).values())


def test_the_first_detailed_tick_has_totals_without_rates_then_the_rates_follow():
    sampler = StatsSampler(lambda: [])
    tracker = RateTracker()
    key = DomainKey(URI, A)

    def tick(step: int):
        return tracker.update(sampler.samples(URI, rows(A, step=step), float(step)))[key]

    tick(0)
    sampler.watch_detail(key)
    first = tick(1)
    assert first.exits["total"].rate is not None  # the list's Exits/s goes on unbroken
    assert {c.rate for r, c in first.exits.items() if r != "total"} == {None}
    assert all(c.rate is None for v in first.exits_per_vcpu() for c in v.values())
    second = tick(2)
    assert None not in {c.rate for c in second.exits.values()}
    assert all(c.rate is not None for v in second.exits_per_vcpu() for c in v.values())


def test_watching_kicks_an_early_sample_so_the_breakdown_comes_at_once(tmp_path):
    uri = copy_demo_fleet(tmp_path)
    conn = libvirt.openReadOnly(uri)

    class Opened:
        def __init__(self) -> None:
            self.uri, self.conn = uri, conn

    ticks: list = []
    arrived = threading.Condition()

    def on_tick(tick):
        with arrived:
            ticks.append(tick)
            arrived.notify_all()

    opened = Opened()
    sampler = StatsSampler(lambda: [opened], interval=3600, on_tick=on_tick)
    sampler.start()
    try:
        with arrived:
            assert arrived.wait_for(lambda: len(ticks) >= 1, 30)
        # an hour until the clock's next kick: only watching can bring a second tick now
        sampler.watch_detail(next(iter(ticks[0].stats)))
        with arrived:
            assert arrived.wait_for(lambda: len(ticks) >= 2, 30)
    finally:
        sampler.stop(wait=True)
        conn.close()


def test_debugfs_without_detail_reads_the_all_exits_counter_alone(tmp_path):
    for name, value in (("exits", "1234"), ("io_exits", "55"), ("halt_exits", "7")):
        (tmp_path / name).write_text(value + "\n")
        (tmp_path / name).chmod(0o644)
    assert kvmstat.read_counters(tmp_path, TOTAL_STATS) == {"exits": 1234}
    assert kvmstat.read_counters(tmp_path) == {"exits": 1234, "io_exits": 55, "halt_exits": 7}
    with pytest.raises(kvmstat.DebugfsUnavailable, match="is gone"):
        kvmstat.read_counters(tmp_path / "1234-5", TOTAL_STATS)


def test_an_early_kick_while_the_lane_is_busy_runs_right_after_it_and_a_plain_one_skips():
    from kvmtui.virt.perf.lanes import Lane

    release, runs, done = threading.Event(), [], threading.Condition()

    def work():
        release.wait(10)
        with done:
            runs.append(1)
            done.notify_all()

    lane = Lane("test", URI, work)
    try:
        assert lane.kick()
        assert not lane.kick()            # the clock's kick: skipped while busy
        assert not lane.kick(soon=True)   # watch_detail's: not now, but right after
        release.set()
        with done:
            assert done.wait_for(lambda: len(runs) == 2, 10)
            assert not done.wait_for(lambda: len(runs) > 2, 0.3)  # once, not once per kick
    finally:
        lane.stop()
