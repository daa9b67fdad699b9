"""Changes made by another client reach the list from events, within a second."""

from __future__ import annotations

from tests.helpers import wait_for
from tests.integration.conftest import running_kvmtui
from tests.integration.test_power_real import shown_state


async def test_another_clients_change_appears_within_a_second(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "running", 10)
        hypervisor.virsh("suspend", linux_guest.name)
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "paused", 1.0)
        hypervisor.virsh("resume", linux_guest.name)
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "running", 1.0)
        hypervisor.virsh("destroy", linux_guest.name)
        await wait_for(pilot, lambda: shown_state(app, linux_guest.name) == "shut off", 1.0)


async def test_domains_defined_and_undefined_elsewhere_appear_and_go(hypervisor):
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        guest = hypervisor.define_firmware_guest("visitor")
        await wait_for(pilot, lambda: shown_state(app, "visitor") == "shut off", 1.0)
        hypervisor.virsh("undefine", "visitor")
        await wait_for(pilot, lambda: shown_state(app, "visitor") is None, 1.0)
        guest.remove()
