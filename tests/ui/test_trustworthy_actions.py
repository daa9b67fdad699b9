"""Every action says it is under way and how it ended; nothing is offered that would be refused."""

from __future__ import annotations

import libvirt

from kvmtui.messages import FleetChanged
from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.help import HelpScreen
from kvmtui.screens.snapshot_dialogs import CreateSnapshotScreen, DeleteScreen, RevertScreen
from kvmtui.screens.snapshots import SnapshotScreen
from kvmtui.virt.models import ConnectionChanged, ConnectionStatus
from tests.helpers import (
    asking,
    libvirt_domain,
    open_from_list,
    put_cursor_on,
    screen_text,
    select,
    state_of,
    wait_for,
)


def footer_keys(app) -> set[str]:
    return {b.binding.key for b in app.screen.active_bindings.values()
            if b.binding.show and b.enabled}


async def open_tree(pilot, vm: str) -> SnapshotScreen:
    return await open_from_list(pilot, vm, "t", SnapshotScreen,
                                lambda screen: screen.snap_tree is not None)


# -- read-only ---------------------------------------------------------------------------------

async def test_readonly_footer_help_and_keys_offer_no_action(make_app, demo_uri):
    app = make_app(demo_uri, readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        assert not footer_keys(app) & {"s", "d", "r", "p", "F", "R", "M"}
        assert "Shutdown" not in screen_text(app)
        await pilot.press("s")  # start on a running VM, read-only: still says why
        await wait_for(pilot, lambda: len(app._notifications) == 1)
        assert "Read-only" in list(app._notifications)[0].message
        await pilot.press("n")  # refused without opening the tree first
        await wait_for(pilot, lambda: len(app._notifications) == 2)
        assert app.screen is app.domain_list
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        assert "Read-only" in text and "force off" not in text and "shutdown" not in text
        await pilot.press("escape")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen)
                       and app.screen.snap_tree is not None)
        assert not footer_keys(app) & {"n", "v", "D"}
        for key in ("n", "v", "D"):
            await pilot.press(key)
        await wait_for(pilot, lambda: sum("snapshots cannot be changed" in n.message
                                          for n in app._notifications) == 3)
        assert isinstance(app.screen, SnapshotScreen)  # no dialog opened


async def test_a_power_key_that_does_not_apply_says_why(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("s")
        await wait_for(pilot, lambda: any("win10 is running: start is for a shut-off VM" in n.message
                                          for n in app._notifications))
        assert state_of(app, "win10") == libvirt.VIR_DOMAIN_RUNNING


# -- progress and results ----------------------------------------------------------------------

async def test_every_power_action_ends_with_a_message_naming_the_vm(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "db-storage")
        for key, said in (("p", "db-storage paused"), ("p", "db-storage resumed"),
                          ("r", "db-storage asked to reboot")):
            await pilot.press(key)
            await wait_for(pilot, lambda: any(n.message == said for n in app._notifications))
        await pilot.press("R")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: any(n.message == "db-storage reset" for n in app._notifications))
        records = [(r.action, r.confirmed, r.ok) for r in app.action_log.records]
        assert records == [("pause", False, True), ("resume", False, True),
                           ("reboot", False, True), ("reset", True, True)]
        key = app.domain_list.selected.key
        assert key not in app.domain_list.activity  # nothing is shown as still under way


async def test_a_disconnected_host_shows_no_figures_and_is_not_counted_as_running(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        (uri,) = app.fleet.connections
        app.post_message(FleetChanged(ConnectionChanged(uri, ConnectionStatus.DISCONNECTED,
                                                        "end of file from server")))
        await wait_for(pilot, lambda: "17 disconnected" in screen_text(app))
        first_line = screen_text(app).splitlines()[0]
        assert "0 running" in first_line
        await select(pilot, "win10")
        assert app.domain_list.table.row_text(app.domain_list.selected.key)["state"] == "disconnected"
        assert not footer_keys(app) & {"d", "F"}


# -- the snapshot tree -------------------------------------------------------------------------

async def test_a_tree_that_fits_is_shown_whole_and_enter_never_reverts(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_tree(pilot, "win10")
        dom = libvirt_domain(app, "win10")
        text = screen_text(app)
        assert all(name in text for name in dom.snapshotListNames(0))  # every node on screen
        assert {"space", "a"} <= footer_keys(app)  # open/close one, open all: in the footer
        current = dom.snapshotCurrent(0).getName()
        for _ in range(3):
            await pilot.press("down", "enter")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, RevertScreen)
        assert dom.snapshotCurrent(0).getName() == current
        await pilot.press("A")  # all closed: only the roots are left
        await pilot.pause(0.1)
        assert sum(name in screen_text(app) for name in dom.snapshotListNames(0)) < len(
            dom.snapshotListNames(0))
        await pilot.press("a")
        await pilot.pause(0.1)
        assert all(name in screen_text(app) for name in dom.snapshotListNames(0))


async def test_escape_closes_the_xml_pane_before_the_screen(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        await pilot.press("X")
        await pilot.pause(0.1)
        assert "<domainsnapshot>" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is screen and "<domainsnapshot>" not in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)


async def test_new_snapshot_from_the_list_then_escape_goes_back_to_the_list(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "vm1")
        await pilot.press("n")
        await wait_for(pilot, lambda: asking(app, CreateSnapshotScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)


async def test_delete_results_name_the_snapshot_and_a_reread_is_no_error(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        await put_cursor_on(pilot, screen, "virtio-drivers")
        await pilot.press("D")
        await wait_for(pilot, lambda: asking(app, DeleteScreen))
        await pilot.press("2", "y")
        await wait_for(pilot, lambda: any(
            n.message == "win10: deleted snapshot 'virtio-drivers' and all below it"
            for n in app._notifications))
        await wait_for(pilot, lambda: "virtio-drivers" not in screen.snap_tree.snapshots)
        assert not [n for n in app._notifications if n.severity == "error"]
        (record,) = app.action_log.records
        assert (record.action, record.snapshot, record.detail, record.confirmed, record.ok) == (
            "snapshot-delete", "virtio-drivers", "subtree", True, True)


async def test_a_failed_snapshot_operation_names_the_snapshot(make_app, demo_uri):
    # The test driver refuses metadata-only deletes: libvirt's words, the snapshot's name.
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        await put_cursor_on(pilot, screen, "office")
        await pilot.press("D")
        await wait_for(pilot, lambda: asking(app, DeleteScreen))
        await pilot.press("3", "y")
        await wait_for(pilot, lambda: any(n.title == "Could not delete snapshot 'office' of win10"
                                          for n in app._notifications))


async def test_a_vm_undefined_elsewhere_is_said_once_and_the_tree_goes_back(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_tree(pilot, "vm1")
        libvirt_domain(app, "vm1").undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
        await pilot.press("ctrl+r")  # and a read that fails must not schedule another
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        await pilot.pause(1.0)
        said = [n for n in app._notifications if "vm1" in n.message or "vm1" in n.title]
        assert len(said) == 1 and "no longer exists" in said[0].message


async def test_notifications_never_cover_a_question(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await select(pilot, "db-storage")
        for key in ("p", "p", "r"):  # three notifications, bottom right, where buttons are
            await pilot.press(key)
            await pilot.pause(0.1)
        await pilot.press("F")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.pause(0.2)
        toasts = list(app.screen.query("Toast"))
        assert toasts and not any(t.visible for t in toasts)
        assert "Force off (y)" in screen_text(app) and "Cancel (n)" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        await pilot.pause(0.2)
        assert any(t.visible for t in app.screen.query("Toast"))  # back where they were
