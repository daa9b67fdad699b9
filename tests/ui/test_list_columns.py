"""The list at 80×24: columns by priority, Name capped and frozen, `C` to choose columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kvmtui.screens.columns_dialog import ColumnsScreen
from kvmtui.virt.columns import BY_KEY
from kvmtui.virt.session.config import load_config
from kvmtui.widgets.table_layout import NAME_CAP
from tests.helpers import asking, open_app, screen_text, wait_for, write_fleet

LONG = "production-database-replica-eu-west-primary-cluster-node-"


def write_long_names(path: Path, count: int = 30) -> str:
    """A fleet where every third VM has a 60-character name (told apart only by its end)."""
    uri = write_fleet(path, count)
    text = path.read_text()
    text = re.sub(r"<name>vm(\d+)</name>",
                  lambda m: f"<name>{LONG if int(m[1]) % 3 == 0 else 'web-'}{m[1]}</name>", text)
    path.write_text(text)
    return uri


@pytest.fixture
def long_app(tmp_path):
    app = open_app(write_long_names(tmp_path / "long.xml"), config_path=tmp_path / "c.toml")
    yield app
    app.fleet.close()


def on_screen_rows(app) -> list[dict[str, str]]:
    table = app.domain_list.table
    top = int(table.scroll_y)
    height = table.scrollable_content_region.height - 1
    return [table.screen_row(k) for k in table.shown_keys()[top:top + height]]


async def test_80_columns_show_what_matters_and_no_empty_figures(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)):
        table = app.domain_list.table
        # the test driver reports no figures: no empty CPU%, Exits/s or rate columns
        assert not any(BY_KEY[c.key].live for c in table.columns)
        assert table.visible_labels()[:5] == ["Id", "Name", "State", "vCPUs", "Memory"]
        header = screen_text(app).splitlines()[2]
        assert "Memory" in header and "CPU%" not in header


async def test_long_names_are_shortened_visibly_and_keep_both_ends(long_app):
    async with long_app.run_test(size=(80, 24)):
        rows = on_screen_rows(long_app)
        shortened = [r["name"] for r in rows if "…" in r["name"]]
        assert shortened, "no long name on screen"
        for name in shortened:
            assert len(name) <= NAME_CAP
            assert name.startswith(LONG[:8]) and re.search(r"-\d{4}$", name)
        assert len({r["name"] for r in rows}) == len(rows)  # still told apart
        # the rest of the row is still there at 80 columns
        assert long_app.domain_list.table.visible_labels()[:5] == [
            "Id", "Name", "State", "vCPUs", "Memory"]
        text = screen_text(long_app)
        assert all(len(line) <= 80 for line in text.splitlines())


async def test_name_and_id_stay_when_the_table_scrolls_sideways(long_app):
    async with long_app.run_test(size=(80, 24)) as pilot:
        table = long_app.domain_list.table
        before = on_screen_rows(long_app)
        assert "persistent" not in before[0]  # beyond the right edge
        assert screen_text(long_app).splitlines()[2].rstrip().endswith("›")
        for _ in range(5):
            await pilot.press("right")
        after = on_screen_rows(long_app)
        assert "persistent" in after[0]
        assert [(r["id"], r["name"]) for r in after] == [(r["id"], r["name"]) for r in before]
        header = screen_text(long_app).splitlines()[2]
        assert header.lstrip().startswith("Id  Name") and "‹" in header
        await pilot.press("left", "left", "left", "left", "left")
        assert table.column_offset == 0 and on_screen_rows(long_app) == before


async def test_choose_columns_then_save_them(long_app, tmp_path):
    async with long_app.run_test(size=(80, 24)) as pilot:
        table = long_app.domain_list.table
        await pilot.press("C")
        await wait_for(pilot, lambda: asking(long_app, ColumnsScreen))
        chooser = long_app.screen
        assert "Columns" in screen_text(long_app)
        # Memory up above vCPUs, State hidden
        keys = [k for k, _ in chooser.items]
        for _ in range(keys.index("memory")):
            await pilot.press("down")
        await pilot.press("K")
        await pilot.press("up", "up")  # past CPU%, on State
        assert chooser.items[chooser.options.highlighted][0] == "state"
        await pilot.press("space")
        await pilot.press("S")
        await wait_for(pilot, lambda: long_app.screen is long_app.domain_list)
        chosen = [k for k in table.chosen]
        assert "state" not in chosen
        assert chosen.index("memory") < chosen.index("vcpus")
        assert "State" not in table.visible_labels()
        assert load_config(tmp_path / "c.toml").columns == tuple(chosen)


async def test_chooser_says_which_chosen_columns_no_host_can_fill(long_app):
    # the test driver reports no live figures: CPU% is chosen yet not in the list, and `C`
    # says why instead of letting it vanish silently
    async with long_app.run_test(size=(100, 30)) as pilot:
        await pilot.press("C")
        await wait_for(pilot, lambda: asking(long_app, ColumnsScreen))
        note = str(long_app.screen.query_one("#unfilled").content)
        assert "cpu" in long_app.domain_list.table.chosen
        assert "CPU%" not in long_app.domain_list.table.visible_labels()
        assert note.startswith("No host reports CPU%, Exits/s, Used, CPU history, Disk R/s")
        assert "Memory" not in note
        assert "the list leaves them out until one does" in " ".join(
            screen_text(long_app).split())


async def test_keys_typed_before_the_chooser_appeared_change_nothing(long_app):
    async with long_app.run_test(size=(80, 24)) as pilot:
        table = long_app.domain_list.table
        before = table.chosen
        await pilot.press("C", "space", "enter")  # one burst
        await wait_for(pilot, lambda: isinstance(long_app.screen, ColumnsScreen))
        await pilot.pause(0.1)
        assert isinstance(long_app.screen, ColumnsScreen)
        assert table.chosen == before
        await wait_for(pilot, lambda: asking(long_app, ColumnsScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: long_app.screen is long_app.domain_list)
        assert table.chosen == before


async def test_name_cannot_be_hidden(long_app):
    async with long_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("C")
        await wait_for(pilot, lambda: asking(long_app, ColumnsScreen))
        await pilot.press("down", "space", "enter")  # Name is second
        await wait_for(pilot, lambda: long_app.screen is long_app.domain_list)
        assert "name" in long_app.domain_list.table.chosen


def test_list_of_long_names_at_80x24(snap_compare, long_app):
    assert snap_compare(long_app, terminal_size=(80, 24))


def test_list_scrolled_sideways_at_80x24(snap_compare, long_app):
    assert snap_compare(long_app, terminal_size=(80, 24), press=["right", "right", "right"])
