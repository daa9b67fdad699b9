"""At 80×24, on a VM whose name, disk sources and NIC sources are as long as real ones get:
every details tab and the performance screen as snapshots, and the values a user must be able
to read whole (tests/fixtures/fleets/long-names.xml)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from kvmtui.screens.details import DomainDetailsScreen
from kvmtui.screens.performance import PerformanceScreen
from kvmtui.virt.models import Counter, DomainState, DomainStats, StatsTick, VcpuStats
from kvmtui.virt.perf.exitnames import describe
from kvmtui.widgets.counters import LiveTable, exit_count_rows
from tests.helpers import open_app, open_from_list, screen_text, wait_for

SIZE = (80, 24)
LONG_FLEET = Path(__file__).parent.parent / "fixtures" / "fleets" / "long-names.xml"
LONG_VM = "production-database-primary-eu-west-1-replica-set-a-node-0001"
# shorter than a line at 80 columns: each must be read on one line, whole
WAL_DISK = "/var/lib/libvirt/images/project-alpha/database-wal-volume-0002.raw"
ISO = "/var/lib/libvirt/iso/debian-12.5.0-amd64-netinst-with-firmware-nonfree.iso"
VHOST_SOCKET = "/var/run/openvswitch/vhost-user-production-database-primary-0001.sock"
NETWORK = "production-database-replication-network-eu-west-1"
# longer than a line: cut after a '/', each piece whole
ROOT_DIR = "/var/lib/libvirt/images/very-long-project-name/"
ROOT_FILE = "production-database-primary-volume-0001.qcow2"


@pytest.fixture
def long_uri(tmp_path) -> str:
    target = tmp_path / "long-names.xml"
    shutil.copyfile(LONG_FLEET, target)
    return f"test://{target}"


@pytest.fixture
def long_app(long_uri):
    app = open_app(long_uri)
    yield app
    app.fleet.close()


async def open_details(pilot) -> DomainDetailsScreen:
    return await open_from_list(pilot, LONG_VM, "enter", DomainDetailsScreen,
                                lambda screen: screen.details is not None)


def lines_of(app) -> list[str]:
    return [line.strip() for line in screen_text(app).splitlines()]


# -- the details screen -----------------------------------------------------------------------

@pytest.mark.parametrize("tab", ["1", "2", "3", "4", "5", "6", "7"])
def test_details_tab_at_80x24(snap_compare, long_app, tab):
    async def open_tab(pilot):
        await open_details(pilot)
        await pilot.press(tab)
        await pilot.pause(0.1)

    assert snap_compare(long_app, terminal_size=SIZE, run_before=open_tab)


async def test_long_disk_sources_are_read_whole_on_a_line_of_their_own(make_app, long_uri):
    app = make_app(long_uri)
    async with app.run_test(size=SIZE) as pilot:
        await open_details(pilot)
        await pilot.press("4")
        lines = lines_of(app)
        assert WAL_DISK in lines and ISO in lines
        # too long for any line: cut once, after a '/', never into column-wide fragments
        assert ROOT_DIR in lines and ROOT_FILE in lines
        # the short columns keep their row, figures with their unit
        assert any(line.split()[:4] == ["vdb", "disk", "virtio", "raw"]
                   and line.endswith("GiB") for line in lines)


async def test_long_nic_sources_are_read_whole(make_app, long_uri):
    app = make_app(long_uri)
    async with app.run_test(size=SIZE) as pilot:
        await open_details(pilot)
        await pilot.press("5")
        lines = lines_of(app)
        assert VHOST_SOCKET in lines and NETWORK in lines
        assert any(line.split()[:3] == ["52:54:00:aa:10:04", "vhost-user", "virtio"]
                   for line in lines)


async def test_the_title_drops_what_does_not_fit_rather_than_cutting_it(make_app, long_uri):
    app = make_app(long_uri)
    async with app.run_test(size=SIZE) as pilot:
        await open_details(pilot)
        title = lines_of(app)[0]
        assert title == f"{LONG_VM} · running"  # "· 16384 MiB" would not fit whole: left out
        await pilot.resize_terminal(120, 24)
        await wait_for(pilot, lambda: "16384 MiB" in lines_of(app)[0])


async def test_overview_paths_break_only_after_a_slash(make_app, long_uri):
    app = make_app(long_uri)
    async with app.run_test(size=SIZE) as pilot:
        await open_details(pilot)
        lines = lines_of(app)
        assert "NVRAM        /var/lib/libvirt/qemu/nvram/" in lines
        assert "production-database-primary-eu-west-1_VARS.fd" in lines


# -- the performance screen, with exit counters the test driver does not have ----------------

def busy_stats(key, name: str) -> DomainStats:
    """What the sampler reports for a busy 4-vCPU KVM guest (counts and ns as KVM keeps them)."""
    exits = {"total": Counter(48_213_775, 5230.0), "halt": Counter(20_114_090, 2100.0),
             "io": Counter(9_774_120, 1200.0), "mmio": Counter(7_120_533, 900.0),
             "irq": Counter(5_002_101, 610.0), "signal": Counter(1_250_000, 150.0),
             "insn_emulation_fail": Counter(0, 0.0), "halt_wakeup": Counter(19_870_002, 2050.0),
             "halt_wait_ns": Counter(3_456_789_012_345, 2.85e9),
             "halt_poll_success_ns": Counter(98_765_432_100, 4.2e7),
             "halt_poll_fail_ns": Counter(12_345_678_900, 6.1e6)}
    per_vcpu = tuple({r: c.total // 4 for r, c in exits.items()} for _ in range(4))
    before = tuple({r: int(n - exits[r].rate / 4) for r, n in v.items()} for v in per_vcpu)
    return DomainStats(key, name, DomainState.RUNNING, at=0.0, cpu_percent=37.5,
                       memory_kib=16 * 1024 * 1024, memory_used_kib=9 * 1024 * 1024,
                       memory_used_source="guest", disk_read_bps=4300.0,
                       disk_write_bps=12.5 * 2**20, net_rx_bps=812.0, net_tx_bps=0.0,
                       vcpus=tuple(VcpuStats(i, 30.0 + 5 * i, 1.0, 0.5) for i in range(4)),
                       exits=exits, exits_source="libvirt", vcpu_exits=per_vcpu,
                       vcpu_exits_before=before, interval_s=1.0)


async def show_performance(pilot, exits: bool = True) -> PerformanceScreen:
    """The sampler stopped, a fixed minute of history recorded, the screen opened on a busy
    sample (with the exit counters the test driver does not have, or without them)."""
    app = pilot.app
    app.sampler.stop(wait=True)
    await pilot.pause(0.3)  # the last ticks' messages reach the app
    summary = next(s for s in app.domain_list.domains.values() if s.name == LONG_VM)
    stats = busy_stats(summary.key, LONG_VM)
    if not exits:
        stats = replace(stats, exits=None, exits_source=None, vcpu_exits=(),
                        vcpu_exits_before=None,
                        exits_unavailable_reason="libvirt's test driver has no KVM exit counters")
    app.figures.forget(summary.key.uri)
    for i in range(60):
        shape = DomainStats(summary.key, LONG_VM, DomainState.RUNNING, at=float(i),
                            cpu_percent=float(i * 7 % 100),
                            vcpus=tuple(VcpuStats(v, float((i + 9 * v) * 5 % 100), 0.0, 0.0)
                                        for v in range(4)))
        app.figures.record(StatsTick(summary.key.uri, {summary.key: shape}, 0.0, 1))
    screen = PerformanceScreen(app.fleet, summary, stats)
    await app.push_screen(screen)
    await pilot.pause(0.2)
    return screen


def test_performance_with_exits_at_80x24(snap_compare, long_app):
    assert snap_compare(long_app, terminal_size=SIZE, run_before=show_performance)


def test_performance_without_exits_at_80x24(snap_compare, long_app):
    async def without_exits(pilot):
        await show_performance(pilot, exits=False)
        await wait_for(pilot, lambda: "test driver" in screen_text(pilot.app))

    assert snap_compare(long_app, terminal_size=SIZE, run_before=without_exits)


async def test_exits_and_time_counters_are_separate_tables_with_units(make_app, long_uri):
    app = make_app(long_uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show_performance(pilot)
        counts = screen.query_one("#exits", LiveTable).row_values()
        times = screen.query_one("#times", LiveTable).row_values()
        assert not any(reason.endswith("_ns") for reason in counts)
        assert set(times) == {"halt_wait_ns", "halt_poll_success_ns", "halt_poll_fail_ns"}
        assert counts["total"][:3] == ["total", "48,213,775", "5.2k"]
        # 3,456.8 s halted in all, 2.85 s of it each second: 285% of one vCPU
        assert times["halt_wait_ns"][:4] == ["halt_wait_ns", "3,457 s", "2850.0 ms/s",
                                             "285.0%"]
        assert "time, not exits" in screen_text(app)


async def test_meanings_wrap_at_spaces_and_are_read_whole(make_app, long_uri):
    app = make_app(long_uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show_performance(pilot)
        rows = screen.query_one("#exits", LiveTable).row_values()
        for reason, cells in rows.items():
            assert " ".join(cells[-1].split("\n")) == describe(reason)
        assert "\n" in rows["signal"][-1]  # too long for the room left at 80 columns
        assert any(line.split()[:3] == ["halt", "20,114,090", "2.1k"]
                   and line.endswith("  guest ran HLT (idle vCPU)") for line in lines_of(app))


def test_per_vcpu_rates_are_shown_only_when_the_meaning_keeps_room():
    stats = busy_stats(None, "x")
    narrow, _ = exit_count_rows(stats.exits, stats.exits_per_vcpu(), 80)
    wide, _ = exit_count_rows(stats.exits, stats.exits_per_vcpu(), 160)
    assert narrow == ["Reason", "Total", "/s", "Meaning"]
    assert wide == ["Reason", "Total", "/s", "vCPU0 /s", "vCPU1 /s", "vCPU2 /s", "vCPU3 /s",
                    "Meaning"]
