"""Power actions on one VM, with the list's rules: what applies in its state, a question
first when it destroys, the call off the UI thread, its progress on the VM's row, and a
shutdown watched until the VM is off (or overdue). The list and every VM screen use these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen
from textual.timer import Timer

from kvmtui.keys import POWER_BINDINGS
from kvmtui.messages import PowerDone
from kvmtui.services import services
from kvmtui.virt.domain.power import SPECS, PowerAction, available, perform, why_not
from kvmtui.virt.models import DomainKey, DomainState, DomainSummary
from kvmtui.virt.session.errors import libvirt_message
from kvmtui.widgets.domain_table import DomainTable

if TYPE_CHECKING:
    from kvmtui.virt.session.fleet import Fleet

SETTLED = {DomainState.SHUTOFF, DomainState.CRASHED}
SHUTTING_DOWN = SPECS[PowerAction.SHUTDOWN].doing
SHUTDOWN_OVERDUE = "shutdown overdue (F)"
# The power actions each key can mean, from the one key map, and each action's key.
POWER_KEYS: dict[str, list[PowerAction]] = {}
SPECS_KEY: dict[PowerAction, str] = {}
for _binding in POWER_BINDINGS:
    _action = PowerAction(_binding.action.split("'")[1])
    POWER_KEYS.setdefault(_binding.key, []).append(_action)
    SPECS_KEY[_action] = _binding.key


class PowerDesk(Screen):
    """The list's power handling (DomainListScreen derives from it, through BulkActions)."""

    fleet: Fleet
    domains: dict[DomainKey, DomainSummary]
    activity: dict[DomainKey, str]  # what is under way, shown on the VM's row
    shutdown_timeout: float
    _shutdown_timers: dict[DomainKey, Timer]

    @property
    def table(self) -> DomainTable:
        return self.query_one(DomainTable)

    @property
    def selected(self) -> DomainSummary | None:
        key = self.table.cursor_key
        return self.domains.get(key) if key else None

    def _actionable(self) -> set[PowerAction]:
        return self.actionable(self.selected)

    def actionable(self, summary: DomainSummary | None) -> set[PowerAction]:
        """The power actions the VM can be asked for now (none when read-only or its host is
        disconnected): the same rules on every screen."""
        if summary is None or self.unreachable(summary):
            return set()
        return available(summary)

    def unreachable(self, summary: DomainSummary) -> str | None:
        """Why nothing can be asked of the VM's host now, or None."""
        if self.fleet.is_readonly(summary.key.uri):
            return f"read-only: {self.fleet.readonly_reason(summary.key.uri)}"
        if summary.key.uri in self.table.disconnected_uris:
            return f"{summary.host} is disconnected"
        return None

    def explain_power_key(self, key: str, summary: DomainSummary | None = None) -> bool:
        """A power key no binding takes here: say why in one line. True when it was one."""
        actions = [a for a in POWER_KEYS.get(key, ())]
        summary = summary if summary is not None else self.selected
        if not actions or set(actions) & self.actionable(summary):
            return False
        if summary is None:
            return True
        if self.fleet.is_readonly(summary.key.uri):
            self.notify(f"Read-only: {self.fleet.readonly_reason(summary.key.uri)}, so it "
                        f"cannot {SPECS[actions[0]].label.lower()} {summary.name}.",
                        severity="warning")
        elif summary.key.uri in self.table.disconnected_uris:
            self.notify(f"{summary.host} is disconnected: nothing can be asked of "
                        f"{summary.name} until it reconnects.", severity="warning")
        else:
            self.notify(why_not(summary, actions), timeout=3)
        return True

    def request_power(self, summary: DomainSummary | None, action: PowerAction) -> None:
        """A power key on the list or on a VM's screen: ask first when it destroys, then act."""
        if summary is None or action not in self.actionable(summary):
            return
        spec = SPECS[action]
        if spec.confirm:
            from kvmtui.screens.confirm import ConfirmScreen  # on first use: not needed to start

            question = f"{spec.label} {summary.name}?"
            if self.fleet.multi_host:
                question = f"{spec.label} {summary.name} on {summary.host}?"
            self.app.push_screen(
                ConfirmScreen(question, spec.risk, spec.label),
                lambda yes, key=summary.key, n=summary.name: self.start_power(
                    key, n, action, confirmed=True) if yes else None)
        else:
            self.start_power(summary.key, summary.name, action, confirmed=False)

    def start_power(self, key: DomainKey, name: str, action: PowerAction, *,
                    confirmed: bool) -> None:
        """Record the action, show it on the VM's row, and make the call off the UI thread."""
        record = services(self.app).action_log.start(key, name, action.value, confirmed=confirmed)
        self.set_activity(key, SPECS[action].doing)
        self.run_power(key, name, action, record)

    # Not through reply(): the outcome of an action is always reported and recorded, even when
    # the screen that started it has moved on.
    @work(thread=True, group="power")
    def run_power(self, key: DomainKey, name: str, action: PowerAction, record) -> None:
        try:
            perform(self.fleet.domain(key), action)
        except Exception as err:  # noqa: BLE001 - shown to the user with libvirt's words
            self.post_message(PowerDone(key, name, action, libvirt_message(err), record))
        else:
            self.post_message(PowerDone(key, name, action, None, record))

    def on_power_done(self, message: PowerDone) -> None:
        spec = SPECS[message.action]
        services(self.app).action_log.finish(message.record, message.error)
        if message.error:
            self.set_activity(message.key, None)
            self.notify(message.error, title=f"Could not {spec.label.lower()} {message.name}",
                        severity="error", timeout=10)
            return
        self.notify(f"{message.name} {spec.done}", timeout=3)
        if message.action is PowerAction.SHUTDOWN:
            self.watch_shutdown(message.key, message.name)
        else:
            self.set_activity(message.key, None)

    def set_activity(self, key: DomainKey, text: str | None) -> None:
        """What the VM's row says is under way, in place of its state; None when nothing is."""
        if text:
            self.activity[key] = text
        elif self.activity.pop(key, None) is None:
            return
        if self.is_mounted:
            self.table.restyle()

    def watch_shutdown(self, key: DomainKey, name: str) -> None:
        summary = self.domains.get(key)
        if summary is None or summary.state in SETTLED:
            self.set_activity(key, None)
            return  # already off: events arrived before libvirt's call returned
        self._stop_shutdown_watch(key)
        self.set_activity(key, SHUTTING_DOWN)  # until it is off, or overdue
        self._shutdown_timers[key] = self.set_timer(
            self.shutdown_timeout, lambda: self._shutdown_overdue(key, name))

    def _stop_shutdown_watch(self, key: DomainKey) -> None:
        timer = self._shutdown_timers.pop(key, None)
        if timer is not None:
            timer.stop()
        if self.activity.get(key) in (SHUTTING_DOWN, SHUTDOWN_OVERDUE):
            self.set_activity(key, None)

    def _shutdown_overdue(self, key: DomainKey, name: str) -> None:
        # Never a dialog: a question that appears by itself would take whatever the user is
        # typing at that moment. The row and a notification say it; F asks as always.
        self._shutdown_timers.pop(key, None)
        summary = self.domains.get(key)
        if summary is None or summary.state in SETTLED:
            return
        self.set_activity(key, SHUTDOWN_OVERDUE)
        self.notify(f"{name} has not shut down after {self.shutdown_timeout:g} s (it is "
                    f"{summary.state.word}). Select it and press F to force it off (asks first).",
                    title="Shutdown overdue", severity="warning", timeout=15)
