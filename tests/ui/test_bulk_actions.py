"""Bulk actions: with marks, a power key or `n` asks once, listing every VM it will touch and
those it skips with why, then acts on all of them; libvirt is asked afterwards what happened."""

from __future__ import annotations

import libvirt
import pytest

from kvmtui.screens.bulk_dialogs import BulkConfirmScreen, BulkSnapshotScreen
from kvmtui.screens.confirm import ConfirmScreen
from tests.helpers import (
    asking,
    copy_demo_fleet,
    libvirt_domain,
    names,
    open_app,
    screen_text,
    select,
    state_of,
    wait_for,
)

RUNNING, PAUSED, SHUTOFF = libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_SHUTOFF


async def mark(pilot, *vms: str) -> None:
    for vm in vms:
        await select(pilot, vm)
        await pilot.press("space")


def notices(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_bulk_pause_then_resume_of_the_marked_vms(make_app, demo_uri):
    app = make_app(demo_uri)
    marked = ("win10", "web-macvtap", "db-storage")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await mark(pilot, *marked)
        await select(pilot, "build-smp")  # the cursor's VM is not marked: it is not touched
        await pilot.press("p")
        await wait_for(pilot, lambda: asking(app, BulkConfirmScreen))
        text = screen_text(app)
        assert "Pause 3 VMs?" in text
        assert all(vm in text for vm in marked) and "build-smp" not in text
        await pilot.press("y")
        await wait_for(pilot, lambda: all(state_of(app, vm) == PAUSED for vm in marked))
        assert state_of(app, "build-smp") == RUNNING
        await wait_for(pilot, lambda: "Pause 3 VMs: 3 paused" in notices(app))
        await pilot.press("p")  # every marked VM is paused now: p resumes them
        await wait_for(pilot, lambda: asking(app, BulkConfirmScreen))
        assert "Resume 3 VMs?" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: all(state_of(app, vm) == RUNNING for vm in marked))
        records = [r for r in app.action_log.records if r.detail == "bulk"]
        assert len(records) == 6 and all(r.ok and r.confirmed for r in records)


async def test_vms_the_action_does_not_fit_are_listed_as_skipped_and_left_alone(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await mark(pilot, "win10", "vm1", "fedora-paused")
        await pilot.press("p")
        await wait_for(pilot, lambda: asking(app, BulkConfirmScreen))
        text = screen_text(app)
        assert "Pause 1 VM?" in text
        assert "Skipped (2)" in text
        assert "vm1 — shut off: pause is for a running VM" in text
        assert "fedora-paused — paused: pause is for a running VM" in text
        await pilot.press("y")
        await wait_for(pilot, lambda: state_of(app, "win10") == PAUSED)
        await wait_for(pilot, lambda: "Pause 1 VM: 1 paused (2 skipped)" in notices(app))
        assert state_of(app, "vm1") == SHUTOFF
        assert state_of(app, "fedora-paused") == PAUSED


@pytest.mark.parametrize("answer", ["n", "escape", "enter"])
async def test_cancel_leaves_every_marked_vm_untouched(make_app, demo_uri, answer):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await mark(pilot, "win10", "web-macvtap")
        await pilot.press("d")
        await wait_for(pilot, lambda: asking(app, BulkConfirmScreen))
        await pilot.press(answer)  # enter takes the focused button: Cancel
        await wait_for(pilot, lambda: not isinstance(app.screen, BulkConfirmScreen))
        await pilot.pause(0.3)
        assert state_of(app, "win10") == RUNNING and state_of(app, "web-macvtap") == RUNNING
        assert not app.action_log.records
        assert len(app.domain_list.marks) == 2  # the marks stay for another try


async def test_a_destructive_bulk_action_asks_even_for_one_vm(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await mark(pilot, "web-macvtap")
        await pilot.press("F")
        await wait_for(pilot, lambda: asking(app, BulkConfirmScreen))
        assert app.screen.has_class("-destructive")
        text = screen_text(app)
        assert "Force off 1 VM?" in text and "pulling the power cord" in text
        assert state_of(app, "web-macvtap") == RUNNING  # nothing before the answer
        await pilot.press("y")
        await wait_for(pilot, lambda: state_of(app, "web-macvtap") == SHUTOFF)


async def test_keys_typed_before_the_question_appeared_do_not_answer_it(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await mark(pilot, "win10", "web-macvtap")
        await pilot.press("F", "y", "y")  # one burst: the y's were typed before it was seen
        await wait_for(pilot, lambda: isinstance(app.screen, BulkConfirmScreen))
        await pilot.pause(0.6)
        assert isinstance(app.screen, BulkConfirmScreen)
        assert state_of(app, "win10") == RUNNING and state_of(app, "web-macvtap") == RUNNING


async def test_a_failure_is_summed_up_with_libvirts_message(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        # libvirt refuses a managed save of a transient VM: one of the two fails
        await mark(pilot, "scratch-transient", "win10")
        await pilot.press("M")
        await wait_for(pilot, lambda: asking(app, BulkConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: any("1 failed" in n for n in notices(app)))
        (summary,) = [n for n in notices(app) if "1 failed" in n]
        assert summary.startswith("Save 2 VMs: 1 saved and stopped, 1 failed: scratch-transient: ")
        assert "transient" in summary.split("scratch-transient: ", 1)[1]  # libvirt's own words
        assert state_of(app, "win10") == SHUTOFF
        assert libvirt_domain(app, "win10").hasManagedSaveImage(0)
        assert state_of(app, "scratch-transient") == RUNNING


async def test_a_key_that_fits_no_marked_vm_says_so_and_asks_nothing(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await mark(pilot, "vm1")
        await select(pilot, "win10")  # the cursor's VM could pause: the marks decide
        await pilot.press("p")
        await wait_for(pilot, lambda: any("None of the 1 marked VM can pause" in n
                                          for n in notices(app)))
        assert not isinstance(app.screen, BulkConfirmScreen)
        assert state_of(app, "win10") == RUNNING


async def test_bulk_new_snapshot_of_the_marked_vms(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await mark(pilot, "win10", "vm1")
        await pilot.press("n")
        await wait_for(pilot, lambda: asking(app, BulkSnapshotScreen))
        assert "New snapshot of 2 VMs" in screen_text(app)
        await pilot.press("ctrl+a", "ctrl+k", *"before-patch", "enter")
        await wait_for(pilot, lambda: all(
            "before-patch" in names(libvirt_domain(app, vm)) for vm in ("win10", "vm1")))
        await wait_for(pilot, lambda: any("2 snapshotted as 'before-patch'" in n
                                          for n in notices(app)))


async def test_read_only_bulk_keys_explain_and_ask_nothing(make_app, demo_uri):
    app = make_app(demo_uri, readonly=True)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await mark(pilot, "win10", "web-macvtap")
        await pilot.press("F")
        await wait_for(pilot, lambda: any("Read-only" in n for n in notices(app)))
        assert not isinstance(app.screen, (BulkConfirmScreen, ConfirmScreen))
        assert state_of(app, "win10") == RUNNING


@pytest.fixture
def demo_app(tmp_path):
    app = open_app(copy_demo_fleet(tmp_path))
    yield app
    app.fleet.close()


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", ["", "p", "F"], ids=["marks", "bulk-pause", "bulk-force-off"])
def test_marks_and_the_bulk_question_snapshots(snap_compare, demo_app, size, key):
    async def mark_then_press(pilot):
        await mark(pilot, "build-smp", "ci-runner", "db-storage", "win10")
        await select(pilot, "router")
        if key:
            await pilot.press(key)
            await wait_for(pilot, lambda: asking(demo_app, BulkConfirmScreen))
        await pilot.pause(0.1)

    assert snap_compare(demo_app, terminal_size=size, run_before=mark_then_press)
