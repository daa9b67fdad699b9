"""KvmApp: wires the virt layer's reports to the screens; thin on purpose."""

from __future__ import annotations

import gc
import os
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from textual import _time, events
from textual.app import App
from textual.screen import Screen

from kvmtui.keys import APP_BINDINGS
from kvmtui.messages import FleetChanged, StatsTicked
from kvmtui.screens.domain_list import DomainListScreen
from kvmtui.screens.guarded import GuardedModal
from kvmtui.services import Feed
from kvmtui.virt.models import (
    Change,
    ConnectionRemoved,
    ConnectionStatus,
    DomainKey,
    DomainState,
    DomainStats,
    DomainSummary,
    StatsTick,
)
from kvmtui.virt.perf.figures import FleetFigures
from kvmtui.virt.session.config import default_config_path

if TYPE_CHECKING:
    from textual.command import Provider

    from kvmtui.virt.domain.actionlog import ActionLog
    from kvmtui.virt.domain.power import PowerAction
    from kvmtui.virt.perf.stats import StatsSampler
    from kvmtui.virt.session.fleet import Fleet

# How long keys wait for a screen that was asked for to become current, at the most.
OPENING_S = 1.0
# Refresh intervals '+' and '-' step through, in seconds.
REFRESH_STEPS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


def _kvm_commands() -> type[Provider]:
    """The ctrl+p provider, imported when the palette first opens (not needed to start)."""
    from kvmtui.screens.palette import KvmCommands

    return KvmCommands


class KvmApp(App):
    TITLE = "kvmtui"
    CSS_PATH = Path(__file__).with_name("kvmtui.tcss")
    BINDINGS = [*APP_BINDINGS]
    # ctrl+p: kvmtui's own actions only (Textual's system commands — themes, screenshots — are
    # not what an operator opens it for)
    COMMANDS = {_kvm_commands}
    refresh_steps = REFRESH_STEPS

    def __init__(self, fleet: Fleet, summaries: list[DomainSummary], *,
                 shutdown_timeout: float = 60.0, refresh: float | None = None,
                 exits_source: str = "auto", config_path: Path | None = None,
                 columns: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.fleet = fleet
        # where a host added in `H` is saved, and removed from
        self.config_path = config_path or default_config_path()
        # made on first use (see `action_log`): nothing is recorded before the first paint
        self._action_log: ActionLog | None = None
        # one-way links to the screens: they subscribe while mounted (kvmtui.services)
        self.fleet_feed: Feed[Change] = Feed()
        self.stats_feed: Feed[StatsTick] = Feed()
        self._quitting = False
        # A screen asked for but not yet current, and when: the keys that reach the app meanwhile
        # were typed after the key that opened it, and are not for the screen below
        self._opening: tuple[Screen, float] | None = None
        self.figures = FleetFigures()
        self.domain_list = DomainListScreen(fleet, summaries, self.figures,
                                            shutdown_timeout=shutdown_timeout,
                                            columns=columns)
        # made on first use (see `sampler`), at the latest right after the first paint
        self._sampler: StatsSampler | None = None
        self._sampler_options = (refresh, exits_source)
        self._unmounted = False
        # (uri, seconds the UI thread spent on the tick, sampler seconds, libvirt calls):
        # read by benchmarks/stats_tick.py through $KVMTUI_TICK_LOG
        self.tick_costs: deque[tuple[str, float, float, int]] = deque(maxlen=10_000)

    def get_default_screen(self) -> DomainListScreen:
        return self.domain_list

    def on_mount(self) -> None:
        # Both after the first paint: the list is drawn from the summaries it was given, which
        # already hold what the hosts reported so far (the fleet keeps those reports for
        # attach, and drawing them again before the first paint would redraw all the rows for
        # nothing), and without the sampler's imports.
        self.call_after_refresh(self._after_first_paint)

    @property
    def action_log(self) -> ActionLog:
        """Every action and observed event of this session, made on first use: the fleet's
        reports reach it only after the first paint (on_mount), and its module (with the
        snapshot words it names actions by) is not needed to draw the list."""
        if self._action_log is None:
            from kvmtui.virt.domain.actionlog import ActionLog

            self._action_log = ActionLog()
            self._action_log.name_of = lambda uri: (self.fleet.connections[uri].host
                                                    if uri in self.fleet.connections else None)
        return self._action_log

    @property
    def sampler(self) -> StatsSampler:
        """The one StatsSampler, made on first use: its module (psutil, the QEMU process
        lookup, debugfs) costs start-up and is not needed to draw the list."""
        if self._sampler is None:
            from kvmtui.virt.perf.stats import DEFAULT_INTERVAL_S, StatsSampler

            refresh, exits_source = self._sampler_options
            self._sampler = StatsSampler(
                self._sampled_connections,
                interval=DEFAULT_INTERVAL_S if refresh is None else refresh,
                exits_source=exits_source, on_tick=self._from_sampler)
        return self._sampler

    def _after_first_paint(self) -> None:
        if self._unmounted:
            return
        # From here on, libvirt's threads reach the UI only through messages.
        self.fleet.attach(self._from_fleet)
        self.sampler.start()
        if not gc.isenabled():
            # cli/main.py held collection off while starting: what start-up made lives as
            # long as the app, so it is kept out of every later collection (which then only
            # walks what ticks and screens make), and collection is back on
            gc.freeze()
            gc.enable()

    def on_unmount(self) -> None:
        self._unmounted = True
        if self._sampler is not None:
            self._sampler.stop()
        self.fleet.attach(lambda change: None)
        log = os.environ.get("KVMTUI_TICK_LOG")
        if log:
            import json

            with open(log, "w") as f:
                json.dump(list(self.tick_costs), f)

    async def on_event(self, event: events.Event) -> None:
        # Both when a key first arrives and when it bubbles back up to the app's bindings: keys
        # of one burst are all forwarded to the screen that was current when they arrived, and
        # reach the bindings only later, by which time an earlier key may have opened a question.
        if isinstance(event, (events.Key, events.Paste)):
            if self._quitting:
                return  # keys typed after `q` in the same burst must not open screens on the way out
            screen = self.screen if self.screen_stack else None
            # ctrl+c always quits, as in htop: leaving is never an answer to a question
            quitting = isinstance(event, events.Key) and event.key == "ctrl+c"
            if (isinstance(screen, GuardedModal) and not quitting
                    and not screen.accepts_input(event.time)):
                screen.drop_input()  # typed before the question was on screen: never an answer
                return
            if self._still_opening(screen):
                opening = self._opening[0] if self._opening else None
                keeps = getattr(opening, "keeps_typed_ahead", None)
                if keeps is not None and isinstance(event, events.Key):
                    keeps(event)  # the console keeps them for the guest
                return  # typed after the key that opened a screen: never the old screen's bindings
            keeps = getattr(screen, "keeps_typed_ahead", None)  # the console (screens/console.py)
            if keeps is not None and isinstance(event, events.Key) and keeps(event):
                return  # typed before that screen said what its keys do: never its bindings
        await super().on_event(event)

    def _still_opening(self, current: Screen | None) -> bool:
        if self._opening is None:
            return False
        opening, since = self._opening
        if current is opening or _time.get_time() - since > OPENING_S:
            self._opening = None  # it is current (or never came: keys are not held for ever)
            return False
        return True

    def push_screen(self, screen, *args, **kwargs):
        if isinstance(screen, Screen):
            self._opening = (screen, _time.get_time())
        return super().push_screen(screen, *args, **kwargs)

    def switch_screen(self, screen):
        if isinstance(screen, Screen):
            self._opening = (screen, _time.get_time())
        return super().switch_screen(screen)

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = False) -> None:
        # Always plain text: notifications carry VM and snapshot names and libvirt's messages,
        # which may contain anything ("db[link=a:b]storage" is a legal domain name).
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    async def action_quit(self) -> None:
        self._quitting = True
        self.exit()

    def _sampled_connections(self):
        # from the stats thread: list() copies in one step while `H` may add or remove a host
        return [c for c in list(self.fleet.connections.values())
                if c.status is ConnectionStatus.CONNECTED]

    def _from_sampler(self, tick: StatsTick) -> None:
        self.post_message(StatsTicked(tick))  # from the sampler thread; never blocks it

    def on_stats_ticked(self, message: StatsTicked) -> None:
        if not self.screen_stack or self._exit or not self.domain_list.children:
            return  # a last tick arriving while the app shuts down (its widgets already gone)
        started = time.perf_counter()
        tick = message.tick
        if not tick.error:
            self.figures.record(tick)
        self.domain_list.apply_stats(tick)
        self.stats_feed.publish(tick)
        self.tick_costs.append((tick.uri, time.perf_counter() - started, tick.duration_s,
                                tick.libvirt_calls))

    # -- what screens may ask (kvmtui.services.AppServices) ------------------------------

    def set_activity(self, key: DomainKey, text: str | None) -> None:
        self.domain_list.set_activity(key, text)

    def latest_stats(self, uri: str) -> list[DomainStats]:
        return self.figures.of_connection(uri)

    def vm_counts(self, uri: str) -> tuple[int, int]:
        summaries = [s for s in self.domain_list.domains.values() if s.key.uri == uri]
        # "running" as the header counts it: not paused, suspended or shutting down
        return sum(1 for s in summaries if s.state is DomainState.RUNNING), len(summaries)

    def power_actions(self, summary: DomainSummary) -> set[PowerAction]:
        return self.domain_list.actionable(summary)

    def request_power(self, summary: DomainSummary, action: PowerAction) -> None:
        self.domain_list.request_power(summary, action)

    def explain_power_key(self, summary: DomainSummary, key: str) -> bool:
        return self.domain_list.explain_power_key(key, summary)

    def show_vm(self, kind: str, summary: DomainSummary, *, replace: bool = True) -> None:
        if kind == "console" and self.fleet.is_readonly(summary.key.uri):
            self.notify(f"Read-only ({self.fleet.readonly_reason(summary.key.uri)}): libvirt "
                        f"opens no console on a read-only connection, so {summary.name}'s "
                        "console cannot be shown.", severity="warning")
            return
        screen = self.domain_list.vm_screen(kind, summary)
        if replace:  # in place of the current VM screen: escape still goes back to the list
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # An attached console takes every key but ctrl+]: quit (ctrl+c, ctrl+q) and the
        # palette (ctrl+p) go to the guest, as they would in a terminal of its own.
        if action in ("quit", "command_palette") and getattr(self.screen, "takes_all_keys", False):
            return False
        return True

    def action_refresh_interval(self, direction: int) -> None:
        current = self.sampler.interval
        if direction > 0:
            bigger = [s for s in REFRESH_STEPS if s > current]
            new = bigger[0] if bigger else REFRESH_STEPS[-1]
        else:
            smaller = [s for s in REFRESH_STEPS if s < current]
            new = smaller[-1] if smaller else REFRESH_STEPS[0]
        self.set_refresh_interval(new)

    def set_refresh_interval(self, seconds: float) -> None:
        self.sampler.interval = seconds
        self.notify(f"Refreshing every {seconds:g} s", timeout=2)

    def _from_fleet(self, change: Change) -> None:
        self.post_message(FleetChanged(change))  # thread-safe, never blocks libvirt's thread

    def on_fleet_changed(self, message: FleetChanged) -> None:
        if isinstance(message.change, ConnectionRemoved):
            self.figures.forget(message.change.uri)
        self.action_log.observe(message.change)
        self.domain_list.apply_change(message)
        self.fleet_feed.publish(message.change)

    def action_help(self) -> None:
        from kvmtui.screens.help import HelpScreen  # on first use: not needed to start

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(readonly=self.fleet.all_readonly))

    def action_action_log(self) -> None:
        from kvmtui.screens.action_log import ActionLogScreen  # on first use

        if not isinstance(self.screen, ActionLogScreen):
            self.push_screen(ActionLogScreen(self.action_log))
