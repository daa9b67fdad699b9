"""Fixtures for every tier; the helpers they use are in tests/helpers.py."""

from __future__ import annotations

import os
import time

import pytest

from kvmtui.app import KvmApp
from tests.helpers import copy_demo_fleet, open_app

# Snapshot times and screenshots must read the same on every machine.
os.environ["TZ"] = "UTC"
time.tzset()


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
