"""Real KVM exit counters on real guests: what kvmtui shows equals libvirt's and debugfs's own
values from the same tick.

A paused guest's counters stand still (no vCPU enters the guest), so the figures kvmtui shows
for a tick taken while paused must equal `virsh domstats --vcpu` read at any later moment —
an exact comparison, not a race.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kvmtui.screens.performance import PerformanceScreen
from kvmtui.virt.models import DomainState
from kvmtui.virt.perf import kvmstat
from kvmtui.virt.perf.exitnames import reason_key
from kvmtui.virt.perf.rates import is_time_counter
from kvmtui.widgets.formatting import seconds_total
from tests.helpers import open_from_list, screen_text, wait_for
from tests.integration.conftest import running_kvmtui


def virsh_exit_sums(hypervisor, name: str) -> dict[str, int]:
    """`virsh domstats --vcpu`: every vcpu.N.<stat>.sum, added over the vCPUs."""
    sums: dict[str, int] = {}
    for line in hypervisor.virsh("domstats", "--vcpu", name).splitlines():
        field, _, value = line.strip().partition("=")
        parts = field.split(".")
        if len(parts) == 4 and parts[0] == "vcpu" and parts[3] == "sum":
            sums[reason_key(parts[2])] = sums.get(reason_key(parts[2]), 0) + int(value)
    return sums


def paused_with_exits(hypervisor, guest) -> None:
    """Start the KVM guest, let its firmware run up real exits, then freeze them by pausing."""
    hypervisor.virsh("start", guest.name)
    deadline_ok = False
    for _ in range(100):
        if virsh_exit_sums(hypervisor, guest.name).get("total", 0) > 0:
            deadline_ok = True
            break
        subprocess.run(["sleep", "0.1"])
    assert deadline_ok, "the KVM guest made no VM exits"
    hypervisor.virsh("suspend", guest.name)


def shown_exits(screen: PerformanceScreen) -> dict[str, int | str]:
    """Both exits tables as the user reads them: reason -> Total column; event counts from
    #exits, KVM's *_ns time counters from #times (in seconds)."""
    counts = screen.query_one("#exits").row_values()
    times = screen.query_one("#times").row_values()
    return {**{reason: int(cells[1].replace(",", "")) for reason, cells in counts.items()},
            **{name: cells[1] for name, cells in times.items()}}


def as_shown(sums: dict[str, int]) -> dict[str, int | str]:
    """Counters as the performance screen shows them: *_ns time counters in seconds."""
    return {k: seconds_total(v) if is_time_counter(k) else v for k, v in sums.items()}


def socket_uri(hypervisor) -> str:
    # the same daemon through libvirt's remote driver, as a remote host is reached
    return hypervisor.uri.replace("qemu:///", "qemu+unix:///", 1)


@pytest.mark.parametrize("uri_form", ["local", "remote-style"])
async def test_exits_shown_equal_virsh_domstats_of_the_same_tick(hypervisor, kvm_guest,
                                                                 uri_form):
    paused_with_exits(hypervisor, kvm_guest)
    uri = hypervisor.uri if uri_form == "local" else socket_uri(hypervisor)
    async with running_kvmtui(uri) as (app, pilot):
        screen = await open_from_list(
            pilot, kvm_guest.name, "x", PerformanceScreen,
            lambda s: s.stats is not None and s.stats.state is DomainState.PAUSED
            and s.stats.exits is not None and s.stats.exits_detail
            and all(c.rate is not None for c in s.stats.exits.values()), 15)
        await pilot.pause(0)
        shown = shown_exits(screen)
        assert shown["total"] > 0
        assert screen.stats.exits_source == "libvirt"
        assert shown == as_shown(virsh_exit_sums(hypervisor, kvm_guest.name))
        # paused: nothing moves, so every rate is 0
        assert {c.rate for c in screen.stats.exits.values()} == {0.0}
        assert "from libvirt per-vCPU stats" in screen_text(app)
        # per vCPU, the vCPU0 column adds up to the total with the others
        per_vcpu = screen.stats.exits_per_vcpu()
        assert sum(v["total"].total for v in per_vcpu) == shown["total"]


async def test_debugfs_counters_match_libvirt_or_libvirts_are_shown_with_why_not(hypervisor,
                                                                                  kvm_guest):
    paused_with_exits(hypervisor, kvm_guest)
    async with running_kvmtui(hypervisor.uri, exits_source="debugfs") as (app, pilot):
        screen = await open_from_list(
            pilot, kvm_guest.name, "x", PerformanceScreen,
            lambda s: s.stats is not None and s.stats.state is DomainState.PAUSED, 15)
        reason = kvmstat.probe()
        if reason is None:
            # (the breakdown by reason comes with the first tick after `x` asked for it)
            await wait_for(pilot, lambda: screen.stats.exits is not None
                           and screen.stats.exits_detail, 10)
            shown = shown_exits(screen)
            assert screen.stats.exits_source == "debugfs"
            pid = screen._qemu.pid(kvm_guest_uuid(hypervisor, kvm_guest.name))
            raw = kvmstat.read_counters(kvmstat.vm_directories()[pid])
            assert shown == as_shown({reason_key(k): v for k, v in raw.items()})
            libvirt_sums = as_shown(virsh_exit_sums(hypervisor, kvm_guest.name))
            assert {k: shown[k] for k in libvirt_sums if k in shown} == \
                {k: v for k, v in libvirt_sums.items() if k in shown}
        else:
            # --exits-source debugfs prefers debugfs; refused, it falls back to libvirt's
            # counters, and the stats keep the reason debugfs was not used
            # (the breakdown by reason comes with the first tick after `x` asked for it)
            await wait_for(pilot, lambda: screen.stats.exits is not None
                           and screen.stats.exits_detail, 10)
            await pilot.pause(0)
            assert screen.stats.exits_source == "libvirt"
            assert shown_exits(screen) == as_shown(virsh_exit_sums(hypervisor, kvm_guest.name))
            assert "from libvirt per-vCPU stats" in screen_text(app)
            assert screen.stats.exits_unavailable_reason == reason


def kvm_guest_uuid(hypervisor, name: str) -> str:
    return hypervisor.virsh("domuuid", name).strip().lower()


async def test_a_tcg_guest_shows_why_it_has_no_exits(hypervisor, firmware_guest):
    hypervisor.virsh("start", firmware_guest.name)
    async with running_kvmtui(socket_uri(hypervisor)) as (app, pilot):
        screen = await open_from_list(pilot, firmware_guest.name, "x", PerformanceScreen,
                                      lambda s: s.stats is not None, 15)
        await wait_for(pilot, lambda: "runs under TCG" in screen_text(app), 10)
        assert str(screen.query_one("#no-exits").content) == (
            f"{firmware_guest.name} runs under TCG (domain type 'qemu'): QEMU emulates the CPU "
            "in software, so there are no KVM exits; use <domain type='kvm'> for hardware "
            "virtualization")
        await wait_for(pilot, lambda: "QEMU process" in screen_text(app), 10)


def test_top_once_json_equals_virsh_for_a_paused_kvm_guest(hypervisor, kvm_guest):
    paused_with_exits(hypervisor, kvm_guest)
    result = subprocess.run([sys.executable, "-m", "kvmtui", "top", "-c", socket_uri(hypervisor),
                             "--once", "--json"], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    (domain,) = [d for d in json.loads(result.stdout)["domains"] if d["name"] == kvm_guest.name]
    assert domain["state"] == "paused" and domain["exits_source"] == "libvirt"
    assert {k: v["total"] for k, v in domain["exits"].items()} == \
        virsh_exit_sums(hypervisor, kvm_guest.name)
    assert {v["rate"] for v in domain["exits"].values()} == {None}  # first sample: no rate


def test_top_with_exits_source_debugfs_falls_back_to_libvirt_and_says_why(hypervisor,
                                                                          kvm_guest):
    paused_with_exits(hypervisor, kvm_guest)
    result = subprocess.run([sys.executable, "-m", "kvmtui", "top", "-c", hypervisor.uri,
                             "--once", "--json", "--exits-source", "debugfs"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    (domain,) = [d for d in json.loads(result.stdout)["domains"] if d["name"] == kvm_guest.name]
    reason = kvmstat.probe()
    if reason is None:
        assert domain["exits_source"] == "debugfs" and domain["exits_fallback_reason"] is None
        return
    assert domain["exits_source"] == "libvirt"
    assert {k: v["total"] for k, v in domain["exits"].items()} == \
        virsh_exit_sums(hypervisor, kvm_guest.name)
    assert domain["exits_fallback_reason"] == reason
    assert domain["exits_unavailable_reason"] is None


async def test_the_list_shows_live_cpu_memory_and_disk_figures(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    linux_guest.wait_booted()
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        table = app.domain_list.table
        key = next(k for k, s in app.domain_list.domains.items() if s.name == linux_guest.name)

        def row():
            return table.row_text(key)

        # (the columns themselves appear with the host's first figures)
        await wait_for(pilot, lambda: row().get("cpu", "") != ""
                       and row().get("disk_read", "") != "", 10)
        stats = app.domain_list.stats[key]
        assert row()["cpu"] == f"{stats.cpu_percent:.1f}"
        assert 0.0 <= stats.cpu_percent <= 100.0
        rss_kib = int(hypervisor.virsh("domstats", "--balloon", linux_guest.name)
                      .split("balloon.rss=")[1].split()[0])
        assert abs(stats.memory_used_kib - rss_kib) < 32 * 1024  # QEMU's RSS, moments apart
        assert row()["history"].strip() != ""


async def test_host_view_separates_exit_counts_from_time_counters(hypervisor, kvm_guest):
    """The host's view (H, enter) sums every VM's counters as kvm_stat's default view does:
    events in one table, KVM's *_ns time counters as time in another, each equal to the sum of
    `virsh domstats --vcpu` over the running VMs (paused, so nothing moves)."""
    from kvmtui.screens.host import HostScreen
    from kvmtui.screens.hosts import HostsScreen

    paused_with_exits(hypervisor, kvm_guest)
    sums: dict[str, int] = {}
    for name in hypervisor.virsh("list", "--name").split():
        for reason, value in virsh_exit_sums(hypervisor, name).items():
            sums[reason] = sums.get(reason, 0) + value
    async with running_kvmtui(socket_uri(hypervisor)) as (app, pilot):
        await pilot.press("H")
        await wait_for(pilot, lambda: isinstance(app.screen, HostsScreen), 10)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen), 10)
        screen = app.screen
        def rated() -> bool:  # a second sample: rates beside the totals
            rows = screen.query_one("#host-times").row_values().values()
            return bool(rows) and all(cells[2].endswith("ms/s") for cells in rows)

        await wait_for(pilot, rated, 20)
        await pilot.pause(0)
        counts = screen.query_one("#host-exits").row_values()
        times = screen.query_one("#host-times").row_values()
        assert not any(is_time_counter(r) for r in counts)  # no nanoseconds among the events
        assert all(is_time_counter(r) for r in times)
        shown = {**{r: int(cells[1].replace(",", "")) for r, cells in counts.items()},
                 **{r: cells[1] for r, cells in times.items()}}
        assert shown == as_shown(sums)
        assert {cells[2] for cells in times.values()} == {"0.0 ms/s"}  # paused: no time passes
        assert "Host-wide time counters (*_ns)" in screen_text(app)
