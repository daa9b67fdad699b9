"""`enter` on a VM: its overview, CPU, memory, disks, NICs, devices, XML and advice, kept live."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static, TabbedContent, TabPane

from kvmtui.keys import DETAILS_BINDINGS, DETAILS_TABS
from kvmtui.messages import DetailsFailed, DetailsLoaded
from kvmtui.screens.advice_reading import AdviceRead, advise_with, read_advice_inputs
from kvmtui.screens.replies import reply
from kvmtui.screens.vm_screen import VmScreen
from kvmtui.services import services
from kvmtui.virt.advice import Inputs
from kvmtui.virt.domain.details import DomainDetails
from kvmtui.virt.domain.domxml import parse_domain
from kvmtui.virt.domain.livefacts import LiveFacts, read_live_facts
from kvmtui.virt.models import (
    DomainEvent,
    DomainKey,
    DomainState,
    DomainSummary,
)
from kvmtui.virt.session.errors import is_no_domain, libvirt_message
from kvmtui.virt.session.fleet import Fleet
from kvmtui.widgets import details_view
from kvmtui.widgets.advice_view import findings_view
from kvmtui.widgets.formatting import count, fit_parts
from kvmtui.widgets.key_footer import KeyFooter

TABS = DETAILS_TABS


class DomainVanished(Message):
    """A re-read found the domain gone: news the header gives, not an error."""

    def __init__(self, key: DomainKey) -> None:
        super().__init__()
        self.key = key


class DomainDetailsScreen(VmScreen):
    BINDINGS = [*DETAILS_BINDINGS]
    kind = "details"

    DEFAULT_CSS = """
    DomainDetailsScreen #title { height: 1; padding: 0 1; background: $panel; text-style: bold;
        text-wrap: nowrap; text-overflow: ellipsis; }
    DomainDetailsScreen TabbedContent { height: 1fr; }
    DomainDetailsScreen ContentSwitcher { height: 1fr; }
    DomainDetailsScreen TabPane { padding: 0 1; height: 1fr; }
    DomainDetailsScreen VerticalScroll { height: 1fr; }
    """

    def __init__(self, fleet: Fleet, summary: DomainSummary) -> None:
        super().__init__(fleet, summary)
        self._transient = not summary.persistent
        self._vanished = False  # a re-read found it gone before the list said so
        self.details: DomainDetails | None = None
        self.facts: LiveFacts | None = None
        self.advice_inputs: Inputs | None = None  # its XML and host; figures joined when shown

    def compose(self) -> ComposeResult:
        yield Static(self.title_text(), id="title", markup=False)
        with TabbedContent(id="tabs"):
            for tab, label in TABS:
                with TabPane(label, id=tab):
                    with VerticalScroll(id=f"{tab}-scroll"):
                        yield Static("reading…", id=f"{tab}-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#overview-scroll").focus()

    def title_text(self) -> str:
        s = self.summary
        if self.gone or self._vanished:
            return f"{s.name} · {self._gone()}"
        host = f" on {s.host}" if self.fleet.multi_host else ""
        # what does not fit is left out whole (the key hint first), never cut mid-figure
        return fit_parts([s.name, f"{s.state_text}{host}", count(s.vcpus, "vCPU"),
                          f"{s.memory_kib // 1024} MiB", f"1-{len(TABS)} tabs, ←→ switch, escape back"],
                         self.app.size.width - 2)

    def on_resize(self) -> None:
        self.update_title()

    # -- loading (off the UI thread) --------------------------------------------------------

    @work(thread=True, exclusive=True, group="details")
    def load(self) -> None:
        try:
            dom = self.fleet.domain(self.key)
            xml = dom.XMLDesc(0)
            details = parse_domain(xml)
            facts = read_live_facts(dom, details)
            state = DomainState.coerce(dom.state()[0])
        except Exception as err:  # noqa: BLE001 - libvirt's words go to the user
            if is_no_domain(err):
                reply(self, DomainVanished(self.key))
            else:
                reply(self, DetailsFailed(self.key, libvirt_message(err)))
            return
        reply(self, DetailsLoaded(self.key, details, facts, xml))
        # the advice reads the host too (every running VM's vCPUs): after the tabs are shown
        try:
            inputs = read_advice_inputs(self.fleet, self.key, xml, state)
        except Exception as err:  # noqa: BLE001 - said on the Advice tab
            reply(self, AdviceRead(self.key, None, libvirt_message(err)))
            return
        reply(self, AdviceRead(self.key, inputs))

    def on_details_loaded(self, message: DetailsLoaded) -> None:
        if message.key != self.key:
            return
        self.details, self.facts = message.details, message.facts
        host = self.summary.host
        bodies = {
            "overview": details_view.overview(message.details, self.summary),
            "cpu": details_view.cpu(message.details, message.facts),
            "memory": details_view.memory(message.details),
            "disks": details_view.disks(message.details, message.facts),
            "nics": details_view.nics(message.details, message.facts),
            "devices": details_view.devices(message.details, host),
            "xml": details_view.xml_view(message.xml),
        }
        with self.app.batch_update():
            for tab, body in bodies.items():
                self.query_one(f"#{tab}-body", Static).update(body)

    def on_advice_read(self, message: AdviceRead) -> None:
        if message.key != self.key:
            return
        body = self.query_one("#advice-body", Static)
        if message.inputs is None:
            body.update(Text(f"cannot read the advice's inputs: {message.error}"))
            return
        self.advice_inputs = inputs = message.inputs
        # details asks for no detailed figures: the rate rules wait for `x`, which does
        stats = services(self.app).figures.latest.get(self.key)
        findings = advise_with(inputs, stats)
        note = ("Read from its XML, its host and its last figures." if stats is not None
                else "Read from its XML and its host.")
        if (stats.state if stats is not None else inputs.state) in (DomainState.RUNNING,
                                                                   DomainState.BLOCKED):
            note += " Exit rates by reason and steal are checked live on x (performance)."
        body.update(findings_view(findings, note))

    def on_domain_vanished(self, message: DomainVanished) -> None:
        # libvirt's 'undefined' or 'stopped' event asks for a re-read, which can only fail:
        # the header says why (here, or when the list's removal of the row arrives)
        if message.key == self.key and not self._vanished:
            self._vanished = True
            self.update_title()

    def _gone(self) -> str:
        # a transient VM is undefined by stopping: "undefined by another client" would mislead
        if self._transient:
            return "stopped and gone (it was transient)"
        return "undefined by another client"

    def on_details_failed(self, message: DetailsFailed) -> None:
        self.notify(message.error, title=f"Could not read {self.summary.name}",
                    severity="error", timeout=10)

    # -- staying live -----------------------------------------------------------------------

    def summary_changed(self) -> None:
        self._transient = not self.summary.persistent
        self.update_title()

    def vm_event(self, change: DomainEvent) -> None:
        if change.kind in ("lifecycle", "device-added", "device-removed", "agent", "reboot"):
            self.load()  # devices, live XML, vCPU placement and addresses may all have changed

    def vm_removed(self, name: str) -> None:
        self.update_title()  # the screen stays: what it shows is still worth reading
        self.notify(f"{name} was undefined", severity="warning")

    def vm_reloaded(self) -> None:
        self.load()

    # -- keys -------------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one(f"#{tab}-scroll").focus()

    def action_next_tab(self, step: int) -> None:
        names = [t for t, _ in TABS]
        current = self.query_one(TabbedContent).active or names[0]
        self.action_show_tab(names[(names.index(current) + step) % len(names)])

    def action_reload(self) -> None:
        self.load()
