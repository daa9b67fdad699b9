"""The main screen: every domain of every connection, with power control from the keyboard."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

from kvmtui.keys import LIST_BINDINGS, POWER_BINDINGS
from kvmtui.messages import FleetChanged, PowerDone
from kvmtui.screens.bulk import BulkActions
from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.details import DomainDetailsScreen
from kvmtui.screens.host import HostScreen
from kvmtui.screens.performance import PerformanceScreen
from kvmtui.screens.snapshots import SnapshotScreen
from kvmtui.screens.sort_dialog import SortScreen
from kvmtui.services import services
from kvmtui.virt.domain.filtering import BUSIEST_FIRST, SORTS, DomainFilter, FilterError, parse_filter
from kvmtui.virt.domain.marks import Marks
from kvmtui.virt.domain.power import SPECS, PowerAction, available, perform, why_not
from kvmtui.virt.models import (
    ConnectionChanged,
    ConnectionStatus,
    DomainKey,
    DomainRemoved,
    DomainsReloaded,
    DomainState,
    DomainStats,
    DomainSummary,
    DomainUpdated,
    StatsTick,
)
from kvmtui.virt.perf.figures import FleetFigures
from kvmtui.virt.session.errors import libvirt_message
from kvmtui.virt.session.fleet import Fleet
from kvmtui.widgets.domain_table import DomainTable
from kvmtui.widgets.fleet_header import FleetHeader
from kvmtui.widgets.key_footer import KeyFooter

_SETTLED = {DomainState.SHUTOFF, DomainState.CRASHED}
SHUTTING_DOWN = SPECS[PowerAction.SHUTDOWN].doing
SHUTDOWN_OVERDUE = "shutdown overdue (F)"
# The power actions each key can mean, from the one key map, and each action's key.
POWER_KEYS: dict[str, list[PowerAction]] = {}
SPECS_KEY: dict[PowerAction, str] = {}
for _binding in POWER_BINDINGS:
    _action = PowerAction(_binding.action.split("'")[1])
    POWER_KEYS.setdefault(_binding.key, []).append(_action)
    SPECS_KEY[_action] = _binding.key


class DomainListScreen(BulkActions):
    BINDINGS = [*POWER_BINDINGS, *LIST_BINDINGS]

    DEFAULT_CSS = """
    DomainListScreen DomainTable { height: 1fr; }
    DomainListScreen #filter { dock: bottom; display: none; margin-bottom: 1; }
    DomainListScreen #filter.-open { display: block; }
    """

    def __init__(self, fleet: Fleet, summaries: list[DomainSummary], figures: FleetFigures, *,
                 shutdown_timeout: float) -> None:
        super().__init__()
        self.fleet = fleet
        self.domains: dict[DomainKey, DomainSummary] = {s.key: s for s in summaries}
        self.connections = {uri: (ConnectionStatus.CONNECTED, "") for uri in fleet.uris}
        self.shutdown_timeout = shutdown_timeout
        self.sort_index = 0
        self.sort_reverse = False
        self.filter: DomainFilter = parse_filter("")
        self._shutdown_timers: dict[DomainKey, Timer] = {}
        self.activity: dict[DomainKey, str] = {}  # what is under way, shown on the VM's row
        self.marks = Marks()  # the VMs power keys and `n` act on, when there are any
        self._pending: list = []
        self.figures = figures  # the app's one store of figures: the list only reads it
        self._stale = False  # stats arrived while another screen was on top

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="header")
        yield DomainTable(multi_host=self.fleet.multi_host, activity=self.activity,
                          marks=self.marks, id="domains")
        yield Input(placeholder="filter: name, state:running, host:NAME, -term to negate",
                    id="filter")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.table.filter_box = self.query_one("#filter", Input)
        self.redraw()
        self.table.focus()

    @property
    def table(self) -> DomainTable:
        return self.query_one(DomainTable)

    @property
    def selected(self) -> DomainSummary | None:
        key = self.table.cursor_key
        return self.domains.get(key) if key else None

    def palette_subject(self) -> str | None:
        """What the power keys act on now, as the command palette names it."""
        if self.marks:
            return self.marked_subject()
        summary = self.selected
        return summary.name if summary is not None else None

    # -- drawing --------------------------------------------------------------------------

    def shown_domains(self) -> list[DomainSummary]:
        label, key = SORTS[self.sort_index]
        rows = [s for s in self.domains.values() if self.filter(s)]
        stats = self.stats
        return sorted(rows, key=lambda s: key(s, stats.get(s.key)), reverse=self.sort_reverse)

    def redraw(self) -> None:
        self._stale = False
        rows = self.shown_domains()
        with self.app.batch_update():
            self.table.sort_column = SORTS[self.sort_index][0]
            self.table.sort_reverse = self.sort_reverse
            self.table.show(rows, self.stats, self.figures.cpu)
            column = SORTS[self.sort_index][0]
            descending = (column in BUSIEST_FIRST) != self.sort_reverse
            label = column + (" ↓" if descending else " ↑")
            self.query_one(FleetHeader).update_from(
                self.domains.values(), shown=len(rows), connections=self.connections,
                sort_label=label, filter_text=self.filter.text, readonly=self.fleet.readonly,
                marked=len(self.marks), marked_hidden=self._marked_hidden(rows))
        self.refresh_bindings()

    def _marked_hidden(self, rows: list[DomainSummary]) -> int:
        if not self.marks:
            return 0
        return len(self.marks) - sum(1 for s in rows if s.key in self.marks)

    @property
    def stats(self) -> dict[DomainKey, DomainStats]:
        return self.figures.latest

    def apply_stats(self, tick: StatsTick) -> None:
        """A connection's new sample (already in the store): the figures, and the order when
        sorted by them."""
        if tick.error:
            return  # the connection's own events report what went wrong
        if not self.is_current or not self.is_mounted:
            self._stale = True  # drawn when the user comes back, not under another screen
        elif SORTS[self.sort_index][0] in BUSIEST_FIRST:
            self.redraw()  # the order itself follows the figures
        else:
            self.table.update_stats(self.stats, self.figures.cpu)

    def on_screen_resume(self) -> None:
        if self._stale:
            self.redraw()

    def on_domain_table_cursor_moved(self) -> None:
        self.refresh_bindings()

    def action_snapshots(self) -> None:
        summary = self.selected
        if summary is not None:
            self.app.push_screen(SnapshotScreen(self.fleet, summary))

    def action_new_snapshot(self) -> None:
        if self.marks:
            self.request_bulk_snapshot()
            return
        summary = self.selected
        if summary is None:
            return
        if self.fleet.readonly:
            self.notify("Read-only: kvmtui was started with --readonly, so snapshots cannot be "
                        "created.", severity="warning")
            return
        screen = SnapshotScreen(self.fleet, summary)
        self.app.push_screen(screen)
        screen.create_when_read = True

    def action_performance(self) -> None:
        summary = self.selected
        if summary is not None:
            self.app.push_screen(self.vm_screen("performance", summary))

    def vm_screen(self, kind: str, summary: DomainSummary) -> Screen:
        """A new screen about the VM: its details, snapshot tree or performance."""
        if kind == "details":
            return DomainDetailsScreen(self.fleet, summary)
        if kind == "snapshots":
            return SnapshotScreen(self.fleet, summary)
        return PerformanceScreen(self.fleet, summary, self.stats.get(summary.key))

    def action_host(self) -> None:
        summary = self.selected
        uri = summary.key.uri if summary is not None else self.fleet.uris[0]
        self.app.push_screen(HostScreen(self.fleet, uri))

    def action_details(self) -> None:
        summary = self.selected
        if summary is not None:
            self.app.push_screen(DomainDetailsScreen(self.fleet, summary))

    # -- fleet changes --------------------------------------------------------------------

    def apply_change(self, message: FleetChanged) -> None:
        # Bursts (a host starting 500 VMs) are applied together, once per refresh.
        self._pending.append(message.change)
        if len(self._pending) == 1:
            self.call_next(self._apply_pending)

    def _apply_pending(self) -> None:
        changes, self._pending = self._pending, []
        for change in changes:
            self._apply(change)
        self.redraw()

    def _apply(self, change) -> None:
        if isinstance(change, DomainUpdated):
            summary = change.summary
            self.domains[summary.key] = summary
            if summary.state in _SETTLED:
                self._stop_shutdown_watch(summary.key)
        elif isinstance(change, DomainRemoved):
            self.domains.pop(change.key, None)
            self.marks.forget(change.key)
            self._stop_shutdown_watch(change.key)
        elif isinstance(change, DomainsReloaded):
            self.domains = {k: s for k, s in self.domains.items() if k.uri != change.uri}
            self.domains.update({s.key: s for s in change.summaries})
            self.marks.keep_only(change.uri, (s.key for s in change.summaries))
        elif isinstance(change, ConnectionChanged):
            self.connections[change.uri] = (change.status, change.reason)
            if change.status is ConnectionStatus.CONNECTED:
                self.table.disconnected_uris.discard(change.uri)
                self.notify(f"{change.uri}: reconnected", timeout=3)
            else:
                self.figures.forget(change.uri)  # its figures stopped being true
                if change.uri not in self.table.disconnected_uris:
                    self.notify(f"{change.uri}: {change.reason}; reconnecting…",
                                severity="warning", timeout=5)
                self.table.disconnected_uris.add(change.uri)
            self.table.restyle()
        # DomainEvent: nothing to do here; the connection re-reads the row (DomainUpdated)

    # -- power ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "power":
            power = PowerAction(str(parameters[0]))
            if self.marks:
                return self.bulk_applies(power, POWER_KEYS[SPECS_KEY[power]])
            return power in self._actionable()
        if action == "clear_filter":
            return bool(self.filter.text)
        if action == "clear_marks":
            return bool(self.marks)
        return True

    def _actionable(self) -> set[PowerAction]:
        return self.actionable(self.selected)

    def actionable(self, summary: DomainSummary | None) -> set[PowerAction]:
        """The power actions the VM can be asked for now (none when read-only or its host is
        disconnected): the same rules on every screen."""
        if summary is None or self.fleet.readonly or self.unreachable(summary):
            return set()
        return available(summary)

    def unreachable(self, summary: DomainSummary) -> str | None:
        """Why nothing can be asked of the VM's host now, or None."""
        if summary.key.uri in self.table.disconnected_uris:
            return f"{summary.host} is disconnected"
        return None

    def explain_power_key(self, key: str, summary: DomainSummary | None = None) -> bool:
        """A power key no binding takes here: say why in one line. True when it was one."""
        actions = [a for a in POWER_KEYS.get(key, ())]
        if summary is None and self.marks and actions:  # on the list, with marks: for them
            if any(self.bulk_applies(a, actions) for a in actions):
                return False
            self.explain_bulk_key(actions)
            return True
        summary = summary if summary is not None else self.selected
        if not actions or set(actions) & self.actionable(summary):
            return False
        if summary is None:
            return True
        if self.fleet.readonly:
            self.notify(f"Read-only: kvmtui was started with --readonly, so it cannot "
                        f"{SPECS[actions[0]].label.lower()} {summary.name}.", severity="warning")
        elif summary.key.uri in self.table.disconnected_uris:
            self.notify(f"{summary.host} is disconnected: nothing can be asked of "
                        f"{summary.name} until it reconnects.", severity="warning")
        else:
            self.notify(why_not(summary, actions), timeout=3)
        return True

    def action_power(self, name: str) -> None:
        if self.marks:
            self.request_bulk_power(PowerAction(name))
        else:
            self.request_power(self.selected, PowerAction(name))

    def request_power(self, summary: DomainSummary | None, action: PowerAction) -> None:
        """A power key on the list or on a VM's screen: ask first when it destroys, then act."""
        if summary is None or action not in self.actionable(summary):
            return
        spec = SPECS[action]
        if spec.confirm:
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
        if summary is None or summary.state in _SETTLED:
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
        if summary is None or summary.state in _SETTLED:
            return
        self.set_activity(key, SHUTDOWN_OVERDUE)
        self.notify(f"{name} has not shut down after {self.shutdown_timeout:g} s (it is "
                    f"{summary.state.word}). Select it and press F to force it off (asks first).",
                    title="Shutdown overdue", severity="warning", timeout=15)

    # -- marks ----------------------------------------------------------------------------

    def action_mark(self) -> None:
        key = self.table.cursor_key
        if key is None:
            return
        self.marks.toggle(key)
        self.table.action_cursor(1)
        self.marks_changed()

    def action_mark_shown(self) -> None:
        shown = self.table.shown_keys()
        marked = self.marks.toggle_all(shown)
        self.marks_changed()
        if shown:
            self.notify(f"{'Marked' if marked else 'Unmarked'} the {len(shown)} VM"
                        f"{'' if len(shown) == 1 else 's'} shown", timeout=2)

    def action_clear_marks(self) -> None:
        count = self.marks.clear()
        self.marks_changed()
        self.notify(f"Unmarked {count} VM{'' if count == 1 else 's'}", timeout=2)

    def marks_changed(self) -> None:
        self.redraw()  # the rows' marks, the header's count and the power keys' meaning

    # -- filter and sort ------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-open")
        box.focus()
        self.call_after_refresh(box.focus)  # a box that was hidden takes focus once shown

    def on_domain_table_filter_requested(self) -> None:
        self.action_filter()

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        try:
            self.filter = parse_filter(event.value)
        except FilterError as err:
            event.input.border_subtitle = Text(str(err))  # never markup: it quotes the term
            event.input.add_class("-invalid")
            return  # the last good filter stays in force
        event.input.border_subtitle = ""
        event.input.remove_class("-invalid")
        self.redraw()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.remove_class("-open")
        self.table.focus()

    def on_key(self, event) -> None:
        box = self.query_one("#filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            self.action_clear_filter()
        elif not box.has_focus and self.explain_power_key(event.key):
            event.stop()  # a power key that does not apply here: said why, nothing done

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.border_subtitle = ""
        box.remove_class("-open", "-invalid")
        self.filter = parse_filter("")
        self.table.focus()
        self.redraw()

    def action_sort(self) -> None:
        current = SORTS[self.sort_index][0]
        self.app.push_screen(SortScreen(self.sortable_columns(), current, self.sort_reverse),
                             self.sort_by)

    def sortable_columns(self) -> list[tuple[str, str]]:
        """(sort key, the header's label) of every column on screen the list can sort by."""
        orders = {label for label, _ in SORTS}
        return [(c.key, c.label) for c in self.table.columns if c.key in orders]

    def sort_by(self, column: str | None) -> None:
        """Sort by the column; picking the column already sorted by reverses the order."""
        if column is None:
            return
        index = next(i for i, (label, _) in enumerate(SORTS) if label == column)
        if index == self.sort_index:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_index, self.sort_reverse = index, False
        self.redraw()

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.redraw()
