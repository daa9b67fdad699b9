"""The details screen: enter on a VM, every tab, live updates, escape back to the same row."""

from __future__ import annotations

import re

import pytest

from kvmtui.screens.details import DomainDetailsScreen
from tests.helpers import (
    copy_demo_fleet,
    fixture_node,
    libvirt_domain,
    open_app,
    open_from_list,
    screen_text,
    wait_for,
)


async def open_details(pilot, name: str) -> DomainDetailsScreen:
    return await open_from_list(pilot, name, "enter", DomainDetailsScreen,
                                lambda screen: screen.details is not None)


async def test_every_tab_shows_what_libvirt_says(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot, "win10")
        text = screen_text(app)
        assert "win10 · running" in text
        assert "5f0a3a4e-0c1d-4b5e-9a61-10aa00000001" in text  # Overview
        await pilot.press("2")
        text = screen_text(app)
        assert "spinlocks=0x1fff" in text and "relaxed" in text and "vapic" in text
        assert "4 sockets × 1 core × 1 thread = 4 vCPU slots, 4 online" in text
        await pilot.press("3")
        assert "8.0 GiB" in screen_text(app)
        await pilot.press("4")
        text = screen_text(app)
        assert "win10.qcow2" in text and "cdrom" in text and "qcow2" in text
        await pilot.press("5")
        text = screen_text(app)
        assert "52:54:00:6b:3c:01" in text and "bridge" in text and "virbr0" in text
        await pilot.press("6")
        text = screen_text(app)
        assert "clipboard (SPICE vdagent)" in text and "file sharing (SPICE WebDAV)" in text
        assert "SPICE" in text
        await pilot.press("7")
        assert "<domain type='test'" in screen_text(app)


async def test_arrow_keys_walk_the_tabs(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_details(pilot, "web-macvtap")
        await pilot.press("right", "right", "right", "right")
        assert screen.query_one("TabbedContent").active == "nics"
        assert "macvtap (bridge)" in screen_text(app)
        await pilot.press("left")
        assert screen.query_one("TabbedContent").active == "disks"


async def test_escape_returns_to_the_list_on_the_same_vm(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot, "router")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        assert app.domain_list.selected.name == "router"


async def test_details_follow_changes_made_elsewhere(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_details(pilot, "db-storage")
        first = screen.details
        libvirt_domain(app, "db-storage").suspend()  # another client
        await wait_for(pilot, lambda: "db-storage · paused" in screen_text(app))
        await wait_for(pilot, lambda: screen.details is not first)  # re-read after the event
        libvirt_domain(app, "db-storage").destroy()
        await wait_for(pilot, lambda: "db-storage · shut off" in screen_text(app))


def errors_shown(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications if n.severity == "error"]


async def settled(pilot) -> None:
    """Every libvirt read the screen started has answered, and its answer has been shown."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.05)


async def test_undefined_elsewhere_is_said(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot, "ci-runner")
        libvirt_domain(app, "ci-runner").undefineFlags(1)  # with its managed save
        await wait_for(pilot, lambda: "undefined by another client" in screen_text(app))
        await settled(pilot)
        # the header says it is gone: libvirt's "Domain not found" from the re-read that its
        # 'undefined' event asked for is no news, and no error
        assert errors_shown(app) == []
        assert "ci-runner · undefined by another client" in screen_text(app)


async def test_a_transient_vm_that_stops_is_gone_without_an_error(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot, "scratch-transient")
        libvirt_domain(app, "scratch-transient").destroy()  # another client; transient: gone
        await wait_for(pilot, lambda: "scratch-transient · stopped and gone (it was transient)"
                       in screen_text(app))
        await settled(pilot)
        assert errors_shown(app) == []
        assert "scratch-transient · stopped and gone (it was transient)" in screen_text(app)


async def test_a_managed_save_is_worded_as_the_list_words_it(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        key = next(k for k, s in app.domain_list.domains.items() if s.name == "ci-runner")
        assert app.domain_list.table.row_text(key)["state"] == "shut off (saved)"
        await open_details(pilot, "ci-runner")
        text = screen_text(app)
        assert "ci-runner · shut off (saved) · 4 vCPUs" in text  # the header
        assert re.search(r"\bState +shut off \(saved\) *\n", text)  # the Overview tab
        assert "managed save" not in text


async def test_one_of_a_kind_is_singular(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot, "router")
        assert "router · idle · 1 vCPU · 512 MiB" in screen_text(app)
        await pilot.press("2")
        assert "1 socket × 1 core × 1 thread = 1 vCPU slot, 1 online" in screen_text(app)
        await pilot.press("escape")
        await open_details(pilot, "db-storage")
        assert "db-storage · running · 4 vCPUs · 16384 MiB" in screen_text(app)


async def test_displays_and_ipv6_hosts_as_libvirt_gives_them(make_app, tmp_path):
    app = make_app(fixture_node(tmp_path, "33-local-displays.xml", "34-ipv6-hosts.xml"))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot, "local-displays")
        await pilot.press("6")
        text = screen_text(app)
        assert "SDL (local window on display :0)" in text
        assert "SPICE, no network listener" in text and "VNC, no network listener" in text
        assert "view: remote-viewer vnc://[2001:db8::5]:5905" in text
        assert "None" not in text
        await pilot.press("escape")
        await open_details(pilot, "v6-storage")
        await pilot.press("4")
        text = screen_text(app)
        assert "nbd://[fd00:10::30]:10809/export1" in text and "[network]" in text
        await pilot.press("5")
        assert "[2001:db8::10]:5555" in screen_text(app)


async def test_topology_diagram_of_the_smp_guest(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_details(pilot, "build-smp")
        await pilot.press("2")
        text = screen_text(app)
        assert "2 sockets × 2 cores × 2 threads = 8 vCPU slots, 8 online" in text
        assert "socket 0" in text and "socket 1" in text
        assert "core 1: v2●@15 v3●@15" in text  # vCPU numbers in QEMU order, host CPU now


TABS = ["1", "2", "3", "4", "5", "6", "7"]


@pytest.fixture
def details_app(tmp_path):
    app = open_app(copy_demo_fleet(tmp_path))
    yield app
    app.fleet.close()


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("tab", TABS)
def test_details_tab_snapshots(snap_compare, details_app, size, tab):
    async def open_tab(pilot):
        await open_details(pilot, "win10" if tab != "2" else "build-smp")
        await pilot.press(tab)
        await pilot.pause(0.1)

    assert snap_compare(details_app, terminal_size=size, run_before=open_tab)
