"""Snapshot names against a real libvirtd and qcow2 image: the longest name kvmtui accepts is the
longest libvirt can save, and a longer one is refused before QEMU writes anything into the image."""

from __future__ import annotations

import subprocess

from textual import events

from kvmtui.screens.snapshot_dialogs import CreateSnapshotScreen
from kvmtui.screens.snapshots import SnapshotScreen
from tests.helpers import asking, open_from_list, wait_for
from tests.integration.conftest import running_kvmtui


def image_snapshots(hypervisor, guest) -> list[str]:
    """The internal snapshots inside the guest's qcow2, as QEMU sees them (libvirt or not)."""
    disk = hypervisor.work / f"{guest.name}.qcow2"
    out = subprocess.run(["qemu-img", "snapshot", "-l", "-U", str(disk)], capture_output=True,
                         text=True, check=True).stdout
    return out.splitlines()[2:]  # after 'Snapshot list:' and the column headings


def virsh_names(hypervisor, guest) -> set[str]:
    out = hypervisor.virsh("snapshot-list", guest.name, "--name")
    return {line for line in out.splitlines() if line}


async def type_a_name(app, pilot, name: str) -> None:
    await pilot.press("n")
    await wait_for(pilot, lambda: asking(app, CreateSnapshotScreen))
    app.screen.query_one("#name").value = ""
    app.post_message(events.Paste(name))
    await pilot.pause(0.05)
    await pilot.press("enter")


async def test_name_length_limit_is_libvirts_and_nothing_is_left_in_the_image(hypervisor,
                                                                               linux_guest):
    longest = "é" * 123 + "x"      # 247 bytes in UTF-8: '<name>.xml.new' is 255
    too_long = "é" * 124           # 248 bytes: libvirt would fail after QEMU took it
    emoji = "deploy 👩\u200d💻"    # a zero-width joiner is a format character, not a control one
    assert (len(longest.encode()), len(too_long.encode())) == (247, 248)
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        screen = await open_from_list(pilot, linux_guest.name, "t", SnapshotScreen,
                                      lambda screen: screen.snap_tree is not None, 10)
        await type_a_name(app, pilot, too_long)
        await pilot.pause(0.2)
        assert isinstance(app.screen, CreateSnapshotScreen)  # refused, still asking
        assert "at most 247 bytes" in str(app.screen.query_one("#error").render())
        await pilot.press("escape")
        assert image_snapshots(hypervisor, linux_guest) == []
        assert virsh_names(hypervisor, linux_guest) == set()

        for name in (longest, emoji):
            await type_a_name(app, pilot, name)
            await wait_for(pilot, lambda: screen.snap_tree is not None
                           and name in screen.snap_tree.snapshots, 60)
            assert name in virsh_names(hypervisor, linux_guest)  # stored exactly, listed by virsh
        assert len(image_snapshots(hypervisor, linux_guest)) == 2  # one per listed snapshot
