"""`L`: the action log shows what kvmtui did and what libvirt reported, as a user reads it."""

from __future__ import annotations

import itertools

import pytest

from kvmtui.screens.action_log import ActionLogScreen
from kvmtui.screens.domain_list import DomainListScreen
from tests.helpers import (
    MARKUP_NAMES,
    copy_demo_fleet,
    libvirt_domain,
    open_app,
    screen_text,
    select,
    wait_for,
    write_markup_fleet,
)

PAUSED = 3
NOON = 1_700_049_600.0  # 12:00:00 UTC


def log_rows(app) -> list[str]:
    """The log's table as on screen, one line per entry, spaces squeezed."""
    table = app.screen.query_one("#log")
    lines = screen_text(app).splitlines()
    top = table.region.y + 1  # below the header
    return [" ".join(line.split()) for line in lines[top:top + table.row_count]]


def detail(app) -> str:
    return " ".join(str(app.screen.query_one("#detail").render()).split())


async def act(pilot, vm: str, key: str) -> None:
    """A power key on the list, waited for until libvirt's call has returned."""
    app = pilot.app
    before = len(app.action_log.records)
    await select(pilot, vm)
    await pilot.press(key)
    await wait_for(pilot, lambda: len(app.action_log.records) > before
                   and app.action_log.records[-1].done)


async def open_log(pilot) -> ActionLogScreen:
    await pilot.press("L")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ActionLogScreen))
    await pilot.pause(0.05)
    return pilot.app.screen


async def test_a_power_key_shows_in_the_log_with_its_result_and_event(make_app, demo_uri):
    app = make_app(demo_uri)
    app.action_log.clock = lambda: NOON
    async with app.run_test(size=(100, 30)) as pilot:
        await act(pilot, "db-storage", "p")
        await wait_for(pilot, lambda: libvirt_domain(app, "db-storage").state()[0] == PAUSED)
        await pilot.pause(0.1)  # libvirt's event reaches the app
        await open_log(pilot)
        assert screen_text(app).splitlines()[0].strip().startswith(
            "Action log — 1 action, 1 event")
        assert log_rows(app) == [
            "12:00:00 demo-fleet db-storage suspended (paused) event",
            "12:00:00 demo-fleet db-storage pause done",
        ]


async def test_a_failed_action_shows_libvirts_message(make_app, demo_uri):
    # the test driver cannot wake a pmsuspended domain, and says so
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await act(pilot, "laptop-sleep", "s")
        await open_log(pilot)
        (row,) = log_rows(app)
        assert "laptop-sleep wake up FAILED: this function" in row  # cut at 80 columns
        # the whole message, wrapped below the table at 80 columns
        assert "wake up: failed · sent by kvmtui" in detail(app)
        assert "not supported by the connection driver: virDomainPMWakeup" in detail(app)
        assert "virDomainPMWakeup" in screen_text(app).replace("\n", " ")


async def test_an_event_from_libvirt_appears_while_the_log_is_open_newest_first(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await act(pilot, "vm1", "s")
        await open_log(pilot)
        assert [r.split()[2:4] for r in log_rows(app)][-1] == ["vm1", "start"]
        # a change kvmtui did not make: libvirt reports it as it would another client's
        libvirt_domain(app, "win10").suspend()
        await wait_for(pilot, lambda: any("win10" in r for r in log_rows(app)))
        rows = log_rows(app)
        assert rows[0].split()[2:] == ["win10", "suspended", "(paused)", "event"]
        assert rows[-1].split()[2:] == ["vm1", "start", "done"]
        assert "win10 on demo-fleet" in detail(app)  # the cursor follows the newest entry
        assert "reported by libvirt" in detail(app)
        # reading an older entry: new ones arrive above it and it stays selected
        await pilot.press("down", "down")
        assert "start: done · sent by kvmtui" in detail(app)
        libvirt_domain(app, "win10").resume()
        await wait_for(pilot, lambda: "resumed" in log_rows(app)[0])
        assert "vm1 on demo-fleet" in detail(app) and "start: done" in detail(app)


async def test_the_filter_narrows_and_escape_clears_it_then_goes_back(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await act(pilot, "vm1", "s")
        await act(pilot, "win10", "p")
        await open_log(pilot)
        assert any("vm1" in r for r in log_rows(app))
        await pilot.press("slash", "w", "i", "n", "enter")
        rows = log_rows(app)
        assert rows and all("win10" in r for r in rows)
        assert "filter: win" in screen_text(app).splitlines()[0]
        await pilot.press("escape")  # the filter goes first
        assert any("vm1" in r for r in log_rows(app))
        assert isinstance(app.screen, ActionLogScreen)
        await pilot.press("slash", "n", "o", "p", "e")
        assert log_rows(app) == []
        assert "Nothing matches 'nope'" in detail(app)
        await pilot.press("escape", "escape")  # clears, then back to the list
        assert isinstance(app.screen, DomainListScreen)


async def test_typing_l_in_the_filter_types_it_and_l_goes_back(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_log(pilot)
        assert "Nothing yet" in detail(app)
        await pilot.press("slash", "L")
        assert app.screen.filter_text == "L"
        await pilot.press("enter", "L")
        assert isinstance(app.screen, DomainListScreen)


async def test_names_full_of_markup_read_as_typed(make_app, tmp_path):
    app = make_app(write_markup_fleet(tmp_path / "markup.xml"))
    async with app.run_test(size=(100, 30)) as pilot:
        for name in MARKUP_NAMES:
            await act(pilot, name, "p")
        await open_log(pilot)
        text = screen_text(app)
        for name in MARKUP_NAMES:
            assert f"{name} pause" in " ".join(text.split())


# -- pictures ----------------------------------------------------------------------------------


@pytest.fixture
def log_app(tmp_path):
    app = open_app(copy_demo_fleet(tmp_path))
    seconds = itertools.count(int(NOON), 7)  # each entry 7 s after the one before
    app.action_log.clock = lambda: float(next(seconds))
    yield app
    app.fleet.close()


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_action_log_snapshots(snap_compare, log_app, size):
    async def fill_and_open(pilot):
        await act(pilot, "db-storage", "p")
        await wait_for(pilot, lambda: len(log_app.action_log.events) == 1)
        await act(pilot, "laptop-sleep", "s")
        log_app.clear_notifications()
        await open_log(pilot)

    assert snap_compare(log_app, terminal_size=size, run_before=fill_and_open)
