"""The main screen: every domain of every connection, with power control from the keyboard."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

from kvmtui.keys import LIST_BINDINGS, POWER_BINDINGS
from kvmtui.messages import FleetChanged
from kvmtui.screens.bulk import BulkActions
from kvmtui.screens.list_advice import AdviceMarks, ListAdvice
from kvmtui.screens.power_desk import POWER_KEYS, SETTLED, SPECS_KEY
from kvmtui.screens.sort_dialog import SortScreen, direction_mark
from kvmtui.services import services
from kvmtui.virt.domain.filtering import BUSIEST_FIRST, SORTS, DomainFilter, FilterError, parse_filter
from kvmtui.virt.domain.marks import Marks
from kvmtui.virt.domain.power import PowerAction
from kvmtui.virt.models import (
    ConnectionChanged,
    ConnectionRemoved,
    ConnectionStatus,
    DomainKey,
    DomainRemoved,
    DomainsReloaded,
    DomainStats,
    DomainSummary,
    DomainUpdated,
    StatsTick,
)
from kvmtui.virt.perf.figures import FleetFigures
from kvmtui.virt.session.fleet import Fleet
from kvmtui.virt.session.hoststate import state_words
from kvmtui.widgets.domain_table import DomainTable
from kvmtui.widgets.fleet_header import FleetHeader
from kvmtui.widgets.key_footer import KeyFooter
from kvmtui.widgets.table_layout import LIVE_KEYS, figures_reported


class DomainListScreen(AdviceMarks, BulkActions):
    BINDINGS = [*POWER_BINDINGS, *LIST_BINDINGS]

    DEFAULT_CSS = """
    DomainListScreen DomainTable { height: 1fr; }
    DomainListScreen #filter { dock: bottom; display: none; margin-bottom: 1; }
    DomainListScreen #filter.-open { display: block; }
    """

    def __init__(self, fleet: Fleet, summaries: list[DomainSummary], figures: FleetFigures, *,
                 shutdown_timeout: float, columns: tuple[str, ...] | None = None) -> None:
        super().__init__()
        from kvmtui.virt.columns import DEFAULT_COLUMNS

        self.chosen_columns = columns or DEFAULT_COLUMNS
        # per host, the live columns its figures have filled (a column shows once any has)
        self._reported: dict[str, set[str]] = {}
        self.fleet = fleet
        self.domains: dict[DomainKey, DomainSummary] = {s.key: s for s in summaries}
        # each host's state as the last report said (the header and the rows follow it)
        self.connections: dict[str, ConnectionChanged] = {s.uri: s for s in fleet.states()}
        self._failure_said: set[str] = set()  # hosts whose failure was announced once
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
        self._shown: list[DomainSummary] = []  # the rows as last drawn
        self.advice = ListAdvice(self, fleet, self._advice_changed)

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="header")
        yield DomainTable(multi_host=self.fleet.multi_host, activity=self.activity,
                          marks=self.marks, columns=self.chosen_columns, id="domains")
        yield Input(placeholder="filter: name, state:running, host:NAME, advice:problem, -term",
                    id="filter")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.table.filter_box = self.query_one("#filter", Input)
        self.table.advice = self.advice.worst
        # advice marks a moment later: reading every VM's XML is no part of a paint
        self.set_timer(0.5, lambda: self.advice.read_connected(self.connections, self.domains))
        self.table.disconnected_uris.update(
            uri for uri, state in self.connections.items()
            if state.status is not ConnectionStatus.CONNECTED)
        self.redraw()
        self.table.focus()
        # "connecting 12 s", "retrying in 4 s": the header's clock, while a host is not connected
        self.set_interval(1.0, self._tick_header)

    def _advice_changed(self) -> None:  # a filter on advice may let other rows through now
        self.redraw() if "advice:" in self.filter.text else self.table.refresh()

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
            self.table.empty_text = self._empty_text()
            self._shown = rows
            self._update_header()
        self.refresh_bindings()

    def _update_header(self) -> None:
        column = SORTS[self.sort_index][0]
        # as the column's header names it, with the header's arrow
        label = (f"{dict(self.sortable_columns()).get(column, column)} "
                 f"{direction_mark(column, self.sort_reverse)}")
        rows = self._shown
        self.query_one(FleetHeader).update_from(
            self.domains.values(), shown=len(rows), hosts=self.host_states(),
            now=time.monotonic(), sort_label=label, filter_text=self.filter.text,
            readonly=self.fleet.all_readonly, marked=len(self.marks),
            marked_hidden=self._marked_hidden(rows))

    def _tick_header(self) -> None:
        if self.is_current and any(s.status is not ConnectionStatus.CONNECTED
                                   for s in self.connections.values()):
            self._update_header()

    def host_states(self) -> list[tuple[str, ConnectionChanged]]:
        """(name, state) of each host, in the fleet's order."""
        return [(c.host, self.connections.get(uri, c.state))
                for uri, c in self.fleet.connections.items()]

    def _empty_text(self) -> str:
        if self.domains:
            return "no VM matches the filter (escape clears it)" if self.filter.text else ""
        waiting = [name for name, state in self.host_states()
                   if state.status is not ConnectionStatus.CONNECTED]
        if not self.fleet.connections:
            return "no hosts: press H, then a, to add one"
        if not waiting:
            return "no VMs defined"
        return f"no VMs yet: waiting for {', '.join(waiting)} (H shows why)"

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
        self._note_reported(tick)
        if not self.is_current or not self.is_mounted:
            self._stale = True  # drawn when the user comes back, not under another screen
        elif SORTS[self.sort_index][0] in BUSIEST_FIRST:
            self.redraw()  # the order itself follows the figures
        else:
            self.table.update_stats(self.stats, self.figures.cpu)

    def _note_reported(self, tick: StatsTick) -> None:
        """Columns appear once some host reports their figures and stay while it is there,
        so they do not come and go as VMs start and stop."""
        reported = self._reported.setdefault(tick.uri, set())
        if len(reported) < len(LIVE_KEYS):
            reported |= figures_reported(tick.stats.values())
            self.table.set_fillable(frozenset().union(*self._reported.values()))

    def on_screen_resume(self) -> None:
        if self._stale:
            self.redraw()

    def on_domain_table_cursor_moved(self) -> None:
        self.refresh_bindings()

    def action_snapshots(self) -> None:
        summary = self.selected
        if summary is not None:
            self.app.push_screen(self.vm_screen("snapshots", summary))

    def action_new_snapshot(self) -> None:
        if self.marks:
            self.request_bulk_snapshot()
            return
        summary = self.selected
        if summary is None:
            return
        if self.fleet.is_readonly(summary.key.uri):
            self.notify(f"Read-only: {self.fleet.readonly_reason(summary.key.uri)}, so "
                        "snapshots cannot be created.", severity="warning")
            return
        from kvmtui.screens.snapshots import SnapshotScreen

        screen = SnapshotScreen(self.fleet, summary)
        self.app.push_screen(screen)
        screen.create_when_read = True

    def action_performance(self) -> None:
        summary = self.selected
        if summary is not None:
            self.app.push_screen(self.vm_screen("performance", summary))

    def action_console(self) -> None:
        summary = self.selected
        if summary is not None:
            services(self.app).show_vm("console", summary, replace=False)

    def vm_screen(self, kind: str, summary: DomainSummary) -> Screen:
        """A new screen about the VM: its details, snapshot tree, performance or console.

        Imported here, on first use: the first paint of the list needs none of them (their
        imports, pyte and Rich's syntax highlighting among them, cost ~70 ms of start-up)."""
        from kvmtui.screens.console import ConsoleScreen
        from kvmtui.screens.details import DomainDetailsScreen
        from kvmtui.screens.performance import PerformanceScreen
        from kvmtui.screens.snapshots import SnapshotScreen

        if kind == "console":
            return ConsoleScreen(self.fleet, summary)
        if kind == "details":
            return DomainDetailsScreen(self.fleet, summary)
        if kind == "snapshots":
            return SnapshotScreen(self.fleet, summary)
        return PerformanceScreen(self.fleet, summary, self.stats.get(summary.key))

    def action_hosts(self) -> None:
        from kvmtui.screens.hosts import HostsScreen

        summary = self.selected
        self.app.push_screen(HostsScreen(self.fleet, summary.key.uri if summary else None))

    def action_details(self) -> None:
        summary = self.selected
        if summary is not None:
            self.app.push_screen(self.vm_screen("details", summary))

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
            self.advice.domain_changed(summary.key)
            if summary.state in SETTLED:
                self._stop_shutdown_watch(summary.key)
        elif isinstance(change, DomainRemoved):
            self.domains.pop(change.key, None)
            self.marks.forget(change.key)
            self._stop_shutdown_watch(change.key)
        elif isinstance(change, DomainsReloaded):
            self.domains = {k: s for k, s in self.domains.items() if k.uri != change.uri}
            self.domains.update({s.key: s for s in change.summaries})
            self.marks.keep_only(change.uri, (s.key for s in change.summaries))
            self.table.set_multi_host(self.fleet.multi_host)  # a host added while running
            self.table.top_unless_moved()
            self.advice.read_host(change.uri, [s.key for s in change.summaries])
        elif isinstance(change, ConnectionChanged):
            self._connection_changed(change)
        elif isinstance(change, ConnectionRemoved):
            self._host_removed(change)
        # DomainEvent: nothing to do here; the connection re-reads the row (DomainUpdated)

    def _connection_changed(self, change: ConnectionChanged) -> None:
        if change.uri not in self.fleet.connections:
            return  # a last report from a host the user just removed
        before = self.connections.get(change.uri)
        self.connections[change.uri] = change
        name = self.fleet.connections[change.uri].host
        if change.status is ConnectionStatus.CONNECTED:
            self.table.disconnected_uris.discard(change.uri)
            if before is not None and before.status.failed:
                self.notify(f"{name}: {change.reason or 'connected'}", timeout=3)
            self._failure_said.discard(change.uri)
        else:
            self.figures.forget(change.uri)  # its figures stopped being true
            if change.status.failed and change.uri not in self._failure_said:
                self._failure_said.add(change.uri)  # once: retries say it again and again
                self.notify(f"{name}: {state_words(change, time.monotonic())}",
                            severity="warning", timeout=5)
            self.table.disconnected_uris.add(change.uri)
        self.table.restyle()

    def _host_removed(self, change: ConnectionRemoved) -> None:
        self.domains = {k: s for k, s in self.domains.items() if k.uri != change.uri}
        self.marks.keep_only(change.uri, ())
        self.connections.pop(change.uri, None)
        self._failure_said.discard(change.uri)
        self.table.disconnected_uris.discard(change.uri)
        self.figures.forget(change.uri)
        self._reported.pop(change.uri, None)
        self.advice.forget_host(change.uri)
        self.table.set_fillable(frozenset().union(*self._reported.values()))
        self.table.set_multi_host(self.fleet.multi_host)

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

    def action_power(self, name: str) -> None:
        if self.marks:
            self.request_bulk_power(PowerAction(name))
        else:
            self.request_power(self.selected, PowerAction(name))

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
            self.filter = parse_filter(event.value, self.advice.worst.get)
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

    def action_columns(self) -> None:
        from kvmtui.screens.columns_dialog import ColumnsScreen

        unfilled = LIVE_KEYS - self.table.fillable
        self.app.push_screen(ColumnsScreen(self.table.chosen, unfilled), self.use_columns)

    def use_columns(self, answer: tuple[tuple[str, ...], bool] | None) -> None:
        """The columns the user picked in `C`; saved to the config file when asked."""
        if answer is None:
            return
        columns, save = answer
        self.table.set_columns(columns)
        self._update_header()
        if not save:
            return
        from kvmtui.virt.session.config import ConfigError
        from kvmtui.virt.session.config_edit import save_columns

        path = self.app.config_path  # type: ignore[attr-defined]
        try:
            save_columns(path, columns)
        except ConfigError as err:
            self.notify(str(err), severity="error", timeout=8)
            return
        self.notify(f"columns saved to {path}", timeout=3)

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.redraw()
