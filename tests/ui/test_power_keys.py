"""Every power key, pressed as a user would, changes the VM as libvirt itself reports."""

from __future__ import annotations

import libvirt
import pytest

from kvmtui.screens.confirm import ConfirmScreen
from tests.helpers import asking, libvirt_domain, select, state_of, wait_for

RUNNING, PAUSED, SHUTOFF = libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_SHUTOFF


def row_state(app, name: str) -> str:
    for s in app.domain_list.domains.values():
        if s.name == name:
            return s.state.word
    raise KeyError(name)


def notices(app) -> list[str]:
    return [f"{n.title} {n.message}" for n in app._notifications]


async def test_start_key_starts_a_shut_off_vm(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "vm1")
        await pilot.press("s")
        await wait_for(pilot, lambda: state_of(app, "vm1") == RUNNING)
        await wait_for(pilot, lambda: row_state(app, "vm1") == "running")


async def test_shutdown_key_shuts_a_running_vm_down(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("d")
        await wait_for(pilot, lambda: state_of(app, "win10") == SHUTOFF)
        await wait_for(pilot, lambda: row_state(app, "win10") == "shut off")
        assert not isinstance(app.screen, ConfirmScreen)  # no force-off offer once it is off


async def test_pause_then_resume_with_the_same_key(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "db-storage")
        await pilot.press("p")
        await wait_for(pilot, lambda: state_of(app, "db-storage") == PAUSED)
        await wait_for(pilot, lambda: row_state(app, "db-storage") == "paused")
        await pilot.press("p")
        await wait_for(pilot, lambda: state_of(app, "db-storage") == RUNNING)
        await wait_for(pilot, lambda: row_state(app, "db-storage") == "running")


@pytest.mark.parametrize("answer", ["y", "tab enter"])
async def test_force_off_confirmed_destroys_the_vm(make_app, demo_uri, answer):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "web-macvtap")
        await pilot.press("F")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        assert "web-macvtap" in app.screen.question  # the dialog names the VM
        await pilot.press(*answer.split())
        await wait_for(pilot, lambda: state_of(app, "web-macvtap") == SHUTOFF)
        await wait_for(pilot, lambda: row_state(app, "web-macvtap") == "shut off")


@pytest.mark.parametrize("answer", ["n", "escape", "enter"])
async def test_force_off_cancelled_leaves_the_vm_running(make_app, demo_uri, answer):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "web-macvtap")
        await pilot.press("F")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.press(answer)  # enter takes the focused, safe button
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.2)
        assert state_of(app, "web-macvtap") == RUNNING
        assert row_state(app, "web-macvtap") == "running"


async def test_managed_save_then_start_restores(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "build-smp")
        await pilot.press("M")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        assert "build-smp" in app.screen.question
        await pilot.press("y")
        dom = libvirt_domain(app, "build-smp")
        await wait_for(pilot, lambda: state_of(app, "build-smp") == SHUTOFF)
        assert dom.hasManagedSaveImage(0) == 1
        await wait_for(pilot, lambda: app.domain_list.selected.managed_save)
        assert "Restore" in [b.binding.description for b in app.screen.active_bindings.values()]
        await pilot.press("s")
        await wait_for(pilot, lambda: state_of(app, "build-smp") == RUNNING)
        assert dom.hasManagedSaveImage(0) == 0


async def test_managed_save_cancelled_changes_nothing(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "build-smp")
        await pilot.press("M")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause(0.2)
        assert state_of(app, "build-smp") == RUNNING
        assert libvirt_domain(app, "build-smp").hasManagedSaveImage(0) == 0


async def test_reset_confirmed_and_cancelled(make_app, demo_uri):
    # The test driver's reset leaves no trace in libvirt's state (the real reset is covered by
    # the integration tier); here: the question names the VM, and only "yes" sends the call.
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("R")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        assert "Reset win10?" == app.screen.question
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not any("reset" in n.lower() for n in notices(app))
        await pilot.press("R")
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.2)
        assert state_of(app, "win10") == RUNNING
        assert not any("Could not" in n for n in notices(app))


async def test_reboot_key_sends_the_reboot(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("r")
        await wait_for(pilot, lambda: any("win10 asked to reboot" in n for n in notices(app)))
        assert state_of(app, "win10") == RUNNING


async def test_libvirt_error_is_shown_and_the_app_keeps_running(make_app, demo_uri):
    # The test driver cannot wake a pmsuspended domain: libvirt says so, and we show its words.
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "laptop-sleep")
        await pilot.press("s")
        await wait_for(pilot, lambda: any("not supported" in n for n in notices(app)))
        (notice,) = [n for n in app._notifications if "not supported" in n.message]
        assert notice.severity == "error"
        assert notice.title == "Could not wake up laptop-sleep"
        assert "virDomainPMWakeup" in notice.message  # libvirt's own message, unedited
        await select(pilot, "vm1")  # and the app still works
        await pilot.press("s")
        await wait_for(pilot, lambda: state_of(app, "vm1") == RUNNING)


async def test_only_actions_that_make_sense_are_offered(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        def offered() -> set[str]:
            return {b.binding.description for b in app.screen.active_bindings.values()
                    if b.binding.action.startswith("power")}

        await select(pilot, "vm1")
        assert offered() == {"Start"}
        await select(pilot, "win10")
        assert offered() == {"Shutdown", "Reboot", "Pause", "Force off", "Reset", "Save"}
        await select(pilot, "fedora-paused")
        assert offered() == {"Resume", "Force off", "Save"}
        await select(pilot, "legacy-crashed")
        assert offered() == {"Force off"}
        await select(pilot, "laptop-sleep")
        assert offered() == {"Wake up", "Force off"}
        await select(pilot, "ci-runner")
        assert offered() == {"Restore"}
        # a key that does not apply does nothing
        await select(pilot, "vm1")
        await pilot.press("d", "p", "F")
        await pilot.pause(0.1)
        assert state_of(app, "vm1") == SHUTOFF
        assert not isinstance(app.screen, ConfirmScreen)


async def test_readonly_refuses_every_action_and_says_why(make_app, demo_uri):
    app = make_app(demo_uri, readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("p")
        await wait_for(pilot, lambda: any("Read-only" in n for n in notices(app)))
        await pilot.press("F")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ConfirmScreen)
        assert state_of(app, "win10") == RUNNING
        assert "read-only" in str(app.screen.query_one("#header").render())


async def test_overdue_shutdown_is_shown_on_the_row_and_never_asks_by_itself(make_app, demo_uri):
    # The test driver shuts down instantly, so the overdue path is entered as the shutdown
    # watch enters it; a real guest that ignores ACPI is covered by the integration tier.
    app = make_app(demo_uri, shutdown_timeout=0.3)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        key = app.domain_list.selected.key
        app.domain_list.watch_shutdown(key, "win10")
        assert app.domain_list.table.row_text(key)["state"] == "shutting down…"
        await pilot.press("slash", "w", "i", "n")  # the user moved on, typing in the filter
        await pilot.pause(0.6)                       # the timeout passes while they type
        await pilot.press("y", "y", "enter")
        assert not isinstance(app.screen, ConfirmScreen)  # no question took those keys
        assert state_of(app, "win10") == RUNNING
        await pilot.press("escape")  # clears the filter
        assert app.domain_list.table.row_text(key)["state"] == "shutdown overdue (F)"
        assert any("win10 has not shut down after 0.3 s" in n and "F" in n for n in notices(app))
        await select(pilot, "win10")
        await pilot.press("F")  # forcing it off is still the user's own, confirmed, act
        await wait_for(pilot, lambda: asking(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: state_of(app, "win10") == SHUTOFF)
        await wait_for(pilot, lambda: app.domain_list.table.row_text(key)["state"] == "shut off")
