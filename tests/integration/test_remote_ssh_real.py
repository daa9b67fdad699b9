"""kvmtui on a remote host reached over ssh, for real: libvirt's ssh transport to a throwaway
sshd on 127.0.0.1 (tests/integration/sshd.py), whose nc connects to the private libvirtd.

The list, events made by another client, power keys, the KVM exit counters and `kvmtui top`
all go through ssh; what really happened is checked on the daemon's own unix socket.
The guests are shared by the whole module (firmware only, nothing to boot): each test first
puts them in the state it needs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import libvirt
import pytest

from kvmtui.screens.performance import PerformanceScreen
from kvmtui.virt.models import DomainState
from tests.helpers import open_from_list, screen_text, select, wait_for
from tests.integration.conftest import kvm_usable, running_kvmtui
from tests.integration.test_performance_real import shown_exits, virsh_exit_sums
from tests.integration.test_power_real import shown_state

RUNNING, PAUSED, SHUTOFF = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED,
                            libvirt.VIR_DOMAIN_SHUTOFF)

# the first ssh connection of a run also starts sshd's session: generous, never a measure
OPEN_S = 20


@pytest.fixture(scope="module")
def tcg(hypervisor):
    """Two TCG firmware guests: ssh-run (to be running) and ssh-off (to be shut off)."""
    guests = (hypervisor.define_firmware_guest("ssh-run"),
              hypervisor.define_firmware_guest("ssh-off"))
    yield guests
    for guest in guests:
        guest.remove()


@pytest.fixture(scope="module")
def kvm(hypervisor):
    """A KVM firmware guest, running and already making VM exits."""
    reason = kvm_usable()
    if reason:
        pytest.skip(f"no KVM here ({reason}): the KVM guest needs /dev/kvm")
    guest = hypervisor.define_firmware_guest("ssh-kvm", kind="kvm")
    hypervisor.virsh("start", guest.name)
    try:
        deadline = time.monotonic() + 10
        while virsh_exit_sums(hypervisor, guest.name).get("total", 0) == 0:
            assert time.monotonic() < deadline, "the KVM guest made no VM exits within 10 s"
            time.sleep(0.1)
        yield guest
    finally:
        guest.remove()


def put(hypervisor, guest, state: int) -> None:
    """Put the guest in `state` through the daemon's own socket (not kvmtui's connection)."""
    now = guest.state()
    if now == state:
        return
    if state == SHUTOFF:
        hypervisor.virsh("destroy", guest.name)
    elif now == SHUTOFF:
        hypervisor.virsh("start", guest.name, *(["--paused"] if state == PAUSED else []))
    else:
        hypervisor.virsh("suspend" if state == PAUSED else "resume", guest.name)
    assert guest.state() == state


def daemon_states(hypervisor) -> dict[str, str]:
    """Every domain of the private daemon and its state, as its own unix socket tells them."""
    conn = hypervisor.client()
    try:
        return {d.name(): DomainState.coerce(d.state()[0]).word for d in conn.listAllDomains(0)}
    finally:
        conn.close()


def listed_states(app) -> dict[str, str]:
    return {s.name: s.state.word for s in app.domain_list.domains.values()}


def top(uri: str, *args: str) -> list[dict]:
    """`kvmtui top -c URI --json ARGS`, as a script runs it: its samples, one per line."""
    script = Path(sys.executable).with_name("kvmtui")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kvmtui"]
    result = subprocess.run([*command, "top", "-c", uri, "--json", *args], capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


async def test_the_list_shows_the_remote_daemons_vms_through_ssh(hypervisor, ssh_uri, tcg):
    running, off = tcg
    put(hypervisor, running, RUNNING)
    put(hypervisor, off, SHUTOFF)
    expected = daemon_states(hypervisor)
    assert expected[running.name] == "running" and expected[off.name] == "shut off"
    async with running_kvmtui(ssh_uri) as (app, pilot):
        await wait_for(pilot, lambda: listed_states(app) == expected, OPEN_S)
        await pilot.pause(0.05)
        text = screen_text(app)
        assert running.name in text and off.name in text
        # each row really came through the ssh connection
        assert {s.key.uri for s in app.domain_list.domains.values()} == {ssh_uri}


async def test_another_clients_changes_reach_the_list_through_ssh(hypervisor, ssh_uri, tcg):
    running, _ = tcg
    put(hypervisor, running, RUNNING)
    async with running_kvmtui(ssh_uri) as (app, pilot):
        await wait_for(pilot, lambda: shown_state(app, running.name) == "running", OPEN_S)
        hypervisor.virsh("suspend", running.name)
        await wait_for(pilot, lambda: shown_state(app, running.name) == "paused", 10)
        hypervisor.virsh("resume", running.name)
        await wait_for(pilot, lambda: shown_state(app, running.name) == "running", 10)
        visitor = hypervisor.define_firmware_guest("ssh-visitor")
        try:
            await wait_for(pilot, lambda: shown_state(app, visitor.name) == "shut off", 10)
            hypervisor.virsh("undefine", visitor.name)
            await wait_for(pilot, lambda: shown_state(app, visitor.name) is None, 10)
        finally:
            visitor.remove()
        assert visitor.name not in screen_text(app)


async def test_power_keys_through_ssh_change_the_real_vm(hypervisor, ssh_uri, tcg):
    running, off = tcg
    put(hypervisor, running, RUNNING)
    put(hypervisor, off, SHUTOFF)
    async with running_kvmtui(ssh_uri) as (app, pilot):
        await wait_for(pilot, lambda: shown_state(app, off.name) == "shut off"
                       and shown_state(app, running.name) == "running", OPEN_S)
        await select(pilot, off.name)
        await pilot.press("s")
        await wait_for(pilot, lambda: shown_state(app, off.name) == "running", 15)
        assert off.state() == RUNNING
        await select(pilot, running.name)
        await pilot.press("p")
        await wait_for(pilot, lambda: shown_state(app, running.name) == "paused", 10)
        assert running.state() == PAUSED
        await pilot.press("p")
        await wait_for(pilot, lambda: shown_state(app, running.name) == "running", 10)
        assert running.state() == RUNNING
    put(hypervisor, off, SHUTOFF)


async def test_the_performance_screen_shows_kvm_exits_through_ssh(hypervisor, ssh_uri, kvm):
    async with running_kvmtui(ssh_uri) as (app, pilot):
        await wait_for(pilot, lambda: shown_state(app, kvm.name) == "running", OPEN_S)
        screen = await open_from_list(
            pilot, kvm.name, "x", PerformanceScreen,
            lambda s: s.stats is not None and s.stats.exits is not None
            and s.stats.exits_detail, 15)
        await wait_for(pilot, lambda: shown_exits(screen).get("total", 0) > 0, 10)
        # exit counts only: the time counters (*_ns) are shown apart, in seconds
        shown = {r: n for r, n in shown_exits(screen).items() if isinstance(n, int)}
        reasons = [r for r, n in shown.items() if r != "total" and n > 0]
        assert reasons, f"no exit reason with a count: {shown}"
        text = screen_text(app)
        assert "from libvirt per-vCPU stats" in text
        assert reasons[0] in text  # the busiest reason is on screen
        # libvirt's own counters, read afterwards on the daemon's socket, are never behind
        later = virsh_exit_sums(hypervisor, kvm.name)
        assert all(later[r] >= n for r, n in shown.items()), (shown, later)
        # the guest runs: the counts keep going up on screen
        await wait_for(pilot, lambda: shown_exits(screen)["total"] > shown["total"], 10)


def test_top_over_ssh_prints_every_vm_with_its_state(hypervisor, ssh_uri, tcg):
    running, off = tcg
    put(hypervisor, running, RUNNING)
    put(hypervisor, off, SHUTOFF)
    (sample,) = top(ssh_uri, "--once")
    assert sample["iteration"] == 1
    assert {d["name"]: d["state"] for d in sample["domains"]} == daemon_states(hypervisor)
    by_name = {d["name"]: d for d in sample["domains"]}
    assert by_name[running.name]["exits"] is None
    assert "runs under TCG" in by_name[running.name]["exits_unavailable_reason"]
    assert by_name[off.name]["exits_unavailable_reason"] == f"{off.name} is not running"


def test_top_over_ssh_prints_kvm_exit_counters(hypervisor, ssh_uri, kvm):
    samples = top(ssh_uri, "--iterations", "2", "--interval", "0.5")
    assert [s["iteration"] for s in samples] == [1, 2]
    first, second = ([d for d in s["domains"] if d["name"] == kvm.name][0] for s in samples)
    for domain in (first, second):
        assert domain["state"] == "running" and domain["exits_source"] == "libvirt"
        assert domain["exits"]["total"]["total"] > 0
        assert any(c["total"] > 0 for r, c in domain["exits"].items() if r != "total")
    assert second["exits"]["total"]["total"] >= first["exits"]["total"]["total"]
    assert {c["rate"] for c in first["exits"].values()} == {None}  # no rate from one sample
    assert second["exits"]["total"]["rate"] is not None
    later = virsh_exit_sums(hypervisor, kvm.name)
    assert all(later[r] >= c["total"] for r, c in second["exits"].items())


def test_advise_over_ssh_reads_every_vm_and_finds_the_tcg_guest(hypervisor, ssh_uri, tcg):
    """`kvmtui advise --json` over ssh: every VM of the remote daemon, each finding complete,
    and the running TCG guest told it runs without KVM on a host that offers KVM (the host's
    capabilities are read through ssh too)."""
    running, off = tcg
    put(hypervisor, running, RUNNING)
    put(hypervisor, off, SHUTOFF)
    script = Path(sys.executable).with_name("kvmtui")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kvmtui"]
    result = subprocess.run([*command, "advise", "-c", ssh_uri, "--json"], capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    reports = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(reports) == set(daemon_states(hypervisor))
    for report in reports.values():
        assert report["uri"] == ssh_uri
        for finding in report["findings"]:
            assert set(finding) == {"id", "severity", "title", "evidence", "fix"}
            assert finding["evidence"] and finding["fix"]
    tcg_finding = {f["id"]: f for f in reports[running.name]["findings"]}["tcg"]
    offered = "kvm" in hypervisor.virsh("capabilities")
    assert tcg_finding["severity"] == ("problem" if offered else "warning")
    assert any("<domain type='qemu'>" in line for line in tcg_finding["evidence"])
