"""Every screen about one VM takes the list's power keys, with its rules and questions, and
enter, t and x move between them for the same VM."""

from __future__ import annotations

import libvirt
import pytest

from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.details import DomainDetailsScreen
from kvmtui.screens.performance import PerformanceScreen
from kvmtui.screens.snapshots import SnapshotScreen
from tests.helpers import asking, open_from_list, select, state_of, wait_for

RUNNING, PAUSED, SHUTOFF = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED,
                            libvirt.VIR_DOMAIN_SHUTOFF)
SCREENS = {"enter": DomainDetailsScreen, "t": SnapshotScreen, "x": PerformanceScreen}


def offered_keys(app) -> set[str]:
    """The keys enabled now (the power keys are in `?`, not in these screens' footers)."""
    return {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}


@pytest.mark.parametrize("key", ["enter", "t", "x"])
async def test_power_keys_on_a_vm_screen_ask_and_act_as_on_the_list(make_app, demo_uri, key):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_from_list(pilot, "db-storage", key, SCREENS[key], lambda s: True)
        assert {"p", "F"} <= offered_keys(app) and "s" not in offered_keys(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: state_of(app, "db-storage") == PAUSED)
        await wait_for(pilot, lambda: "p" in offered_keys(app))  # now offered as resume
        assert app.screen is screen
        await pilot.press("s")  # start does not apply to a paused VM: said, nothing done
        await wait_for(pilot, lambda: any("db-storage is paused: start is for a shut-off VM"
                                          in n.message for n in app._notifications))
        await pilot.press("F")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        assert "db-storage" in app.screen.question
        await pilot.press("y")
        await wait_for(pilot, lambda: state_of(app, "db-storage") == SHUTOFF)
        assert app.screen is screen
        records = [(r.vm, r.action, r.confirmed) for r in app.action_log.records]
        assert records == [("db-storage", "pause", False), ("db-storage", "force_off", True)]


async def test_enter_t_x_move_between_a_vms_screens_and_escape_returns_to_the_list(
        make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, PerformanceScreen))
        for key, screen_type in (("t", SnapshotScreen), ("x", PerformanceScreen),
                                 ("enter", DomainDetailsScreen), ("t", SnapshotScreen)):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, screen_type))
            assert app.screen.summary.name == "win10"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        assert state_of(app, "win10") == RUNNING


async def test_read_only_vm_screens_offer_no_power_key(make_app, demo_uri):
    app = make_app(demo_uri, readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_from_list(pilot, "win10", "enter", DomainDetailsScreen, lambda s: True)
        assert not offered_keys(app) & {"s", "d", "r", "p", "F", "R", "M"}
        await pilot.press("F")
        await wait_for(pilot, lambda: any("Read-only" in n.message for n in app._notifications))
        assert not isinstance(app.screen, ConfirmScreen)
        assert state_of(app, "win10") == RUNNING
