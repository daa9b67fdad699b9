"""Names, descriptions, filter terms and libvirt's messages are shown as text, never as markup."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.details import DomainDetailsScreen
from kvmtui.screens.snapshots import SnapshotScreen
from tests.helpers import (
    MARKUP_NAMES,
    asking,
    libvirt_domain,
    screen_text,
    select,
    wait_for,
    write_markup_fleet,
)


def _snapshot(dom, name: str, description: str) -> None:
    root = ET.Element("domainsnapshot")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "description").text = description
    dom.snapshotCreateXML(ET.tostring(root, encoding="unicode"), 0)


@pytest.mark.parametrize("name", MARKUP_NAMES)
async def test_every_key_on_a_vm_named_with_markup_shows_the_name_as_typed(make_app, tmp_path, name):
    app = make_app(write_markup_fleet(tmp_path / "markup.xml"))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        assert name in screen_text(app)
        await select(pilot, name)
        for key in ("p", "p", "r"):  # pause, resume, reboot: each ends in a notification
            await pilot.press(key)
            await pilot.pause(0.1)
        await wait_for(pilot, lambda: any(n.message == f"{name} asked to reboot"
                                          for n in app._notifications))
        # drawn as plain text (with markup, these names raise MarkupError or lose their brackets)
        await wait_for(pilot, lambda: f"{name} asked to reboot" in screen_text(app))
        await pilot.press("F")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        assert f"Force off {name}?" in screen_text(app)
        await pilot.press("n")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DomainDetailsScreen))
        await pilot.pause(0.2)
        assert name in screen_text(app)
        await pilot.press("escape")
        assert app.return_code is None and app._exception is None


async def test_snapshot_names_and_descriptions_with_markup_are_shown_as_typed(make_app, tmp_path):
    app = make_app(write_markup_fleet(tmp_path / "markup.xml"))
    dom = libvirt_domain(app, MARKUP_NAMES[0])
    _snapshot(dom, "[bold]s1", "[link=a:b]click[/link]\tand a tab")
    _snapshot(dom, "a[red]b", "[red]")
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, MARKUP_NAMES[0])
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen)
                       and app.screen.snap_tree is not None)
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "a[red]b" in text and "[bold]s1" in text
        await pilot.press("up")
        await pilot.pause(0.1)
        assert "[link=a:b]click[/link]" in screen_text(app)
        await pilot.press("X")  # the XML view, as libvirt wrote it
        await pilot.pause(0.1)
        assert "<name>" in screen_text(app)
        assert app._exception is None


@pytest.mark.parametrize("term", ["state:[/]", "[link=a:b]", "[bold]", "name:[/x]"])
async def test_filter_terms_with_markup_never_break_the_screen(make_app, tmp_path, term):
    app = make_app(write_markup_fleet(tmp_path / "markup.xml"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *term)
        await pilot.pause(0.2)
        assert app._exception is None
        assert term in screen_text(app)  # the box shows what was typed
        await pilot.press("escape")
        assert len(app.domain_list.table.shown_keys()) == len(MARKUP_NAMES)
