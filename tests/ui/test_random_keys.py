"""Issue #10's random-key tier: thousands of seeded random keys on every screen, and afterwards
nothing failed, `?` still answers, and nothing changed (or vanished) without an action — a
confirmed one for anything destructive.

Each seed drives a fresh demo fleet (libvirt's test driver, never mocked) with bursts (keys
posted in one go, as one SSH write) and slow typing, some pauses longer than a question's guard
so questions do get answered. What is checked is in tests/ui/random_keys.py (`Watch`).

More keys locally:  KVMTUI_RANDOM_KEYS=3000 KVMTUI_RANDOM_SEEDS=40 pytest tests/ui/test_random_keys.py
One seed:           KVMTUI_RANDOM_SEEDS=1234, or several: KVMTUI_RANDOM_SEEDS=7,19,1234
(a number alone is a count: seeds 1..N; with a comma, or a number > 1000, the seeds themselves)
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from collections import Counter

import libvirt
import pytest
from textual.widgets import Input

from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.guarded import GuardedModal
from kvmtui.screens.help import HelpScreen
from kvmtui.screens.snapshot_dialogs import DeleteScreen, RevertScreen
from kvmtui.screens.snapshots import SnapshotScreen
from kvmtui.virt.domain.actionlog import DESTRUCTIVE
from tests.helpers import libvirt_domain, open_from_list, select, state_of
from tests.ui.random_keys import Watch, app_failed, describe, make_plan, post_burst, run_step

# Seeds that once failed: they always run, whatever KVMTUI_RANDOM_SEEDS says. (A seed fixes
# the keys and pauses, not libvirt's thread timing: a seed fails most runs, not every run.)
#   1, 24 (and 23): a snapshot screen opened and closed in one burst (`t ... escape`):
#      SnapshotScreen._put_cursor runs after the screen was popped -> NoMatches 'Tree';
#      reduced: test_opening_and_leaving_a_screen_in_one_burst[t escape]
#   6 (and 11, 10): `D ... y` / `v ... y` in one burst on the tree: the delete/revert question
#      took the `y` typed before it was on screen;
#      reduced: test_a_snapshot_question_never_takes_keys_typed_before_it[D y]
#   18 (and 14, 5): `M ... y` / `R ... y` in one burst on the list: the same for managed save
#      and reset; reduced: test_a_question_never_takes_keys_typed_before_it[F y]
REGRESSION_SEEDS: list[int] = [1, 6, 18, 24, 32]  # 32: `H D y` removes the demo host

DEFAULT_SEED_COUNT = 7
DEFAULT_KEYS = 350  # per seed: (7 + 2 regression seeds) x 350 = 3150 keys


def _seeds() -> list[int]:
    raw = os.environ.get("KVMTUI_RANDOM_SEEDS", "").strip()
    if not raw:
        chosen = list(range(1, DEFAULT_SEED_COUNT + 1))
    elif "," in raw or int(raw) > 1000:
        chosen = [int(s) for s in raw.split(",") if s.strip()]
    else:
        chosen = list(range(1, int(raw) + 1))
    return REGRESSION_SEEDS + [s for s in chosen if s not in REGRESSION_SEEDS]


SEEDS = _seeds()
KEYS_PER_SEED = int(os.environ.get("KVMTUI_RANDOM_KEYS", DEFAULT_KEYS))

# What the whole tier did, for the check that it was not vacuous.
TIER: dict = {"runs": 0, "keys": 0, "confirmed_destructive": 0, "answered_in_time": 0,
              "questions": 0,
              "records": Counter(), "screens": Counter()}


async def _back_to_the_list(pilot) -> str | None:
    """Escape (at least twice) until the list is the only screen and no text box has the
    keys; a question is waited on until it can be answered. None when back; otherwise what
    the app is stuck on."""
    app = pilot.app
    pressed = 0
    for _ in range(40):
        if app_failed(app):
            return "the app failed"
        typing = isinstance(app.focused, Input)
        if len(app.screen_stack) == 1 and not typing and pressed >= 2:
            return None
        screen = app.screen
        if isinstance(screen, GuardedModal) and not screen.answerable:
            await pilot.pause(0.05)
            continue
        await pilot.press("escape")
        pressed += 1
        await pilot.pause(0.05)
    return f"{[type(s).__name__ for s in app.screen_stack]}, focused: {app.focused!r}"


async def _settle(pilot) -> None:
    """Let libvirt's calls started by the keys return, and their events arrive."""
    app = pilot.app
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not app_failed(app):
        if not any(w.is_running for w in app.workers) and all(
                r.done for r in app.action_log.records):
            break
        await pilot.pause(0.05)
    if not app_failed(app):
        await pilot.pause(0.3)


def _count_screens(app, seen: set[int]) -> None:
    TIER["screens"][type(app.screen).__name__] += 1
    for screen in app.screen_stack:
        if isinstance(screen, GuardedModal) and id(screen) not in seen:
            seen.add(id(screen))
            TIER["questions"] += 1


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_keys(make_app, demo_uri, seed):
    app = make_app(demo_uri)
    watch = Watch.start(app)
    plan = make_plan(seed, KEYS_PER_SEED)
    sent: list = []
    crash: BaseException | None = None
    stuck: str | None = None
    help_shown = False
    on_screen: list[str] = []
    questions: set[int] = set()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            for step in plan:
                if app_failed(app) or watch.problems:
                    break
                sent.append(step)
                await run_step(pilot, step, watch.keys)
                if not app_failed(app):
                    _count_screens(app, questions)
                    watch.check_snapshots()
            if not app_failed(app):
                await _settle(pilot)
            if not app_failed(app):
                stuck = await _back_to_the_list(pilot)
            if not app_failed(app):
                await pilot.press("question_mark")
                for _ in range(40):
                    if app_failed(app) or isinstance(app.screen, HelpScreen):
                        break
                    await pilot.pause(0.05)
                help_shown = not app_failed(app) and isinstance(app.screen, HelpScreen)
                on_screen = [type(s).__name__ for s in app.screen_stack]
    except BaseException as err:  # noqa: BLE001 - Textual re-raises what ended the app
        crash = err
    finally:
        watch.stop()
    if crash is None and app._exception is not None:
        crash = app._exception
    watch.check_end()

    keys = sum(len(s.keys) for s in sent)
    TIER["runs"] += 1
    TIER["keys"] += keys
    TIER["confirmed_destructive"] += len(watch.confirmed_destructive())
    TIER["answered_in_time"] += watch.answered
    TIER["records"].update(f"{r.action}{'(yes)' if r.confirmed else ''}"
                           for r in app.action_log.records)

    failures = []
    if crash is not None:
        failures.append("the app failed:\n" + "".join(
            traceback.format_exception(type(crash), crash, crash.__traceback__)))
    elif app.return_code is not None and not help_shown:
        failures.append(f"the app ended by itself (return code {app.return_code}); "
                        f"screens left: {[type(s).__name__ for s in app.screen_stack]}")
    if stuck:
        failures.append(f"escape did not get back to the list: {stuck}")
    if crash is None and app.return_code is None and not help_shown:
        failures.append(f"`?` did not show the help: the screens were {on_screen}")
    failures.extend(watch.problems)
    if failures:
        records = [(r.vm, r.action, r.snapshot, r.confirmed, r.error)
                   for r in list(app.action_log.records)[-15:]]
        pytest.fail(
            f"seed {seed}: {keys} of {KEYS_PER_SEED} keys sent\n"
            f"reproduce: KVMTUI_RANDOM_SEEDS={seed}, KVMTUI_RANDOM_KEYS={KEYS_PER_SEED} "
            f"pytest 'tests/ui/test_random_keys.py::test_random_keys[{seed}]'\n"
            f"last keys ([burst], ~pause after): {describe(sent)}\n"
            f"last records (vm, action, snapshot, confirmed, error): {records}\n"
            f"events: {[str(e) for e in watch.events[-12:]]}\n"
            + "\n".join(failures), pytrace=False)


def test_the_tier_confirmed_destructive_actions():
    """The "confirmed" invariant is vacuous unless some destructive action was confirmed."""
    if TIER["runs"] < len(SEEDS):
        pytest.skip("needs every seed of this module to have run first")
    print(f"random-key tier: {TIER}")
    assert TIER["keys"] >= len(SEEDS) * KEYS_PER_SEED * 0.5, TIER
    # a destructive action confirmed by a key typed after its question could be read
    assert TIER["answered_in_time"] > 0, TIER
    assert TIER["questions"] > 0, TIER


# -- the bursts, each typed in one write before the app handles any ---------------------

RUNNING = libvirt.VIR_DOMAIN_RUNNING


async def _burst_on(make_app, demo_uri, vm: str, keys: list[str]):
    """Select `vm`, type `keys` in one burst, give the app longer than the guard, then check:
    the VM still runs, and the question F asked is still open (every key after F was typed
    before it was on screen, so none may answer it, not even with "no")."""
    app = make_app(demo_uri)
    watch = Watch.start(app)
    state = None
    question = None
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await select(pilot, vm)
            await pilot.pause()
            await post_burst(app, keys, watch.keys)
            for _ in range(16):  # 0.8 s: longer than the guard, so a late answer would count
                if app_failed(app):
                    break
                await asyncio.sleep(0.05)
            if not app_failed(app):
                await _settle(pilot)
                state = state_of(app, vm)
                question = app.screen
    finally:
        watch.stop()
    watch.check_end()
    records = [(r.vm, r.action, r.confirmed) for r in app.action_log.records]
    assert state == RUNNING, f"{vm} is no longer running after the burst {keys}: " \
        f"records {records}; " + "; ".join(watch.problems)
    assert not watch.problems
    assert not [r for r in app.action_log.records if r.action in DESTRUCTIVE], records
    assert isinstance(question, ConfirmScreen) and vm in question.question, \
        f"the question about {vm} was answered by keys typed before it: now on {question!r}"


@pytest.mark.parametrize("keys", [
    "F enter y",
    "F t tab enter y 1",
    "tab F enter space v 2 n",
    "F y",
])
async def test_a_question_never_takes_keys_typed_before_it(make_app, demo_uri, keys):
    await _burst_on(make_app, demo_uri, "web-macvtap", keys.split())


@pytest.mark.parametrize("after", ["enter", "t", "x", "H", "n", "enter t x H n"])
async def test_quit_then_more_keys_in_one_burst_exits_cleanly(make_app, demo_uri, after):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.pause()
        await post_burst(app, ["q", *after.split()])
        for _ in range(100):
            if app.return_code is not None:
                break
            await asyncio.sleep(0.02)
    # leaving run_test re-raises anything that ended the app
    assert app._exception is None
    assert app.return_code == 0
    assert libvirt_domain(app, "win10").state()[0] == RUNNING
    assert not app.action_log.records


async def _tree_then_burst(make_app, demo_uri, vm: str, keys: list[str]):
    """Open `vm`'s snapshot tree as a user would, then type `keys` in one burst: nothing
    changes, and the question asked is still open."""
    app = make_app(demo_uri)
    watch = Watch.start(app)
    dom = libvirt_domain(app, vm)
    before = (set(dom.snapshotListNames(0)), dom.snapshotCurrent(0).getName(), dom.state()[0])
    after = None
    question = None
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await open_from_list(pilot, vm, "t", SnapshotScreen,
                                 lambda screen: screen.snap_tree is not None)
            await post_burst(app, keys, watch.keys)
            for _ in range(16):  # 0.8 s: longer than the guard
                if app_failed(app):
                    break
                await asyncio.sleep(0.05)
            if not app_failed(app):
                await _settle(pilot)
                after = (set(dom.snapshotListNames(0)), dom.snapshotCurrent(0).getName(),
                         dom.state()[0])
                question = app.screen
    finally:
        watch.stop()
    watch.check_end()
    records = [(r.action, r.snapshot, r.detail, r.confirmed) for r in app.action_log.records]
    assert after == before, f"the burst {keys} changed {vm}'s snapshots: {records}; " + \
        "; ".join(watch.problems)
    assert not watch.problems
    assert not [r for r in app.action_log.records if r.action in DESTRUCTIVE], records
    assert isinstance(question, (DeleteScreen, RevertScreen)), \
        f"the question was answered by keys typed before it: now on {question!r}"


@pytest.mark.parametrize("keys", ["D y", "D 2 y", "delete enter y", "v y", "v 3 y", "X v 2 y"])
async def test_a_snapshot_question_never_takes_keys_typed_before_it(make_app, demo_uri, keys):
    await _tree_then_burst(make_app, demo_uri, "win10", keys.split())


@pytest.mark.parametrize("keys", ["t escape", "n escape", "t ctrl+r escape", "enter escape",
                                  "x escape", "H escape"])
async def test_opening_and_leaving_a_screen_in_one_burst(make_app, demo_uri, keys):
    """A screen closed by a key typed with the one that opened it (one write over SSH): the
    app stays up and is back on the list. The race is tried five times."""
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        for _ in range(5):
            await post_burst(app, keys.split())
            for _ in range(6):
                if app_failed(app):
                    break
                await asyncio.sleep(0.05)
            if app_failed(app):
                break
            assert len(app.screen_stack) == 1, [type(s).__name__ for s in app.screen_stack]
    assert app._exception is None
