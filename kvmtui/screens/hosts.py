"""`H`: the hosts overview — one row per connection: its state (connecting for how long,
refused or unreachable with libvirt's words, retrying in N s), versions, VMs, the host's own
CPU and memory (libvirt's node stats, so remote hosts too) and its KVM exits per second summed
over its VMs. `enter` opens a host's view; hosts can be added, removed and retried here.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from kvmtui.keys import HOSTS_BINDINGS
from kvmtui.screens.host import HostScreen
from kvmtui.screens.host_dialogs import AddHostRequest, AddHostScreen, RemoveHostScreen
from kvmtui.services import services
from kvmtui.virt.models import ConnectionChanged, ConnectionStatus, NodeUsage, StatsTick
from kvmtui.virt.perf.host_exits import summed_exits
from kvmtui.virt.session.config import ConfigError, HostEntry, load_config
from kvmtui.virt.session.config_edit import append_host, remove_host
from kvmtui.virt.session.connection import Connection
from kvmtui.virt.session.fleet import Fleet
from kvmtui.virt.session.hoststate import state_words
from kvmtui.widgets.counters import LiveTable
from kvmtui.widgets.formatting import human_kib
from kvmtui.widgets.formatting import per_second as rate_text
from kvmtui.widgets.key_footer import KeyFooter

REDRAW_S = 0.5
COLUMNS = ["Host", "State", "VMs", "CPU%", "Memory", "Exits/s", "libvirt", "Hypervisor", "URI"]


class HostsScreen(Screen):
    BINDINGS = [*HOSTS_BINDINGS]

    DEFAULT_CSS = """
    HostsScreen #title { height: 1; padding: 0 1; background: $panel; text-style: bold;
        text-wrap: nowrap; text-overflow: ellipsis; }
    HostsScreen LiveTable { height: 1fr; }
    HostsScreen #detail { height: auto; max-height: 6; padding: 0 1; background: $panel; }
    """

    def __init__(self, fleet: Fleet, selected_uri: str | None = None) -> None:
        super().__init__()
        self.fleet = fleet
        self.selected_uri = selected_uri  # the cursor starts on the list's VM's host
        self.node: dict[str, NodeUsage] = {}
        self._dirty = False
        self._drawn_at = 0.0

    def compose(self) -> ComposeResult:
        yield Static("Hosts", id="title", markup=False)
        yield LiveTable(id="hosts")
        yield Static("", id="detail", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        app = services(self.app)
        app.stats_feed.subscribe(self, self.apply_stats)
        app.fleet_feed.subscribe(self, self._changed)
        app.sampler.node_watchers += 1  # ticks carry each host's CPU and memory from now on
        table = self.query_one(LiveTable)
        self.redraw()
        if self.selected_uri in self.fleet.connections:
            table.move_cursor(row=list(self.fleet.connections).index(self.selected_uri),
                              animate=False)
        table.focus()
        # Redrawn twice a second at the most, however many events and ticks arrive (500 VMs
        # starting are 500 events), and each second while a state's clock runs ("connecting
        # 12 s", "retrying in 4 s").
        self.set_interval(REDRAW_S, self._redraw_if_due)

    def on_unmount(self) -> None:
        app = services(self.app)
        app.stats_feed.unsubscribe(self)
        app.fleet_feed.unsubscribe(self)
        app.sampler.node_watchers -= 1

    def apply_stats(self, tick: StatsTick) -> None:
        if tick.node is not None:
            self.node[tick.uri] = tick.node
        self._dirty = True

    def _changed(self, _change) -> None:
        self._dirty = True

    def _redraw_if_due(self) -> None:
        clocks = any(c.status is not ConnectionStatus.CONNECTED
                     for c in self.fleet.connections.values())
        if self._dirty or (clocks and time.monotonic() - self._drawn_at >= 1.0):
            self.redraw()

    # -- drawing --------------------------------------------------------------------------

    def redraw(self) -> None:
        if not self.is_attached:
            return
        now = time.monotonic()
        self._dirty, self._drawn_at = False, now
        rows = [(uri, self.row(connection, now)) for uri, connection in
                self.fleet.connections.items()]
        table = self.query_one(LiveTable)
        table.replace(COLUMNS, rows)
        connected = sum(1 for c in self.fleet.connections.values()
                        if c.status is ConnectionStatus.CONNECTED)
        self.query_one("#title", Static).update(
            f"Hosts · {connected} of {len(rows)} connected · a adds one · escape back")
        self._show_detail(now)
        self.refresh_bindings()

    def row(self, connection: Connection, now: float) -> list:
        state = connection.state
        connected = state.status is ConnectionStatus.CONNECTED
        running, total = services(self.app).vm_counts(connection.uri)
        node = self.node.get(connection.uri) if connected else None
        libvirt_version, hypervisor = connection.versions or ("", "")
        return [connection.host, _state_cell(state, now),
                f"{running}/{total}" if connected else "-",
                _cpu(node), _memory(node), self._exits(connection.uri) if connected else "-",
                libvirt_version, hypervisor, connection.uri]

    def _exits(self, uri: str) -> str:
        exits = summed_exits(services(self.app).latest_stats(uri))
        return rate_text(exits["total"].rate) if "total" in exits else "-"

    def _show_detail(self, now: float) -> None:
        connection = self.selected
        detail = self.query_one("#detail", Static)
        if connection is None:
            detail.update("No hosts: press a to add one.")
            return
        state = connection.state
        text = Text()
        text.append(connection.host, style="bold")
        text.append(f" · {connection.uri}")
        if connection.readonly:
            text.append(" · read-only", style="bold")
        text.append("\n")
        text.append(state_words(state, now),
                    style="" if state.status is ConnectionStatus.CONNECTED else "bold")
        if connection.versions:
            text.append(f"\nlibvirt {connection.versions[0]} · {connection.versions[1]}")
        detail.update(text)

    @property
    def selected(self) -> Connection | None:
        table = self.query_one(LiveTable)
        uris = list(self.fleet.connections)
        if not uris or table.cursor_row >= len(uris):
            return None
        return self.fleet.connections[uris[table.cursor_row]]

    def on_data_table_row_highlighted(self) -> None:
        self._show_detail(time.monotonic())
        self.refresh_bindings()

    # -- keys -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        connection = self.selected
        if action in ("open_host", "remove_host"):
            return connection is not None
        if action == "retry_host":
            return connection is not None and connection.status.failed
        return True

    def action_back(self) -> None:
        if self.is_current:
            self.app.pop_screen()

    def action_open_host(self) -> None:
        connection = self.selected
        if connection is None:
            return
        if connection.status is not ConnectionStatus.CONNECTED:
            self.notify(f"{connection.host} is not connected: "
                        f"{state_words(connection.state, time.monotonic())}",
                        severity="warning")
            return
        self.app.push_screen(HostScreen(self.fleet, connection.uri))

    def action_retry_host(self) -> None:
        connection = self.selected
        if connection is not None and connection.status.failed:
            connection.retry_now()
            self.notify(f"Retrying {connection.host} now…", timeout=3)

    def action_add_host(self) -> None:
        taken_names = {c.host for c in self.fleet.connections.values()}
        self.app.push_screen(AddHostScreen(self._config_path(), set(self.fleet.connections),
                                           taken_names), self._add)

    def _add(self, request: AddHostRequest | None) -> None:
        if request is None:
            return
        try:
            connection = self.fleet.add(request.entry)
        except ValueError as err:
            self.notify(f"Cannot add {request.entry.uri}: {err}", severity="error")
            return
        entry = HostEntry(connection.host, connection.uri, request.entry.readonly)
        saved = ""
        if request.save:
            try:
                append_host(self._config_path(), entry)
                saved = f"; saved to {self._config_path()}"
            except ConfigError as err:
                self.notify(f"{entry.name} was added for this session, but not saved: {err}",
                            severity="error", timeout=10)
        self.notify(f"Added host {entry.name}: connecting…{saved}", timeout=4)
        self.redraw()
        self.query_one(LiveTable).move_cursor(row=len(self.fleet.connections) - 1,
                                              animate=False)

    def action_remove_host(self) -> None:
        connection = self.selected
        if connection is None:
            return
        path = self._config_path()
        try:
            in_config = any(h.uri == connection.uri for h in load_config(path).hosts)
        except ConfigError:
            in_config = False  # a file broken since start: it is not edited, only the session
        _, total = services(self.app).vm_counts(connection.uri)
        uri = connection.uri
        self.app.push_screen(
            RemoveHostScreen(connection.host, uri, total, path if in_config else None),
            lambda answer: self._remove(uri, answer))

    def _remove(self, uri: str, answer: str | None) -> None:
        if answer is None or uri not in self.fleet.connections:
            return
        name = self.fleet.connections[uri].host
        self.fleet.remove(uri)
        said = f"Removed host {name}; nothing on it changed"
        if answer == "config":
            try:
                remove_host(self._config_path(), uri)
                said += f", and it is no longer in {self._config_path()}"
            except ConfigError as err:
                self.notify(f"{name} was removed for this session, but {err}",
                            severity="error", timeout=10)
        self.notify(said + ".", timeout=5)
        self.redraw()

    def _config_path(self) -> Path:
        return services(self.app).config_path


def _state_cell(state: ConnectionChanged, now: float) -> Text:
    words = state_words(state, now, reason=False)
    if state.status is ConnectionStatus.CONNECTED:
        return Text(words)
    return Text(words, style="bold red" if state.status.failed else "italic")


def _cpu(node: NodeUsage | None) -> str:
    if node is None or node.cpu_percent is None:
        return "-"
    return f"{node.cpu_percent:.1f}"


def _memory(node: NodeUsage | None) -> str:
    if node is None or node.memory_total_kib is None or node.memory_used_kib is None:
        return "-"
    return f"{human_kib(node.memory_used_kib)} of {human_kib(node.memory_total_kib)}"
