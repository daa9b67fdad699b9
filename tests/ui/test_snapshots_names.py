"""Snapshot names: what is in the name box is what libvirt stores, or it is refused with the
reason. Pasted line breaks and control characters stay in sight instead of being dropped."""

from __future__ import annotations

import pytest
from textual import events

from kvmtui.screens.snapshot_dialogs import CreateSnapshotScreen, DeleteScreen
from kvmtui.virt.domain import snapshots as snaps
from tests.helpers import asking, libvirt_domain, names, open_tree, put_cursor_on, screen_text, wait_for


async def ask_for_a_snapshot(app, pilot, vm: str = "win10"):
    screen = await open_tree(pilot, vm)
    await pilot.press("n")
    await wait_for(pilot, lambda: asking(app, CreateSnapshotScreen))
    app.screen.query_one("#name").value = ""
    return screen


async def paste(app, pilot, text: str) -> None:
    """As a terminal delivers a bracketed paste: the text in one event, to the focused box."""
    app.post_message(events.Paste(text))
    await pilot.pause(0.05)


def error_text(app) -> str:
    return str(app.screen.query_one("#error").render())


@pytest.mark.parametrize("pasted,shown,reason", [
    ("line1\nline2", "line1⏎line2", "a snapshot name cannot contain a line break"),
    ("before\r\n", "before⏎⏎", "a snapshot name cannot contain a line break"),
    ("^x\x1besc", "^x␛esc", "a snapshot name cannot contain U+001B (escape)"),
    ("a\tb", "a␉b", "a snapshot name cannot contain U+0009 (tab)"),
])
async def test_a_pasted_name_is_kept_whole_shown_and_refused_with_the_reason(
        make_app, demo_uri, pasted, shown, reason):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask_for_a_snapshot(app, pilot)
        dom = libvirt_domain(app, "win10")
        before = names(dom)
        await paste(app, pilot, pasted)
        assert app.screen.query_one("#name").value == pasted  # nothing dropped or changed
        assert shown in screen_text(app)  # every character in sight, no raw escape drawn
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CreateSnapshotScreen)  # still asking
        assert reason in error_text(app)
        assert names(dom) == before  # not 'line1', not '^xesc': nothing


@pytest.mark.parametrize("name", ["deploy 👩\u200d💻", "flag 🏳️\u200d🌈 and ZWJ\u200dinside"])
async def test_emoji_with_zero_width_joiners_are_stored_exactly(make_app, demo_uri, name):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ask_for_a_snapshot(app, pilot)
        await paste(app, pilot, name)
        await pilot.press("enter")
        dom = libvirt_domain(app, "win10")
        await wait_for(pilot, lambda: name in names(dom))
        await wait_for(pilot, lambda: screen.snap_tree and name in screen.snap_tree.snapshots)


@pytest.mark.parametrize("name", [" leading", "trailing ", "nbsp\u00a0"])
async def test_names_with_spaces_at_either_end_are_refused(make_app, demo_uri, name):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask_for_a_snapshot(app, pilot)
        dom = libvirt_domain(app, "win10")
        before = names(dom)
        await paste(app, pilot, name)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "a snapshot name cannot start or end with a space"
                       in error_text(app))
        assert isinstance(app.screen, CreateSnapshotScreen)
        assert names(dom) == before


async def test_a_snapshot_made_elsewhere_with_a_trailing_space_can_be_deleted(make_app, demo_uri):
    """virsh stores 'nightly ' exactly; kvmtui must name it exactly too, or libvirt answers
    'snapshot not found' to the delete."""
    app = make_app(demo_uri)
    dom = libvirt_domain(app, "win10")
    dom.snapshotCreateXML(snaps.snapshot_xml("nightly ", ""), 0)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_tree(pilot, "win10")
        assert "nightly " in screen.snap_tree.snapshots
        assert "'nightly '" in screen_text(app)  # shown quoted: the space is visible
        await put_cursor_on(pilot, screen, "nightly ")
        await pilot.press("D")
        await wait_for(pilot, lambda: asking(app, DeleteScreen))
        await pilot.press("1", "y")
        await wait_for(pilot, lambda: "nightly " not in names(dom))
        await wait_for(pilot, lambda: "nightly " not in screen.snap_tree.snapshots)


def test_the_longest_name_is_the_one_libvirt_can_save():
    # '<name>.xml.new' must fit in a 255-byte file name; checked against libvirtd in
    # tests/integration/test_snapshot_names_real.py
    assert snaps.validate_name("a" * 247, set()) is None
    assert snaps.validate_name("é" * 123 + "a", set()) is None  # 247 bytes in UTF-8
    for name in ("a" * 248, "é" * 124, "a" * 250):
        reason = snaps.validate_name(name, set())
        assert reason is not None and "at most 247 bytes" in reason
        assert f"this one is {len(name.encode())}" in reason


async def test_the_create_button_promises_no_key_and_enter_in_the_description_creates(
        make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask_for_a_snapshot(app, pilot)
        assert str(app.screen.query_one("#yes").label) == "Create"
        assert "(enter)" not in screen_text(app)
        await pilot.press(*"from-description", "tab", *"why", "enter")
        dom = libvirt_domain(app, "win10")
        await wait_for(pilot, lambda: "from-description" in names(dom))
