"""On a real qcow2 guest, every snapshot operation reports exactly what happened, by name.

QEMU deletes a subtree one snapshot at a time; a tree read racing it used to see snapshots vanish
between the list and their XML and report "Domain snapshot not found" after a delete that had
succeeded.
"""

from __future__ import annotations

from kvmtui.screens.snapshot_dialogs import DeleteScreen, RevertScreen
from kvmtui.screens.snapshots import SnapshotScreen
from tests.helpers import asking, open_from_list, put_cursor_on, wait_for
from tests.integration.conftest import running_kvmtui


def listed(hypervisor, name: str) -> set[str]:
    return set(hypervisor.virsh("snapshot-list", name, "--name").split())


async def _delete(pilot, app, screen, name: str, mode: str) -> None:
    await put_cursor_on(pilot, screen, name)
    await pilot.press("D")
    await wait_for(pilot, lambda: asking(app, DeleteScreen))
    await pilot.press(mode, "y")


def said(app, message: str) -> bool:
    return any(n.message == message for n in app._notifications)


async def test_every_delete_mode_and_revert_report_what_happened(hypervisor, linux_guest):
    vm = linux_guest.name
    for name in ("s1", "s2", "s3"):  # a chain, then a branch off s1
        hypervisor.virsh("snapshot-create-as", vm, "--name", name)
    hypervisor.virsh("snapshot-revert", vm, "s1")
    for name in ("b1", "b2"):
        hypervisor.virsh("snapshot-create-as", vm, "--name", name)
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        screen = await open_from_list(pilot, vm, "t", SnapshotScreen,
                                      lambda s: s.snap_tree is not None, 10)
        await _delete(pilot, app, screen, "s2", "2")  # it and all below it
        await wait_for(pilot, lambda: said(app, f"{vm}: deleted snapshot 's2' and all below it"), 60)
        await wait_for(pilot, lambda: set(screen.snap_tree.snapshots) == {"s1", "b1", "b2"}, 10)
        assert listed(hypervisor, vm) == {"s1", "b1", "b2"}

        await _delete(pilot, app, screen, "b2", "3")  # metadata only, on a leaf
        await wait_for(pilot, lambda: said(app, f"{vm}: deleted snapshot 'b2' from libvirt's list "
                                                "(metadata only: its data stays in the disk images)"), 60)
        await wait_for(pilot, lambda: "b2" not in screen.snap_tree.snapshots, 10)
        assert listed(hypervisor, vm) == {"s1", "b1"}

        await _delete(pilot, app, screen, "s1", "1")  # this one only: b1 moves up
        await wait_for(pilot, lambda: said(app, f"{vm}: deleted snapshot 's1'"), 60)
        await wait_for(pilot, lambda: set(screen.snap_tree.snapshots) == {"b1"}, 10)

        await put_cursor_on(pilot, screen, "b1")
        await pilot.press("v")
        await wait_for(pilot, lambda: asking(app, RevertScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: said(app, f"{vm}: reverted to snapshot 'b1'"), 60)

        assert not [n for n in app._notifications if n.severity == "error"], [
            (n.title, n.message) for n in app._notifications]
        assert [(r.action, r.snapshot, r.ok) for r in app.action_log.records] == [
            ("snapshot-delete", "s2", True), ("snapshot-delete", "b2", True),
            ("snapshot-delete", "s1", True), ("snapshot-revert", "b1", True)]
