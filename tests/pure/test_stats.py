"""Tier 1: rates on synthetic sequences, libvirt records parsed, debugfs counters read."""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import libvirt
import pytest

from kvmtui.cli.top import sample_json
from kvmtui.virt.models import DomainKey, DomainState, ExitCounts, RawSample, VcpuRaw
from kvmtui.virt.perf import kvmstat
from kvmtui.virt.perf.exitnames import reason_key
from kvmtui.virt.perf.rates import RateTracker, compute, ordered, per_second
from kvmtui.virt.perf.stats import (
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    StatsSampler,
    is_local,
    parse_record,
)
from tests.helpers import copy_demo_fleet

KEY = DomainKey("qemu:///system", "0b5a5ba2-9ff5-4d47-8bd5-3a3c7ab0f0f1")


def raw(at: float, *, run_id: int | None = 7, cpu: int | None = None, vcpus=(), disk=None,
        exits: dict[str, int] | None = None, source="libvirt") -> RawSample:
    state = DomainState.RUNNING if run_id is not None else DomainState.SHUTOFF
    return RawSample(KEY, "vm", state, run_id, at, cpu_time_ns=cpu, vcpus=tuple(vcpus),
                     disk_read_bytes=disk,
                     exits=ExitCounts(source, exits) if exits is not None else None)


def test_rate_is_the_delta_over_elapsed_time():
    assert per_second(100, 350, 0.5) == 500.0
    assert per_second(None, 350, 1.0) is None
    assert per_second(10, 5, 1.0) is None        # went backwards: a reset, not -5/s
    assert per_second(10, 20, 0.0) is None


def test_cpu_percent_is_a_share_of_the_vms_vcpus():
    two = [VcpuRaw(0, 0, 0), VcpuRaw(0, 0, 0)]
    first = raw(10.0, cpu=0, vcpus=two)
    # 1 s of CPU in 2 s of wall time on 2 vCPUs: a quarter of the VM's capacity
    second = raw(12.0, cpu=1_000_000_000, vcpus=two)
    assert compute(first, second).cpu_percent == pytest.approx(25.0)
    assert compute(None, first).cpu_percent is None


def test_a_sequence_with_start_reset_and_restart_never_goes_negative_or_spikes():
    tracker = RateTracker()
    seq = [
        raw(0.0, run_id=None),                                 # off
        raw(1.0, run_id=3, disk=0, exits={"total": 100}),      # started: no rate yet
        raw(2.0, run_id=3, disk=4096, exits={"total": 400}),   # 300 exits/s
        raw(3.0, run_id=3, disk=8192, exits={"total": 50}),    # counters cleared: no rate
        raw(4.0, run_id=3, disk=8192, exits={"total": 150}),   # 100 exits/s again
        raw(5.0, run_id=4, disk=0, exits={"total": 9_000}),    # restarted (new id): no rate
        raw(6.0, run_id=None),                                 # stopped
    ]
    rates = []
    for sample in seq:
        stats = tracker.update([sample])[KEY]
        rates.append((stats.disk_read_bps, stats.exits["total"].rate if stats.exits else "-"))
    assert rates == [(None, "-"), (None, None), (4096.0, 300.0), (4096.0, None), (0.0, 100.0),
                     (None, None), (None, "-")]


def test_exit_source_change_restarts_the_rates():
    before = raw(1.0, exits={"total": 100}, source="libvirt")
    after = raw(2.0, exits={"total": 150}, source="debugfs")
    assert compute(before, after).exits["total"].rate is None


def test_exits_are_ordered_total_first_then_busiest_then_time_counters():
    before = raw(1.0, exits={"total": 0, "io": 0, "halt": 0, "halt_wait_ns": 0})
    after = raw(2.0, exits={"total": 30, "io": 10, "halt": 20, "halt_wait_ns": 10**9})
    assert list(ordered(compute(before, after).exits)) == ["total", "halt", "io", "halt_wait_ns"]


def test_tracker_forgets_undefined_domains():
    tracker = RateTracker()
    tracker.update([raw(1.0, disk=0)])
    tracker.update([])
    assert tracker.update([raw(2.0, disk=100)])[KEY].disk_read_bps is None


RECORD = {
    "state.state": 1, "state.reason": 1, "cpu.time": 2_000_000_000,
    "balloon.current": 65536, "balloon.rss": 41072,
    "vcpu.current": 2, "vcpu.maximum": 2,
    "vcpu.0.state": 1, "vcpu.0.time": 1_850_000_000, "vcpu.0.wait": 0, "vcpu.0.delay": 36768489,
    "vcpu.0.exits.sum": 7998, "vcpu.0.io_exits.sum": 10, "vcpu.0.halt_exits.sum": 117,
    "vcpu.0.insn_emulation.sum": 5748731, "vcpu.0.blocking.cur": False,
    "vcpu.1.state": 1, "vcpu.1.time": 10_000_000, "vcpu.1.wait": 0, "vcpu.1.delay": 15236145,
    "vcpu.1.exits.sum": 45, "vcpu.1.io_exits.sum": 5, "vcpu.1.halt_exits.sum": 1,
    "vcpu.1.insn_emulation.sum": 42693,
    "net.count": 2, "net.0.rx.bytes": 100, "net.0.tx.bytes": 7, "net.1.rx.bytes": 20,
    "net.1.tx.bytes": 3,
    "block.count": 1, "block.0.rd.bytes": 4096, "block.0.wr.bytes": 512,
    "vm.pages_4k.cur": 0, "vm.mmu_cache_miss.sum": 20,
}


def test_record_is_parsed_with_exits_summed_over_vcpus():
    sample = parse_record(KEY, "k1", 1, RECORD, 5.0, detail=True)
    assert sample.exits.source == "libvirt" and sample.exits.detail
    assert sample.exits.totals == {"total": 8043, "io": 15, "halt": 118,
                                   "insn_emulation": 5791424}
    assert sample.exits.per_vcpu[1] == {"total": 45, "io": 5, "halt": 1,
                                        "insn_emulation": 42693}
    assert sample.vcpus[0] == VcpuRaw(1_850_000_000, 0, 36768489)
    assert (sample.net_rx_bytes, sample.net_tx_bytes) == (120, 10)
    assert (sample.disk_read_bytes, sample.disk_write_bytes) == (4096, 512)
    assert (sample.memory_used_kib, sample.memory_used_source) == (41072, "rss")


def test_guest_balloon_stats_give_memory_used_inside_the_guest():
    record = dict(RECORD, **{"balloon.available": 1_000_000, "balloon.unused": 600_000})
    sample = parse_record(KEY, "k1", 1, record, 5.0)
    assert (sample.memory_used_kib, sample.memory_used_source) == (400_000, "guest")


def test_a_record_with_only_state_has_no_counters():
    sample = parse_record(KEY, "demo", 1, {"state.state": 3, "state.reason": 0}, 1.0)
    assert sample.state is DomainState.PAUSED
    assert sample.exits is None and sample.cpu_time_ns is None and sample.vcpus == ()


def test_reason_keys_follow_the_kernel_names():
    assert [reason_key(n) for n in ("exits", "io_exits", "irq_window_exits", "hypercalls")] \
        == ["total", "io", "irq_window", "hypercalls"]


def test_local_uris():
    assert is_local("qemu:///system")
    assert is_local("qemu:///system?socket=/tmp/x/libvirt-sock")
    assert not is_local("qemu+ssh://root@kvm1/system")
    assert not is_local("test:///default")


def make_debugfs(root: Path, pid: int, fd: int, counters: dict[str, int]) -> Path:
    """A debugfs tree as KVM lays it out: counters writable, gauges read-only."""
    vm = root / "kvm" / f"{pid}-{fd}"
    (vm / "vcpu0").mkdir(parents=True)
    for name, value in counters.items():
        (vm / name).write_text(f"{value}\n")
        os.chmod(vm / name, 0o644)
    (vm / "pages_4k").write_text("123\n")
    os.chmod(vm / "pages_4k", 0o444)
    (vm / "halt_wait_hist").write_text("0 0 0\n")
    os.chmod(vm / "halt_wait_hist", 0o644)
    return vm


def test_debugfs_counters_are_read_gauges_and_histograms_left_out(tmp_path):
    vm = make_debugfs(tmp_path, 4242, 17, {"exits": 900, "io_exits": 12, "halt_exits": 40})
    make_debugfs(tmp_path, 4242, 9, {"exits": 1})  # an older fd of the same process
    assert kvmstat.vm_directories(tmp_path) == {4242: vm}
    assert kvmstat.read_counters(vm) == {"exits": 900, "io_exits": 12, "halt_exits": 40}


def test_debugfs_probe_names_the_missing_mount(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the not-mounted reason is only given to root")
    reason = kvmstat.probe(tmp_path)
    assert reason == f"debugfs is not mounted: mount -t debugfs none {tmp_path}"


def test_per_vcpu_rates_are_worked_out_against_the_previous_sample():
    before = RawSample(KEY, "vm", DomainState.RUNNING, 7, 1.0,
                       exits=ExitCounts("libvirt", {"total": 10}, ({"total": 4}, {"total": 6})))
    after = RawSample(KEY, "vm", DomainState.RUNNING, 7, 3.0,
                      exits=ExitCounts("libvirt", {"total": 30}, ({"total": 20}, {"total": 10})))
    vcpu0, vcpu1 = compute(before, after).exits_per_vcpu()
    assert (vcpu0["total"].rate, vcpu1["total"].rate) == (8.0, 2.0)
    assert compute(None, after).exits_per_vcpu()[0]["total"].rate is None


# -- time counters are bounded by the time that passed (issue #10) ---------------------------

def one_vcpu(at: float, halt_wait_ns: int, *, halts: int = 0, wait_ns: int = 0) -> RawSample:
    counts = {"total": halts, "halt": halts, "halt_wait_ns": halt_wait_ns}
    return RawSample(KEY, "vm", DomainState.RUNNING, 7, at, vcpus=(VcpuRaw(0, wait_ns, 0),),
                     exits=ExitCounts("libvirt", dict(counts), (dict(counts),)))


def test_a_time_counter_that_jumps_past_the_time_that_passed_has_no_rate():
    # KVM adds a long halt's whole wait when it ends: 2.68 s of waiting in 1 s on one vCPU
    stats = compute(one_vcpu(1.0, 0, halts=0), one_vcpu(2.0, 2_680_000_000, halts=3))
    assert stats.exits["halt_wait_ns"].rate is None
    assert stats.exits_per_vcpu()[0]["halt_wait_ns"].rate is None
    assert stats.exits["halt"].rate == 3.0          # the event counts keep their rates


def test_a_time_counter_within_the_time_that_passed_keeps_its_rate():
    stats = compute(one_vcpu(1.0, 0), one_vcpu(2.0, 900_000_000))
    assert stats.exits["halt_wait_ns"].rate == pytest.approx(9e8)
    assert stats.exits_per_vcpu()[0]["halt_wait_ns"].rate == pytest.approx(9e8)


def test_a_time_counter_just_past_the_time_is_shown_at_one_vcpu_second_per_second():
    # 1.03 s in 1 s: the reads' spread, not waiting that cannot have happened
    stats = compute(one_vcpu(1.0, 0), one_vcpu(2.0, 1_030_000_000))
    assert stats.exits["halt_wait_ns"].rate == pytest.approx(1e9)
    assert stats.exits_per_vcpu()[0]["halt_wait_ns"].rate <= 1e9
    assert stats.exits_per_vcpu()[0]["halt_wait_ns"].rate == pytest.approx(1e9)


def test_a_sum_over_vcpus_may_reach_as_many_seconds_as_there_are_vcpus():
    def two(at: float, per_vcpu_ns: tuple[int, int]) -> RawSample:
        counts = tuple({"halt_wait_ns": ns} for ns in per_vcpu_ns)
        return RawSample(KEY, "vm", DomainState.RUNNING, 7, at,
                         vcpus=(VcpuRaw(0, 0, 0), VcpuRaw(0, 0, 0)),
                         exits=ExitCounts("libvirt", {"halt_wait_ns": sum(per_vcpu_ns)},
                                          counts))
    stats = compute(two(1.0, (0, 0)), two(2.0, (900_000_000, 1_900_000_000)))
    assert stats.exits["halt_wait_ns"].rate is None                 # 2.8 s in 1 s on 2 vCPUs
    vcpu0, vcpu1 = stats.exits_per_vcpu()
    assert vcpu0["halt_wait_ns"].rate == pytest.approx(9e8)
    assert vcpu1["halt_wait_ns"].rate is None                       # 1.9 s in 1 s on one
    stats = compute(two(1.0, (0, 0)), two(2.0, (900_000_000, 900_000_000)))
    assert stats.exits["halt_wait_ns"].rate == pytest.approx(1.8e9)


def test_debugfs_time_counters_are_bounded_by_the_vms_vcpus():
    def debugfs(at: float, ns: int) -> RawSample:
        return RawSample(KEY, "vm", DomainState.RUNNING, 7, at,
                         vcpus=(VcpuRaw(0, 0, 0),) * 4,
                         exits=ExitCounts("debugfs", {"halt_wait_ns": ns}))
    assert compute(debugfs(1.0, 0), debugfs(2.0, 3_500_000_000)).exits["halt_wait_ns"].rate \
        == pytest.approx(3.5e9)
    assert compute(debugfs(1.0, 0), debugfs(2.0, 5_000_000_000)).exits["halt_wait_ns"].rate \
        is None


def test_a_vcpu_waiting_longer_than_the_time_that_passed_has_no_figure():
    stats = compute(one_vcpu(1.0, 0, wait_ns=0), one_vcpu(2.0, 0, wait_ns=3_000_000_000))
    assert stats.vcpus[0].wait_percent is None
    stats = compute(one_vcpu(1.0, 0, wait_ns=0), one_vcpu(2.0, 0, wait_ns=250_000_000))
    assert stats.vcpus[0].wait_percent == pytest.approx(25.0)


def test_a_slow_sampling_widens_what_is_possible():
    # every counter was read within 0.3 s of its sample's time: 1.25 s may have passed
    tracker = RateTracker()
    tracker.update([one_vcpu(1.0, 0)], read_s=0.3)
    stats = tracker.update([one_vcpu(2.0, 1_250_000_000)], read_s=0.3)[KEY]
    assert stats.exits["halt_wait_ns"].rate == pytest.approx(1e9)
    stats = tracker.update([one_vcpu(3.0, 3_000_000_000)], read_s=0.3)[KEY]
    assert stats.exits["halt_wait_ns"].rate is None


# -- the sampler: bounded intervals, ticks that fail, --exits-source debugfs (issue #10) -------

class Opened:
    """A connection as the sampler sees one: its URI and the libvirt handle."""

    def __init__(self, uri: str, conn: libvirt.virConnect) -> None:
        self.uri, self.conn = uri, conn


@pytest.fixture
def demo_connection(tmp_path):
    uri = copy_demo_fleet(tmp_path)
    conn = libvirt.openReadOnly(uri)
    yield Opened(uri, conn)
    conn.close()


def test_out_of_range_intervals_are_clamped_and_nan_refused():
    sampler = StatsSampler(lambda: [], interval=1e10)
    assert sampler.interval == MAX_INTERVAL_S
    sampler.interval = math.inf
    assert sampler.interval == MAX_INTERVAL_S
    sampler.interval = 1e-9
    assert sampler.interval == MIN_INTERVAL_S
    with pytest.raises(ValueError):
        sampler.interval = math.nan
    assert sampler.interval == MIN_INTERVAL_S
    with pytest.raises(ValueError):
        StatsSampler(lambda: [], interval=math.nan)


def test_a_huge_interval_can_still_be_shortened_while_sampling(demo_connection):
    ticks: list = []
    arrived = threading.Condition()

    def on_tick(tick):
        with arrived:
            ticks.append(tick)
            arrived.notify_all()

    sampler = StatsSampler(lambda: [demo_connection], interval=1e10, on_tick=on_tick)
    sampler.start()
    try:
        with arrived:
            assert arrived.wait_for(lambda: len(ticks) >= 1, 30)
        sampler.interval = MIN_INTERVAL_S   # what '-' does in the console
        with arrived:
            assert arrived.wait_for(lambda: len(ticks) >= 2, 30), "the stats thread died"
    finally:
        sampler.stop(wait=True)
    assert ticks[-1].error is None and len(ticks[-1].stats) == 17


def test_ticks_that_fail_do_not_stop_the_sampling(demo_connection):
    listed = 0

    def connections():
        nonlocal listed
        listed += 1
        if listed == 1:  # the fleet changed under the sampler's feet
            raise RuntimeError("dictionary changed size during iteration")
        return [demo_connection]

    ticks: list = []
    arrived = threading.Condition()

    def on_tick(tick):
        with arrived:
            ticks.append(tick)
            arrived.notify_all()
        if len(ticks) == 1:
            raise RuntimeError("the UI could not take this one")

    sampler = StatsSampler(connections, interval=MIN_INTERVAL_S, on_tick=on_tick)
    sampler.start()
    try:
        with arrived:
            assert arrived.wait_for(lambda: len(ticks) >= 2, 30), "the stats thread died"
    finally:
        sampler.stop(wait=True)
    win10 = next(s for s in ticks[-1].stats.values() if s.name == "win10")
    assert win10.state is DomainState.RUNNING


def test_debugfs_preferred_but_unreadable_falls_back_to_libvirts_counters(tmp_path):
    sampler = StatsSampler(lambda: [], exits_source="debugfs", debugfs_root=tmp_path)
    parsed = parse_record(KEY, "k1", 1, RECORD, 5.0)
    sample = sampler.with_exits(parsed)
    assert sample.exits is not None and sample.exits.source == "libvirt"
    assert sample.exits.totals["total"] == 8043
    # no QEMU process of this UUID runs here, so debugfs has nothing to give: and it says so
    reason = f"no QEMU process with -uuid {KEY.uuid} on this machine"
    assert sample.exits_unavailable_reason == reason
    shown = sample_json(KEY.uri, compute(None, sample), sample.exits_unavailable_reason)
    assert shown["exits"]["total"]["total"] == 8043 and shown["exits_source"] == "libvirt"
    assert shown["exits_fallback_reason"] == reason
    assert shown["exits_unavailable_reason"] is None


def test_debugfs_preferred_on_a_remote_host_says_why_libvirts_counters_are_shown(tmp_path):
    remote = DomainKey("qemu+ssh://root@kvm1/system", KEY.uuid)
    sampler = StatsSampler(lambda: [], exits_source="debugfs", debugfs_root=tmp_path)
    sample = sampler.with_exits(parse_record(remote, "k1", 1, RECORD, 5.0))
    assert sample.exits.source == "libvirt"
    assert sample.exits_unavailable_reason == \
        "KVM's debugfs can only be read on the VM's own host"
    auto = StatsSampler(lambda: [], exits_source="auto", debugfs_root=tmp_path)
    sample = auto.with_exits(parse_record(remote, "k1", 1, RECORD, 5.0))
    assert sample.exits.source == "libvirt" and sample.exits_unavailable_reason is None
