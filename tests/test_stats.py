"""Tier 1: rates on synthetic sequences, libvirt records parsed, debugfs counters read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kvmtui.virt import kvmstat
from kvmtui.virt.exitnames import reason_key
from kvmtui.virt.models import DomainKey, DomainState, ExitCounts, RawSample, VcpuRaw
from kvmtui.virt.rates import RateTracker, compute, ordered, per_second
from kvmtui.virt.stats import is_local, parse_record

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
    sample = parse_record(KEY, "k1", 1, RECORD, 5.0)
    assert sample.exits.source == "libvirt"
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
