"""Snapshots of a real qcow2 guest: create with memory while it runs, revert, delete."""

from __future__ import annotations

import libvirt

from kvmtui.screens.snapshot_dialogs import CreateSnapshotScreen, DeleteScreen, RevertScreen
from kvmtui.screens.snapshots import SnapshotScreen
from tests.helpers import asking, open_from_list, wait_for
from tests.integration.conftest import running_kvmtui


async def test_create_revert_delete_on_a_running_qcow2_guest(hypervisor, linux_guest):
    hypervisor.virsh("start", linux_guest.name)
    linux_guest.wait_booted()
    conn = hypervisor.client()
    dom = conn.lookupByName(linux_guest.name)
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        screen = await open_from_list(pilot, linux_guest.name, "t", SnapshotScreen,
                                      lambda screen: screen.snap_tree is not None, 10)
        await pilot.press("n")
        await wait_for(pilot, lambda: asking(app, CreateSnapshotScreen))
        app.screen.query_one("#name").value = "booted"
        await pilot.press("enter")  # disks and memory, internal: QEMU's savevm into the qcow2
        await wait_for(pilot, lambda: screen.snap_tree is not None
                       and "booted" in screen.snap_tree.snapshots, 60)
        snap = dom.snapshotLookupByName("booted", 0)
        assert "<memory snapshot='internal'/>" in snap.getXMLDesc(0)
        assert screen.snap_tree.snapshots["booted"].with_memory

        hypervisor.virsh("destroy", linux_guest.name)  # lose the running state
        await wait_for(pilot, lambda: screen.summary.state.word == "shut off", 10)
        await pilot.press("v")
        await wait_for(pilot, lambda: asking(app, RevertScreen))
        await pilot.press("y")  # revert, as taken: running, with its memory
        await wait_for(pilot, lambda: dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, 60)
        await pilot.pause(3.0)
        assert linux_guest.boots() == 1  # resumed from memory, not booted again

        await pilot.press("D")
        await wait_for(pilot, lambda: asking(app, DeleteScreen))
        await pilot.press("1", "y")  # delete this snapshot only
        await wait_for(pilot, lambda: dom.snapshotNum(0) == 0, 60)
        await wait_for(pilot, lambda: not screen.snap_tree.snapshots, 10)
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING

        await pilot.press("n")  # and metadata-only delete, which real QEMU domains support
        await wait_for(pilot, lambda: asking(app, CreateSnapshotScreen))
        app.screen.query_one("#name").value = "kept-in-image"
        await pilot.press("enter")
        await wait_for(pilot, lambda: dom.snapshotNum(0) == 1, 60)
        await wait_for(pilot, lambda: "kept-in-image" in screen.snap_tree.snapshots, 10)
        await pilot.press("D")
        await wait_for(pilot, lambda: asking(app, DeleteScreen))
        await pilot.press("3", "y")
        await wait_for(pilot, lambda: dom.snapshotNum(0) == 0, 60)
    conn.close()
