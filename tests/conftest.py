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
