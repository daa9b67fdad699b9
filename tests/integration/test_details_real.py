"""The details screen on a real QEMU guest: hotplug shows up by itself, facts come from QEMU."""

from __future__ import annotations

import subprocess

from kvmtui.screens.details import DomainDetailsScreen
from tests.helpers import open_from_list, screen_text, wait_for
from tests.integration.conftest import running_kvmtui


async def test_hotplugged_disk_appears_in_the_disks_tab(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    linux_guest.wait_booted()
    extra = hypervisor.work / f"{linux_guest.name}-extra.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(extra), "8M"], check=True)
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        await open_from_list(pilot, linux_guest.name, "enter", DomainDetailsScreen,
                             lambda screen: screen.details is not None, 10)
        await pilot.press("4")
        await wait_for(pilot, lambda: "vda" in screen_text(app))
        assert "16 MiB" in screen_text(app)  # the qcow2 virtual size, from blockInfo
        assert "vdb" not in screen_text(app)
        hypervisor.virsh("attach-disk", linux_guest.name, str(extra), "vdb", "--live",
                         "--subdriver", "qcow2")
        # the device-added event makes the screen read the domain again, untouched
        await wait_for(pilot, lambda: "vdb" in screen_text(app) and "8 MiB" in screen_text(app), 10)
        await pilot.press("2")
        text = screen_text(app)
        assert "1 socket × 1 core × 1 thread = 1 vCPU slot, 1 online" in text
        assert "now: v0 running@" in text  # where QEMU's vCPU thread runs on the host
