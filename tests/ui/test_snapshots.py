"""Pictures of each screen at a fixed size; a change in what users see fails here first."""

from __future__ import annotations

import pytest

from tests.helpers import copy_demo_fleet, open_app

SIZES = [(100, 30), (80, 24)]


@pytest.fixture
def demo_app(tmp_path):
    app = open_app(copy_demo_fleet(tmp_path))
    yield app
    app.fleet.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_domain_list(snap_compare, demo_app, size):
    assert snap_compare(demo_app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(snap_compare, demo_app, size):
    assert snap_compare(demo_app, terminal_size=size, press=["question_mark"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_force_off_confirmation(snap_compare, demo_app, size):
    assert snap_compare(demo_app, terminal_size=size, press=["down", "down", "F"])


def test_filtered_by_state(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=(80, 24),
                        press=["slash", *"state:running", "enter"])
