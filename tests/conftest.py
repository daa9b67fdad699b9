"""Fixtures for every tier; the helpers they use are in tests/helpers.py."""

from __future__ import annotations

import os
import tempfile
import time

import pytest

from kvmtui.app import KvmApp
from tests.helpers import copy_demo_fleet, open_app

# Snapshot times and screenshots must read the same on every machine.
os.environ["TZ"] = "UTC"
time.tzset()
# No test reads or writes the user's own config file (~/.config/kvmtui/config.toml): kvmtui
# and every kvmtui a test starts see an empty config directory of the test run's own.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="kvmtui-tests-config-")


@pytest.fixture
def demo_uri(tmp_path) -> str:
    """A fresh copy of the demo lab: each test gets its own in-memory test driver."""
    return copy_demo_fleet(tmp_path)


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


@pytest.fixture
def snap_compare(snap_compare):
    """pytest-textual-snapshot's snap_compare, taken once the list's advice marks are read
    (they come a moment after the first paint, from a worker): a screenshot shows the list as
    a user sees it after that moment, the same on every run."""

    def compare(app, press=(), terminal_size=(80, 24), run_before=None):
        async def settled_first(pilot):
            from tests.helpers import wait_for

            advice = getattr(getattr(pilot.app, "domain_list", None), "advice", None)
            if advice is not None:
                await wait_for(pilot, lambda: advice.settled, 10)
                await pilot.pause()
            if run_before is not None:
                result = run_before(pilot)
                if result is not None:
                    await result

        return snap_compare(app, press=press, terminal_size=terminal_size,
                            run_before=settled_first)

    return compare
