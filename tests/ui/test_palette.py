"""ctrl+p lists what applies here to the current VM, each with its key, and runs it as the key
does: typed into as a user would, and checked by asking libvirt."""

from __future__ import annotations

import libvirt
import pytest
from textual.command import CommandList, CommandPalette

from kvmtui.keys import ACTING, HELP
from kvmtui.screens.bulk_dialogs import BulkConfirmScreen
from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.details import DomainDetailsScreen
from kvmtui.screens.snapshots import SnapshotScreen
from kvmtui.virt.domain.power import SPECS
from tests.helpers import (
    MARKUP_NAMES,
    asking,
    copy_demo_fleet,
    open_app,
    open_from_list,
    open_tree,
    select,
    state_of,
    wait_for,
    write_markup_fleet,
)

RUNNING, PAUSED, SHUTOFF = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED,
                            libvirt.VIR_DOMAIN_SHUTOFF)
POWER_LABELS = tuple(spec.label for spec in SPECS.values())


def listed(app) -> list[tuple[str, str]]:
    """(title as shown, help as shown) of every command the open palette lists."""
    options = app.screen.query_one(CommandList).options
    return [(o.hit.prompt.plain, str(o.hit.help)) for o in options]


def titles(app) -> list[str]:
    return [title for title, _ in listed(app)]


async def open_palette(pilot) -> None:
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: CommandPalette.is_open(pilot.app)
                   and pilot.app.screen.has_class("-ready") and titles(pilot.app))


async def find(pilot, query: str, first: str) -> None:
    """Type the query into the open palette; wait until `first` is the best hit."""
    await pilot.press(*["space" if c == " " else c for c in query])
    await wait_for(pilot, lambda: titles(pilot.app)[:1] == [first])


async def run(pilot, query: str, title: str) -> None:
    await open_palette(pilot)
    await find(pilot, query, title)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not CommandPalette.is_open(pilot.app))


async def test_lists_the_vms_power_actions_that_apply_with_their_keys(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await open_palette(pilot)
        shown = dict(listed(app))
        assert shown["Pause win10"] == "p  " + HELP["pause"][0]
        assert shown["Force off win10"].startswith("F  force off")
        assert shown["Details of win10"].startswith("enter  details")
        assert shown["Sort by Memory"].startswith("o  sort")
        assert "Start win10" not in shown and "Resume win10" not in shown
        assert titles(app)[:6] == [f"{label} win10" for label in (
            "Shutdown", "Reboot", "Pause", "Force off", "Reset", "Save")]  # the subject first
        assert not any(t in shown for t in ("Up", "Down", "Palette", "Yes"))
        await pilot.press("escape")
        await select(pilot, "vm1")
        await open_palette(pilot)
        power = [t for t in titles(app) if t.startswith(POWER_LABELS)]
        assert power == ["Start vm1"]


async def test_finds_and_runs_pause(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await run(pilot, "pause", "Pause win10")
        await wait_for(pilot, lambda: state_of(app, "win10") == PAUSED)
        assert [(r.vm, r.action) for r in app.action_log.records] == [("win10", "pause")]
        await open_palette(pilot)  # now paused: resume, not pause
        assert "Resume win10" in titles(app) and "Pause win10" not in titles(app)


async def test_with_marks_it_names_and_acts_on_the_marked_vms(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        for vm in ("win10", "db-storage"):
            await select(pilot, vm)
            await pilot.press("space")
        await select(pilot, "router")
        await open_palette(pilot)
        assert "Pause 2 marked VMs" in titles(app) and "Pause router" not in titles(app)
        assert "New snapshot of 2 marked VMs" in titles(app)
        await pilot.press("escape")
        await run(pilot, "pause 2", "Pause 2 marked VMs")
        await wait_for(pilot, lambda: asking(app, BulkConfirmScreen))  # one question for both
        await pilot.press("y")
        await wait_for(pilot, lambda: state_of(app, "win10") == PAUSED
                       and state_of(app, "db-storage") == PAUSED)
        assert state_of(app, "router") != PAUSED  # under the cursor, not marked


async def test_a_destructive_one_asks_first(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "web-macvtap")
        await run(pilot, "force off", "Force off web-macvtap")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        assert "web-macvtap" in app.screen.question
        assert state_of(app, "web-macvtap") == RUNNING
        await pilot.press("y")
        await wait_for(pilot, lambda: state_of(app, "web-macvtap") == SHUTOFF)
        assert [(r.action, r.confirmed) for r in app.action_log.records] == [("force_off", True)]


async def test_sort_by_memory_sorts_the_list(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await run(pilot, "sort by memory", "Sort by Memory")
        shown = app.domain_list.shown_domains()
        assert app.domain_list.table.sort_column == "memory"
        assert [s.memory_kib for s in shown] == sorted(s.memory_kib for s in shown)
        assert [s.name for s in shown] != sorted(s.name for s in shown)
        await open_palette(pilot)  # sorted by it: picking it again is "Reverse the order"
        assert "Sort by Memory" not in titles(app) and "Sort by Name" in titles(app)


async def test_read_only_lists_no_acting_command(make_app, demo_uri):
    app = make_app(demo_uri, readonly=True)
    acting_titles = (*POWER_LABELS, "New snapshot", "Revert", "Delete")
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await open_palette(pilot)
        assert "Details of win10" in titles(app)
        assert not [t for t in titles(app) if t.startswith(acting_titles)]
        assert not [h for _, h in listed(app) if h.split("  ")[1] in
                    {HELP[i][0] for i in ACTING}]
        await find(pilot, "force", "Performance of win10")  # the nearest there is
        assert "Force off win10" not in titles(app)
        await pilot.press("escape")
        await open_tree(pilot, "win10")
        await open_palette(pilot)
        assert "Open all branches" in titles(app)
        assert not [t for t in titles(app) if t.startswith(acting_titles)]


async def test_on_a_vm_screen(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_from_list(pilot, "db-storage", "enter", DomainDetailsScreen,
                                      lambda s: s.details is not None)
        await open_palette(pilot)
        shown = titles(app)
        assert {"Pause db-storage", "Snapshot tree of db-storage", "Performance of db-storage",
                "Memory tab", "Back"} <= set(shown)
        assert "Details of db-storage" not in shown and "Start db-storage" not in shown
        await find(pilot, "pause", "Pause db-storage")
        await pilot.press("enter")
        await wait_for(pilot, lambda: state_of(app, "db-storage") == PAUSED)
        assert app.screen is screen
        await run(pilot, "snapshot tree", "Snapshot tree of db-storage")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen))
        assert app.screen.summary.name == "db-storage"


async def test_names_are_shown_as_typed_never_as_markup(make_app, tmp_path):
    app = make_app(write_markup_fleet(tmp_path / "markup.xml"))
    async with app.run_test(size=(100, 30)) as pilot:
        for name in MARKUP_NAMES:
            await select(pilot, name)
            await open_palette(pilot)
            assert f"Force off {name}" in titles(app)
            await find(pilot, "pause", f"Pause {name}")  # highlighted, still the same text
            await pilot.press("escape")
        await run(pilot, "pause", "Pause x[@click=app.quit]y")
        await wait_for(pilot, lambda: state_of(app, "x[@click=app.quit]y") == PAUSED)
        assert app.is_running


async def test_refresh_every(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        current = f"Refresh every {app.sampler.interval:g} s"
        await open_palette(pilot)
        assert "Refresh every 5 s" in titles(app) and current not in titles(app)
        await pilot.press("escape")
        await run(pilot, "every 5", "Refresh every 5 s")
        assert app.sampler.interval == 5


@pytest.fixture
def demo_app(tmp_path):
    app = open_app(copy_demo_fleet(tmp_path))
    yield app
    app.fleet.close()


def test_palette_snapshot(snap_compare, demo_app):
    async def open_it(pilot):
        await select(pilot, "win10")
        await open_palette(pilot)
        await pilot.pause(0.1)

    assert snap_compare(demo_app, terminal_size=(80, 24), run_before=open_it)
