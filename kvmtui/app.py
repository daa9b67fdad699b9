"""KvmApp: wires the virt layer's reports to the screens; thin on purpose."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from kvmtui.keys import APP_BINDINGS
from kvmtui.messages import FleetChanged
from kvmtui.screens.details import DomainDetailsScreen
from kvmtui.screens.domain_list import DomainListScreen
from kvmtui.screens.help import HelpScreen
from kvmtui.screens.snapshots import SnapshotScreen
from kvmtui.virt.fleet import Fleet
from kvmtui.virt.models import Change, DomainSummary


class KvmApp(App):
    TITLE = "kvmtui"
    CSS_PATH = Path(__file__).with_name("kvmtui.tcss")
    BINDINGS = APP_BINDINGS
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, fleet: Fleet, summaries: list[DomainSummary], *,
                 shutdown_timeout: float = 60.0) -> None:
        super().__init__()
        self.fleet = fleet
        self.domain_list = DomainListScreen(fleet, summaries, shutdown_timeout=shutdown_timeout)

    def get_default_screen(self) -> DomainListScreen:
        return self.domain_list

    def on_mount(self) -> None:
        # From here on, libvirt's threads reach the UI only through messages.
        self.fleet.attach(self._from_fleet)

    def on_unmount(self) -> None:
        self.fleet.attach(lambda change: None)

    def _from_fleet(self, change: Change) -> None:
        self.post_message(FleetChanged(change))  # thread-safe, never blocks libvirt's thread

    def on_fleet_changed(self, message: FleetChanged) -> None:
        self.domain_list.apply_change(message)
        for screen in self.screen_stack:
            if isinstance(screen, (DomainDetailsScreen, SnapshotScreen)):
                screen.apply_change(message)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
