"""Marks: space, `*` and U mark and unmark VMs; marks stay with their VM (not its row) through
filtering, sorting, events and reconnects, and go with it when it disappears."""

from __future__ import annotations

from kvmtui.virt.domain.marks import Marks
from kvmtui.virt.models import DomainKey
from tests.helpers import libvirt_domain, screen_text, select, wait_for


def marked_names(app) -> set[str]:
    screen = app.domain_list
    return {screen.domains[k].name for k in screen.marks if k in screen.domains}


def header(app) -> str:
    return "\n".join(screen_text(app).splitlines()[:2])


def row_line(app, name: str) -> str:
    return next(line for line in screen_text(app).splitlines() if f" {name} " in line)


async def test_space_marks_the_vm_and_moves_down_and_the_header_counts(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "build-smp")
        await pilot.press("space", "space")
        assert marked_names(app) == {"build-smp", "ci-runner"}
        assert app.domain_list.selected.name == "db-storage"  # moved down after each mark
        await pilot.pause(0.05)
        assert "● 2 marked" in header(app)
        assert row_line(app, "build-smp").startswith("●")  # the glyph, not only a colour
        assert not row_line(app, "db-storage").startswith("●")
        await pilot.press("up", "space")  # space again unmarks
        assert marked_names(app) == {"build-smp"}
        await pilot.pause(0.05)
        assert "● 1 marked" in header(app)


async def test_star_marks_what_the_filter_shows_and_again_unmarks_them(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "vm1")
        await pilot.press("space")
        await pilot.press("slash", *"state:running", "enter")
        await pilot.press("asterisk")
        running = {"build-smp", "db-storage", "erp-centos7", "nextcloud", "office-win11",
                   "render-node", "scratch-transient", "tcg-sandbox", "web-macvtap", "win10"}
        assert marked_names(app) == running | {"vm1"}
        await pilot.pause(0.05)
        assert "● 11 marked (1 not shown)" in header(app)  # vm1 is hidden by the filter
        await pilot.press("asterisk")  # all shown are marked: unmarks those, keeps vm1
        assert marked_names(app) == {"vm1"}
        await pilot.press("U")
        assert marked_names(app) == set()
        await pilot.pause(0.05)
        assert "marked" not in header(app)


async def test_marks_survive_a_re_sort_a_filter_and_an_event(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("space")
        await select(pilot, "router")
        await pilot.press("space")
        await pilot.press("O")  # reverse the order: the marks follow the VMs, not the rows
        libvirt_domain(app, "win10").suspend()  # another client pauses a marked VM
        await wait_for(pilot, lambda: "paused" in row_line(app, "win10"))
        await pilot.press("slash", *"win", "enter", "escape")
        assert marked_names(app) == {"win10", "router"}
        await pilot.pause(0.05)
        assert row_line(app, "win10").startswith("●")
        assert row_line(app, "router").startswith("●")
        assert not row_line(app, "web-macvtap").startswith("●")


async def test_a_vm_that_disappears_loses_its_mark(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "scratch-transient")
        await pilot.press("space")
        await select(pilot, "win10")
        await pilot.press("space")
        libvirt_domain(app, "scratch-transient").destroy()  # transient: gone once off
        await wait_for(pilot, lambda: marked_names(app) == {"win10"})
        assert len(app.domain_list.marks) == 1  # not kept under a key no VM has
        await pilot.pause(0.05)
        assert "● 1 marked" in header(app)


def test_marks_are_keyed_by_connection_and_uuid():
    a, b = DomainKey("test:///a", "u1"), DomainKey("test:///b", "u1")
    marks = Marks()
    marks.toggle(a)
    assert a in marks and b not in marks  # the same UUID on another host is another VM
    marks.toggle_all([a, b])
    assert set(marks) == {a, b}
    marks.keep_only("test:///a", [])  # host a re-read after a reconnect: its VM is gone
    assert set(marks) == {b}
