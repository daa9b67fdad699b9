"""Every power key on real QEMU guests: the guest itself shows that it happened."""

from __future__ import annotations

import libvirt

from kvmtui.screens.confirm import ConfirmScreen
from tests.helpers import asking, select, wait_for
from tests.integration.conftest import running_kvmtui

RUNNING, PAUSED, SHUTOFF = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED,
                            libvirt.VIR_DOMAIN_SHUTOFF)


def shown_state(app, name: str) -> str | None:
    for s in app.domain_list.domains.values():
        if s.name == name:
            return s.state.word
    return None


async def booted(pilot, guest, count: int = 1, timeout: float = 60) -> None:
    await wait_for(pilot, lambda: guest.boots() >= count, timeout=timeout)


async def test_start_boots_the_guest(hypervisor, linux_guest):
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        await select(pilot, linux_guest.name)
        await pilot.press("s")
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "running", 10)
        assert linux_guest.state() == RUNNING
        await booted(pilot, linux_guest)


async def test_graceful_shutdown_the_guest_powers_itself_off(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    linux_guest.wait_booted()
    async with running_kvmtui(hypervisor.uri, shutdown_timeout=30) as (app, pilot):
        await select(pilot, linux_guest.name)
        await pilot.press("d")
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "shut off", 30)
        assert linux_guest.state() == SHUTOFF
        assert "powering off" in linux_guest.serial.read_text()  # its acpid did it
        assert not isinstance(app.screen, ConfirmScreen)


async def test_pause_and_resume(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        await select(pilot, linux_guest.name)
        await pilot.press("p")
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "paused", 10)
        assert linux_guest.state() == PAUSED
        await pilot.press("p")
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "running", 10)
        assert linux_guest.state() == RUNNING


async def test_reboot_boots_the_guest_again(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    linux_guest.wait_booted()
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        await select(pilot, linux_guest.name)
        await pilot.press("r")
        await wait_for(pilot, lambda: any(n.message == f"{linux_guest.name} asked to reboot"
                                          for n in app._notifications), 10)
        await booted(pilot, linux_guest, 2)
        assert linux_guest.state() == RUNNING
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "running", 10)


async def test_reset_confirmed_restarts_the_guest(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    linux_guest.wait_booted()
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        await select(pilot, linux_guest.name)
        await pilot.press("R")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.press("n")  # cancelled first: nothing happens
        await pilot.pause(1.0)
        assert linux_guest.boots() == 1
        await pilot.press("R")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: any(n.message == f"{linux_guest.name} reset"
                                          for n in app._notifications), 10)
        await booted(pilot, linux_guest, 2)
        assert linux_guest.state() == RUNNING


async def test_force_off_with_confirmation(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        await select(pilot, linux_guest.name)
        await pilot.press("F")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        assert linux_guest.name in app.screen.question
        key = app.domain_list.selected.key
        await pilot.press("y")
        seen: list[str] = []  # what the row said, tick by tick, until the guest was off

        def off() -> bool:
            seen.append(app.domain_list.table.row_text(key)["state"])
            return seen[-1] == "shut off"

        await wait_for(pilot, off, 10)
        assert "forcing off…" in seen  # QEMU takes a moment to go: the row says it is under way
        assert linux_guest.state() == SHUTOFF
        # the lifecycle event may reach the row before libvirt's call has returned to kvmtui
        await wait_for(pilot, lambda: any(n.message == f"{linux_guest.name} forced off"
                                          for n in app._notifications), 10)


async def test_managed_save_then_start_restores_without_booting(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    linux_guest.wait_booted()
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        await select(pilot, linux_guest.name)
        await pilot.press("M")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "shut off", 30)
        conn = hypervisor.client()
        assert conn.lookupByName(linux_guest.name).hasManagedSaveImage(0) == 1
        await wait_for(pilot, lambda: app.domain_list.selected.managed_save, 5)
        await pilot.press("s")  # offered as Restore
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "running", 30)
        assert linux_guest.state() == RUNNING
        assert conn.lookupByName(linux_guest.name).hasManagedSaveImage(0) == 0
        await pilot.pause(3.0)  # a fresh boot would print its ready line within ~2.5 s
        assert linux_guest.boots() == 1  # restored where it was, not booted again
        conn.close()


async def test_shutdown_ignored_by_the_guest_is_overdue_and_typing_never_forces_it(
        hypervisor, firmware_guest):
    # Firmware with no OS does not answer the ACPI power button.
    hypervisor.virsh("start", firmware_guest.name)
    async with running_kvmtui(hypervisor.uri, shutdown_timeout=1.5) as (app, pilot):
        await select(pilot, firmware_guest.name)
        key = app.domain_list.selected.key
        await pilot.press("d")
        await wait_for(pilot, lambda: app.domain_list.table.row_text(key)["state"]
                       == "shutting down…", 10)
        await pilot.press("slash")
        for _ in range(12):  # typing y into the filter, across the timeout
            await pilot.press("y")
            await pilot.pause(0.25)
        assert not isinstance(app.screen, ConfirmScreen)
        assert firmware_guest.state() == RUNNING
        assert any(f"{firmware_guest.name} has not shut down after 1.5 s" in n.message
                   for n in app._notifications)
        await pilot.press("escape")  # clears the filter: the row is back
        await wait_for(pilot, lambda: app.domain_list.table.row_text(key)["state"]
                       == "shutdown overdue (F)", 10)
        await select(pilot, firmware_guest.name)
        await pilot.press("F")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: firmware_guest.state() == SHUTOFF, 10)


async def test_kvm_guest_starts_from_the_list_and_counts_vm_exits(hypervisor, kvm_guest):
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        await select(pilot, kvm_guest.name)
        await pilot.press("s")
        await wait_for(pilot, lambda: shown_state(app, kvm_guest.name) == "running", 15)
        conn = hypervisor.client()
        dom = conn.lookupByName(kvm_guest.name)

        def exits() -> int:
            ((_, stats),) = conn.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_VCPU)
            return sum(v for k, v in stats.items() if k.endswith("exits.sum"))

        await wait_for(pilot, lambda: exits() > 0, 10)  # real KVM exits from its firmware
        conn.close()
