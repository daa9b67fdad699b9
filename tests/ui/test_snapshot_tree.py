"""The snapshot tree: what it shows matches virsh, and create/revert/delete work from the keys."""

from __future__ import annotations

import subprocess

import libvirt
import pytest

from kvmtui.screens.snapshot_dialogs import CreateSnapshotScreen, DeleteScreen, RevertScreen
from kvmtui.screens.snapshots import SnapshotScreen
from kvmtui.virt.domain import snapshots as snaps
from tests.helpers import (
    asking,
    copy_demo_fleet,
    libvirt_domain,
    names,
    open_app,
    open_tree,
    put_cursor_on,
    screen_text,
    select,
    wait_for,
)


@pytest.mark.parametrize("vm", ["win10", "build-smp", "vm1"])
def test_tree_matches_virsh(tmp_path, vm):
    uri = copy_demo_fleet(tmp_path)
    out = subprocess.run(["virsh", "-q", "-c", uri, "snapshot-list", vm, "--parent"],
                         capture_output=True, text=True, check=True).stdout
    virsh_parents = {}
    for line in out.splitlines():
        cols = line.split()
        # name, date, time, tz, state, parent (absent for roots)
        virsh_parents[cols[0]] = cols[-1] if len(cols) > 6 or (len(cols) == 6 and cols[-1] not in (
            "running", "shutoff", "paused", "disk-snapshot")) else None
    current = subprocess.run(["virsh", "-q", "-c", uri, "snapshot-current", vm, "--name"],
                             capture_output=True, text=True, check=True).stdout.strip()
    conn = libvirt.open(uri)
    tree = snaps.read_tree(conn.lookupByName(vm))
    conn.close()
    assert {n: s.parent for n, s in tree.snapshots.items()} == virsh_parents
    assert tree.current == current


async def test_tree_screen_shows_nodes_current_and_details(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        text = screen_text(app)
        assert "6 snapshots · current: spice-tools" in text
        assert "spice-tools ◀ current" in text
        assert "office" in text  # the path to the current snapshot is open
        assert screen.selected == "spice-tools"
        assert "parent: virtio-drivers · children: 1 · descendants: 1" in text
        await pilot.press("X")
        assert "<domainsnapshot>" in screen_text(app)


async def test_create_with_escaped_unicode_name_and_description(make_app, demo_uri):
    app = make_app(demo_uri)
    name, description = "před <upgrade> & \"quotes\" 'too'", "ünïcode <b>not html</b> & more"
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        await pilot.press("n")
        await wait_for(pilot, lambda: asking(app, CreateSnapshotScreen))
        dialog = app.screen
        dialog.query_one("#name").value = ""
        await pilot.press(*name, "tab", *description, "enter")
        dom = libvirt_domain(app, "win10")
        await wait_for(pilot, lambda: name in names(dom))
        snap = dom.snapshotLookupByName(name, 0)
        assert snaps.parse_snapshot(snap.getXMLDesc(0), True).description == description
        assert snap.isCurrent(0)
        await wait_for(pilot, lambda: screen.snap_tree and name in screen.snap_tree.snapshots)


@pytest.mark.parametrize("bad,reason", [
    ("", "a snapshot needs a name"),
    ("a/b", "cannot contain '/'"),
    ("office", "there is already a snapshot named 'office'"),
])
async def test_bad_names_are_refused_before_libvirt_sees_them(make_app, demo_uri, bad, reason):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_tree(pilot, "win10")
        dom = libvirt_domain(app, "win10")
        before = names(dom)
        await pilot.press("n")
        await wait_for(pilot, lambda: asking(app, CreateSnapshotScreen))
        app.screen.query_one("#name").value = ""
        await pilot.press(*bad, "enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CreateSnapshotScreen)  # still asking
        assert reason in str(app.screen.query_one("#error").render())
        assert names(dom) == before


async def test_new_snapshot_from_the_list_of_a_shut_off_vm(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "vm1")
        await pilot.press("n")
        await wait_for(pilot, lambda: asking(app, CreateSnapshotScreen))
        assert "disks (internal; the VM is shut off)" in screen_text(app)
        app.screen.query_one("#name").value = "before-patching"
        await pilot.press("enter")
        dom = libvirt_domain(app, "vm1")
        await wait_for(pilot, lambda: "before-patching" in names(dom))
        xml = dom.snapshotLookupByName("before-patching", 0).getXMLDesc(0)
        assert "<state>shutoff</state>" in xml


async def test_revert_confirmed_changes_the_vm_and_cancel_does_not(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        dom = libvirt_domain(app, "win10")
        await put_cursor_on(pilot, screen, "sysprep")  # taken shut off
        await pilot.press("v")
        await wait_for(pilot, lambda: asking(app, RevertScreen))
        assert "will be lost" in screen_text(app)
        await pilot.press("n")
        await pilot.pause(0.1)
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert dom.snapshotCurrent(0).getName() == "spice-tools"
        await pilot.press("v")
        await wait_for(pilot, lambda: asking(app, RevertScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: dom.snapshotCurrent(0).getName() == "sysprep")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF  # as the snapshot was taken
        await wait_for(pilot, lambda: screen.snap_tree.current == "sysprep")


async def test_revert_and_leave_it_paused(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        dom = libvirt_domain(app, "win10")
        await put_cursor_on(pilot, screen, "office")
        await pilot.press("v")
        await wait_for(pilot, lambda: asking(app, RevertScreen))
        await pilot.press("3", "y")  # 3: paused afterwards
        await wait_for(pilot, lambda: dom.snapshotCurrent(0).getName() == "office")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED


@pytest.mark.parametrize("choice,gone,kept", [
    ("1", {"virtio-drivers"}, {"spice-tools", "office", "updates-2020-01"}),
    ("2", {"virtio-drivers", "spice-tools", "office", "updates-2020-01"}, {"sysprep"}),
])
async def test_delete_modes(make_app, demo_uri, choice, gone, kept):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        dom = libvirt_domain(app, "win10")
        await put_cursor_on(pilot, screen, "virtio-drivers")
        await pilot.press("D")
        await wait_for(pilot, lambda: asking(app, DeleteScreen))
        assert "this snapshot only, its 2 child snapshot(s) move up" in screen_text(app)
        await pilot.press(choice, "y")
        await wait_for(pilot, lambda: not (gone & names(dom)))
        assert kept <= names(dom)
        if choice == "1":  # children re-parented to the deleted one's parent
            assert dom.snapshotLookupByName("spice-tools", 0).getParent().getName() == "fresh-install"
        await wait_for(pilot, lambda: not (gone & set(screen.snap_tree.snapshots)))


async def test_metadata_only_delete_shows_libvirts_answer(make_app, demo_uri):
    # The test driver has no metadata-only delete: libvirt says so, and nothing changes.
    # (A real QEMU domain does it: tests/integration/test_snapshots_real.py.)
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        dom = libvirt_domain(app, "win10")
        before = names(dom)
        await put_cursor_on(pilot, screen, "virtio-drivers")
        await pilot.press("D")
        await wait_for(pilot, lambda: asking(app, DeleteScreen))
        await pilot.press("3", "y")
        await wait_for(pilot, lambda: any("unsupported flags" in n.message for n in app._notifications))
        assert names(dom) == before


async def test_delete_cancelled_keeps_everything(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        dom = libvirt_domain(app, "win10")
        before = names(dom)
        await put_cursor_on(pilot, screen, "office")
        await pilot.press("delete", "escape")
        await pilot.pause(0.2)
        assert names(dom) == before


async def test_unsafe_external_delete_is_refused_and_not_attempted(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "build-smp")
        dom = libvirt_domain(app, "build-smp")
        before = names(dom)
        await put_cursor_on(pilot, screen, "pre-upgrade")
        assert "external" in screen_text(app)
        await pilot.press("D")
        await wait_for(pilot, lambda: asking(app, DeleteScreen))
        await pilot.press("1", "y")
        await wait_for(pilot, lambda: any("Not deleted" in (n.title or "") for n in app._notifications))
        (notice,) = [n for n in app._notifications if n.title == "Not deleted"]
        assert "external snapshot with 1 child" in notice.message and "Nothing was changed" in notice.message
        assert names(dom) == before
        await pilot.press("v")  # reverting to an external snapshot: libvirt 9.0 cannot
        await wait_for(pilot, lambda: any(n.title == "Not reverted" for n in app._notifications))
        assert dom.snapshotCurrent(0).getName() == "ccache-warm"


async def test_rereads_on_ctrl_r_and_when_it_comes_back(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "vm1")
        libvirt_domain(app, "vm1").snapshotCreateXML(
            "<domainsnapshot><name>elsewhere</name></domainsnapshot>", 0)
        await pilot.press("ctrl+r")  # as in details; r is reboot, as on the list
        await wait_for(pilot, lambda: "elsewhere" in screen.snap_tree.snapshots)
        libvirt_domain(app, "vm1").snapshotCreateXML("<domainsnapshot><name>later</name></domainsnapshot>", 0)
        await pilot.press("question_mark")
        await pilot.press("escape")  # the tree gains focus again: it re-reads
        await wait_for(pilot, lambda: "later" in screen.snap_tree.snapshots)


@pytest.fixture
def tree_app(tmp_path):
    SnapshotScreen.clock = staticmethod(lambda: 1_700_100_000.0)
    app = open_app(copy_demo_fleet(tmp_path))
    yield app
    app.fleet.close()
    SnapshotScreen.clock = staticmethod(__import__("time").time)


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_tree_snapshots(snap_compare, tree_app, size):
    async def open_it(pilot):
        await open_tree(pilot, "win10")
        await pilot.pause(0.2)

    assert snap_compare(tree_app, terminal_size=size, run_before=open_it)
