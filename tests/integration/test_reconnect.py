"""libvirtd killed and restarted under a running kvmtui: it notices, reconnects by itself,
registers its events again and shows the current states."""

from __future__ import annotations

import os
import subprocess

import libvirt

from kvmtui.virt.models import ConnectionStatus
from tests.helpers import select, wait_for
from tests.integration.conftest import running_kvmtui
from tests.integration.test_power_real import shown_state


def marked_names(app) -> set[str]:
    return {s.name for k, s in app.domain_list.domains.items() if k in app.domain_list.marks}


def header_text(app) -> str:
    return str(app.domain_list.query_one("#header").render())


async def test_reconnects_after_libvirtd_restarts(hypervisor, linux_guest, firmware_guest):
    hypervisor.virsh("start", linux_guest.name)
    hypervisor.virsh("start", firmware_guest.name)
    leaving = hypervisor.define_firmware_guest("leaving")
    uri = hypervisor.uri
    async with running_kvmtui(uri) as (app, pilot):
        await wait_for(pilot, lambda: shown_state(app, "leaving") == "shut off", 5)
        for name in (linux_guest.name, "leaving"):  # marked before the daemon goes away
            await select(pilot, name)
            await pilot.press("space")
        hypervisor.daemon.kill()
        # the close callback / keepalive reports it, and the screen says so
        await wait_for(pilot, lambda: app.domain_list.connections[uri].status
                       is ConnectionStatus.DISCONNECTED, 2.0)
        assert "disconnected" in header_text(app)
        assert app.domain_list.table.row_text(
            next(k for k, s in app.domain_list.domains.items()
                 if s.name == linux_guest.name))["state"] == "disconnected"

        offered = [b for b in app.screen.active_bindings.values()
                   if b.binding.action.startswith("power")]
        assert offered == []  # nothing can be done on a host that is away

        # Down for a moment, as a real restart is: a daemon back within milliseconds can
        # reach a QEMU monitor before QEMU has noticed the old daemon's connection close.
        await pilot.pause(1.0)
        hypervisor.daemon.start()
        # changes made while kvmtui was away, or just as it comes back. libvirtd is still
        # reconnecting to its QEMUs here: its destroy kills QEMU first and may then answer
        # "domain is not running" when its reconnection noticed first — the guest is off
        # either way, which is what the list must show.
        subprocess.run(["virsh", "-q", "-c", uri, "destroy", firmware_guest.name],
                       capture_output=True, timeout=60)
        assert firmware_guest.state() == libvirt.VIR_DOMAIN_SHUTOFF
        hypervisor.virsh("undefine", "leaving")
        await wait_for(pilot, lambda: app.domain_list.connections[uri].status
                       is ConnectionStatus.CONNECTED, 20)
        await wait_for(pilot, lambda: shown_state(app, "leaving") is None, 5)  # no stale row
        await wait_for(pilot, lambda: shown_state(app, firmware_guest.name) == "shut off", 5)
        assert shown_state(app, linux_guest.name) == "running"
        assert "disconnected" not in header_text(app)
        # the mark stayed with its VM through the reconnect; the VM that went took its mark
        assert marked_names(app) == {linux_guest.name}
        assert "● 1 marked" in header_text(app)

        # events are registered again: a new change arrives by itself
        hypervisor.virsh("suspend", linux_guest.name)
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "paused", 1.0)
    leaving.remove()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_repeated_restarts_leak_no_descriptors_and_rows_stay_right(hypervisor,
                                                                         firmware_guest):
    """Eight kills and restarts: every reconnect shows the current VMs, and the process holds
    as many open files after the eighth as after the second (a leaked connection keeps its
    socket open for good, one more per reconnect)."""
    hypervisor.virsh("start", firmware_guest.name)
    # Every emulator probed and cached now: a kill in the middle of a probe would leave its
    # QEMU behind, outside anything the private daemon's stop can find.
    hypervisor.virsh("capabilities")
    uri = hypervisor.uri
    comer = f"comer-{firmware_guest.name}"
    counts = {}
    try:
        async with running_kvmtui(uri) as (app, pilot):
            await wait_for(pilot, lambda: shown_state(app, firmware_guest.name) == "running", 5)
            for cycle in range(1, 9):
                hypervisor.daemon.kill()
                await wait_for(pilot, lambda: app.domain_list.connections[uri].status
                               is ConnectionStatus.DISCONNECTED, 5)
                await pilot.pause(0.3)
                hypervisor.daemon.start()
                # a VM comes and goes between restarts: only a fresh read shows it right
                if cycle % 2:
                    hypervisor.define_firmware_guest(comer)
                else:
                    hypervisor.virsh("undefine", comer)
                expected = "shut off" if cycle % 2 else None
                await wait_for(pilot, lambda: app.domain_list.connections[uri].status
                               is ConnectionStatus.CONNECTED, 10)
                await wait_for(pilot, lambda: shown_state(app, comer) == expected, 5)
                row = app.domain_list.table.row_text(next(
                    k for k, s in app.domain_list.domains.items()
                    if s.name == firmware_guest.name))
                assert row["state"] == "running"
                counts[cycle] = open_fds()
    finally:
        subprocess.run(["virsh", "-q", "-c", uri, "undefine", comer], capture_output=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert abs(counts[8] - counts[2]) <= 1, counts
