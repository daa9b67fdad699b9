"""The base of every screen about one VM (details, snapshot tree, performance, later the console).

It owns what they share: the VM's key and live summary (followed through the app's fleet feed
while the screen is mounted), the title line, `escape` back, the read-only refusal, and what
happens when the VM disappears. A screen says what differs by overriding the hooks.
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from textual.widgets import Static

from kvmtui.keys import VM_BINDINGS
from kvmtui.services import services
from kvmtui.virt.domain.power import PowerAction
from kvmtui.virt.models import (
    Change,
    ConnectionChanged,
    ConnectionRemoved,
    DomainEvent,
    DomainKey,
    DomainRemoved,
    DomainsReloaded,
    DomainSummary,
    DomainUpdated,
)
from kvmtui.virt.session.fleet import Fleet


class VmScreen(Screen):
    BINDINGS = [*VM_BINDINGS]

    def __init__(self, fleet: Fleet, summary: DomainSummary) -> None:
        super().__init__()
        self.fleet = fleet
        self.key: DomainKey = summary.key
        self.summary = summary
        self.gone = False  # the VM no longer exists

    # -- hooks ------------------------------------------------------------------------------

    def palette_subject(self) -> str | None:
        """What the power keys act on here, as the command palette names it."""
        return self.summary.name

    def title_text(self) -> str:
        return self.summary.name

    def summary_changed(self) -> None:
        """The VM's summary changed (state, name, memory…): by default, the title follows."""
        self.update_title()

    def vm_event(self, change: DomainEvent) -> None:
        """An event about this VM (lifecycle, device, agent, reboot…)."""

    def vm_reloaded(self) -> None:
        """Its connection came back and listed its domains again."""

    def connection_changed(self, change: ConnectionChanged) -> None:
        """Its connection was lost (or is back: vm_reloaded follows)."""

    def vm_removed(self, name: str) -> None:
        """The VM was undefined elsewhere: by default, say so once and go back."""
        self.notify(f"{name} no longer exists (undefined by another client).",
                    severity="warning", timeout=8)
        self.action_back()

    # -- shared -----------------------------------------------------------------------------

    def update_title(self) -> None:
        self.query_one("#title", Static).update(self.title_text())

    @property
    def alive(self) -> bool:
        """Still on the screen stack: a popped screen lingers a moment while it is removed."""
        return self.is_attached and self in self.app.screen_stack

    def action_back(self) -> None:
        if self.is_current:
            self.app.pop_screen()

    def refuse_if_readonly(self, what: str) -> bool:
        """True, after saying why in one line, when the connection is read-only."""
        readonly = self.fleet.is_readonly(self.key.uri)
        if readonly:
            self.notify(f"Read-only: {self.fleet.readonly_reason(self.key.uri)}, so {what}.",
                        severity="warning")
        return readonly

    # -- the power keys, with the list's rules and questions -------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "power":
            return (not self.gone
                    and PowerAction(str(parameters[0])) in services(self.app).power_actions(self.summary))
        return True

    def action_power(self, name: str) -> None:
        if not self.gone:
            services(self.app).request_power(self.summary, PowerAction(name))

    def on_key(self, event: events.Key) -> None:
        if not self.gone and services(self.app).explain_power_key(self.summary, event.key):
            event.stop()  # a power key that does not apply to this VM now: said why

    def action_show_vm(self, kind: str) -> None:
        if not self.gone and self.kind != kind:
            services(self.app).show_vm(kind, self.summary)

    kind = ""  # "details", "snapshots" or "performance": which screen this is

    def on_mount(self) -> None:
        services(self.app).fleet_feed.subscribe(self, self._from_fleet)

    def on_unmount(self) -> None:
        services(self.app).fleet_feed.unsubscribe(self)

    def _from_fleet(self, change: Change) -> None:
        if isinstance(change, DomainUpdated) and change.summary.key == self.key:
            self.summary = change.summary
            self.summary_changed()
            self.refresh_bindings()  # the power keys offered follow the VM's state
        elif isinstance(change, DomainEvent) and change.key == self.key:
            self.vm_event(change)
        elif isinstance(change, DomainRemoved) and change.key == self.key:
            if not self.gone:
                self.gone = True
                self.vm_removed(change.name)
        elif isinstance(change, DomainsReloaded) and change.uri == self.key.uri:
            self.vm_reloaded()
        elif isinstance(change, ConnectionChanged) and change.uri == self.key.uri:
            self.connection_changed(change)
        elif isinstance(change, ConnectionRemoved) and change.uri == self.key.uri:
            if not self.gone:
                self.gone = True
                self.notify(f"Host {change.name} was removed: {self.summary.name} is no longer "
                            "shown (nothing on the host changed).", timeout=5)
                self.action_back()
