from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import libvirt
import pytest

from kvmtui.app import KvmApp
from kvmtui.virt.demo import apply_demo_settings
from kvmtui.virt.fleet import Fleet
from tests.fleets import copy_demo_fleet

# Snapshot times and screenshots must read the same on every machine.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture
def demo_uri(tmp_path) -> str:
    """A fresh copy of the demo lab: each test gets its own in-memory test driver."""
    return copy_demo_fleet(tmp_path)


def open_app(*uris: str, readonly: bool = False, shutdown_timeout: float = 60.0,
             **app_options) -> KvmApp:
    fleet = Fleet(uris, readonly=readonly)
    fleet.open_all()
    if not readonly:
        for connection in fleet.connections.values():
            apply_demo_settings(connection.conn)  # as --demo does; a no-op for other fleets
    return KvmApp(fleet, fleet.list_summaries(), shutdown_timeout=shutdown_timeout,
                  **app_options)


@pytest.fixture
def make_app():
    apps: list[KvmApp] = []

    def factory(*uris: str, **kwargs) -> KvmApp:
        app = open_app(*uris, **kwargs)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.fleet.close()


def libvirt_domain(app: KvmApp, name: str) -> libvirt.virDomain:
    """The domain as libvirt itself sees it, through the app's own driver instance.

    A test:///file URI gives every open its own in-memory copy, so asserting "through
    libvirt" means asking the very connection kvmtui changed, not a new one.
    """
    (connection,) = app.fleet.connections.values()
    return connection.conn.lookupByName(name)


def state_of(app: KvmApp, name: str) -> int:
    return libvirt_domain(app, name).state()[0]


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until condition() holds; fail with a clear message after timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.02)


async def select(pilot, name: str) -> None:
    """Put the list's cursor on the named VM, by pressing keys as a user would."""
    table = pilot.app.domain_list.table
    await pilot.press("home")
    for _ in range(table.row_count):
        summary = pilot.app.domain_list.selected
        if summary is not None and summary.name == name:
            return
        await pilot.press("down")
    raise AssertionError(f"{name} is not in the list")


async def open_from_list(pilot, name: str, key: str, screen_type, loaded, timeout: float = 5.0):
    """Select the VM, press the key that opens a screen of it, and wait until it has read libvirt."""
    await select(pilot, name)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen_type), timeout)
    screen = pilot.app.screen
    await wait_for(pilot, lambda: loaded(screen), timeout)
    await pilot.pause(0.05)
    return screen


def screen_text(app) -> str:
    """The characters on screen right now, line by line, as a user reads them."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def asking(app, screen_type) -> bool:
    """A question of this type is on screen and takes the keys typed from now on.

    Questions ignore keys typed before they were on screen (plus a short guard), as a person
    typing ahead would have; tests answer them as a person does, after seeing them.
    """
    screen = app.screen
    return isinstance(screen, screen_type) and screen.answerable
