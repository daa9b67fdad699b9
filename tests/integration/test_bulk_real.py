"""A bulk shutdown of two real QEMU guests: one question, both guests power themselves off."""

from __future__ import annotations

import libvirt
import pytest

from kvmtui.screens.bulk_dialogs import BulkConfirmScreen
from tests.helpers import asking, screen_text, select, wait_for
from tests.integration.conftest import running_kvmtui


@pytest.fixture
def second_guest(hypervisor):
    guest = hypervisor.define_linux_guest("bulk-second")
    yield guest
    guest.remove()


async def test_bulk_shutdown_of_two_marked_guests(hypervisor, linux_guest, second_guest):
    guests = (linux_guest, second_guest)
    for guest in guests:
        hypervisor.virsh("start", guest.name)
    for guest in guests:
        guest.wait_booted()
    async with running_kvmtui(hypervisor.uri, shutdown_timeout=60) as (app, pilot):
        for guest in guests:
            await select(pilot, guest.name)
            await pilot.press("space")
        await pilot.press("d")
        await wait_for(pilot, lambda: asking(app, BulkConfirmScreen))
        text = screen_text(app)
        assert "Shutdown 2 VMs?" in text
        assert linux_guest.name in text and second_guest.name in text
        await pilot.press("y")
        await wait_for(pilot, lambda: all(g.state() == libvirt.VIR_DOMAIN_SHUTOFF for g in guests),
                       60)
        for guest in guests:
            assert "powering off" in guest.serial.read_text()  # each guest's acpid did it
        await wait_for(pilot, lambda: any("2 asked to shut down" in n.message
                                          for n in app._notifications), 10)
