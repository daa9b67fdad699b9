"""Keys users expect (issue 12): `?` Help and `q` Quit always in the footer, even at 80 or 60
columns; ctrl+c quits from anywhere, as in htop; `o` sorts by a column picked by its header's name."""

from __future__ import annotations

import pytest

from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.details import DomainDetailsScreen
from kvmtui.screens.hosts import HostsScreen
from kvmtui.screens.performance import PerformanceScreen
from kvmtui.screens.snapshot_dialogs import CreateSnapshotScreen
from kvmtui.screens.snapshots import SnapshotScreen
from kvmtui.screens.sort_dialog import SortScreen
from kvmtui.widgets.key_footer import KeyFooter
from tests.helpers import (
    asking,
    copy_demo_fleet,
    libvirt_domain,
    open_app,
    screen_text,
    select,
    wait_for,
)


def footer_line(app) -> str:
    return screen_text(app).splitlines()[-1]


def assert_footer_whole(app) -> None:
    """Help and Quit are on screen, and every key the footer shows is there whole, in order."""
    line = footer_line(app)
    shown = [f"{key} {what}" for key, what in app.screen.query_one(KeyFooter).shown_keys()]
    assert {"? Help", "q Quit"} <= set(shown), line
    position = 0
    for text in shown:
        found = line.find(text, position)
        assert found >= 0, f"{text!r} is not whole in {line!r}"
        position = found + len(text)


# -- the footer --------------------------------------------------------------------------------

VM_SCREENS = [("enter", DomainDetailsScreen), ("t", SnapshotScreen),
              ("x", PerformanceScreen), ("H", HostsScreen)]


@pytest.mark.parametrize("width", [80, 60])
async def test_footer_keeps_help_and_quit_on_every_screen(make_app, demo_uri, width):
    app = make_app(demo_uri)
    async with app.run_test(size=(width, 24)) as pilot:
        await select(pilot, "win10")  # running: the most power keys in the footer
        await pilot.pause(0.1)
        assert_footer_whole(app)
        assert footer_line(app).startswith("d Shutdown r Reboot")  # the screen's first keys
        for key, screen_type in VM_SCREENS:
            await pilot.press(key)
            await wait_for(pilot, lambda t=screen_type: isinstance(app.screen, t))
            await pilot.pause(0.3)
            assert_footer_whole(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.domain_list)


async def test_footer_refits_when_the_terminal_resizes(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(160, 24)) as pilot:
        await select(pilot, "win10")
        await pilot.pause(0.1)
        wide = footer_line(app)
        assert "/ Filter" in wide and "^p" in wide  # everything fits, the palette too
        await pilot.resize_terminal(60, 24)
        await pilot.pause(0.1)
        assert "/ Filter" not in footer_line(app) and "^p" not in footer_line(app)
        assert_footer_whole(app)
        await pilot.resize_terminal(160, 24)
        await pilot.pause(0.1)
        assert footer_line(app) == wide


# -- ctrl+c ------------------------------------------------------------------------------------

async def quits(pilot) -> bool:
    await pilot.press("ctrl+c")
    await wait_for(pilot, lambda: pilot.app.return_code is not None)
    return pilot.app.return_code == 0


async def test_ctrl_c_quits_from_the_list(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await quits(pilot)


async def test_ctrl_c_quits_from_a_vm_screen(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, "win10")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DomainDetailsScreen))
        assert await quits(pilot)


async def test_ctrl_c_quits_while_typing_a_filter(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"win")
        assert app.focused is app.domain_list.query_one("#filter")
        assert await quits(pilot)


async def test_ctrl_c_quits_from_the_new_snapshot_dialog(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        snapshots = libvirt_domain(app, "vm1").snapshotNum(0)
        await select(pilot, "vm1")
        await pilot.press("n")
        await wait_for(pilot, lambda: asking(app, CreateSnapshotScreen))
        await pilot.press(*"abc")  # typing the name: the focus is in a text field
        assert await quits(pilot)
        assert libvirt_domain(app, "vm1").snapshotNum(0) == snapshots  # nothing was created


async def test_ctrl_c_quits_from_a_question_without_answering_it(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, "win10")
        await pilot.press("F")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        assert await quits(pilot)
        assert libvirt_domain(app, "win10").isActive()


async def test_ctrl_c_quits_from_the_sort_chooser(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: asking(app, SortScreen))
        assert await quits(pilot)


# -- sort by a column's name -------------------------------------------------------------------

def shown_names(app) -> list[str]:
    """The VMs' names in the order the list shows them, top to bottom."""
    table = app.domain_list.table
    return [table.row_text(key)["name"] for key in table.shown_keys()]


async def on_screen(pilot) -> str:
    await pilot.pause(0.05)  # the list drawn again once the chooser is gone
    return screen_text(pilot.app)


def by_memory(app) -> list[str]:
    """The demo lab's VMs by memory, as libvirt reports it (ties by name)."""
    (connection,) = app.fleet.connections.values()
    domains = connection.conn.listAllDomains(0)
    return [d.name() for d in sorted(domains, key=lambda d: (d.info()[2], d.name().lower()))]


async def pick(pilot, label_keys: str) -> None:
    """Open the chooser, move to a column by typing, and take it with enter."""
    await pilot.press("o")
    await wait_for(pilot, lambda: asking(pilot.app, SortScreen))
    await pilot.press(*label_keys, "enter")
    await wait_for(pilot, lambda: pilot.app.screen is pilot.app.domain_list)


async def test_sort_by_a_column_picked_by_its_label(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: asking(app, SortScreen))
        chooser = app.screen
        text = screen_text(app)
        assert "Sort by" in text and "Name ▲" in text and "vCPUs" in text
        await pilot.press("m")  # the first label starting with m
        assert chooser.highlighted_key == "memory"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        assert shown_names(app) == by_memory(app)
        assert "Memory ▲" in await on_screen(pilot)  # the header says it
        await pick(pilot, "m")  # the same column again: the other way round
        assert shown_names(app) == by_memory(app)[::-1]
        assert "Memory ▼" in await on_screen(pilot)


async def test_a_letter_steps_through_the_labels_starting_with_it(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(160, 30)) as pilot:
        # the columns a host with figures offers (the test driver has none)
        columns = [("name", "Name"), ("cpu", "CPU%"), ("disk_read", "Disk R/s"),
                   ("disk_write", "Disk W/s"), ("memory", "Memory")]
        app.push_screen(SortScreen(columns, "name", False))
        await wait_for(pilot, lambda: asking(app, SortScreen))
        chooser = app.screen
        seen = []
        for _ in range(3):
            await pilot.press("d")
            seen.append(chooser.highlighted_key)
        assert seen == ["disk_read", "disk_write", "disk_read"]


async def test_escape_leaves_the_order_as_it_was(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(160, 30)) as pilot:
        await pick(pilot, "m")
        before = shown_names(app)
        await pilot.press("o")
        await wait_for(pilot, lambda: asking(app, SortScreen))
        await pilot.press("s", "escape")  # moved to State, then changed their mind
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        assert shown_names(app) == before
        assert "Memory ▲" in await on_screen(pilot)


async def test_enter_typed_before_the_chooser_appeared_picks_nothing(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(160, 30)) as pilot:
        before = shown_names(app)
        await pilot.press("o", "m", "enter")  # one burst, as over a slow link
        # the chooser comes, and stays: the enter typed before it picked nothing
        await wait_for(pilot, lambda: isinstance(app.screen, SortScreen))
        await pilot.pause(0.1)
        assert isinstance(app.screen, SortScreen)
        assert shown_names(app) == before


async def test_capital_o_still_reverses_directly(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(160, 30)) as pilot:
        before = shown_names(app)
        await pilot.press("O")
        assert shown_names(app) == before[::-1]
        assert isinstance(app.screen, type(app.domain_list))


@pytest.fixture
def demo_app(tmp_path):
    app = open_app(copy_demo_fleet(tmp_path))
    yield app
    app.fleet.close()


def test_sort_chooser_snapshot(snap_compare, demo_app):
    async def open_chooser(pilot):
        await pilot.press("o")
        await wait_for(pilot, lambda: asking(pilot.app, SortScreen))
        await pilot.press("down", "down")  # arrows move, as in any list

    assert snap_compare(demo_app, terminal_size=(80, 24), run_before=open_chooser)


async def test_ctrl_c_quits_even_the_moment_a_question_appears(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, "win10")
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert await quits(pilot)  # quitting is never an answer: no guard for it
        assert libvirt_domain(app, "win10").isActive()
