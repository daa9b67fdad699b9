"""`c` on a VM: its serial console, in this terminal, over whatever URI the VM came from.

Attached, every key goes to the guest (control keys included) except ctrl+], which leaves, as
in `virsh console`. Not attached — the VM is off, another client holds the console, the driver
has none, the connection dropped — the screen says why in plain words with libvirt's message,
and offers what can be done next: start the VM and attach (`s`, as `virsh start --console`),
take the console over (`o`, asks first), attach again (`a`).
"""

from __future__ import annotations

from textual import _time, events, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, OptionList, Static
from textual.widgets.option_list import Option

from kvmtui.keys import CONSOLE_BINDINGS
from kvmtui.messages import (
    ConsoleAttached,
    ConsoleDevicesRead,
    ConsoleEnded,
    ConsoleOutput,
    ConsoleRefused,
)
from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.guarded import GUARD_S
from kvmtui.screens.replies import reply
from kvmtui.screens.vm_screen import VmScreen
from kvmtui.virt.console.devices import ConsoleDevice, console_devices
from kvmtui.virt.console.errors import Refusal, refusal_of
from kvmtui.virt.console.stream import ConsoleStream
from kvmtui.virt.domain.power import PowerAction
from kvmtui.virt.models import ConnectionChanged, ConnectionStatus, DomainState, DomainSummary
from kvmtui.virt.session.errors import libvirt_message
from kvmtui.virt.session.fleet import Fleet
from kvmtui.widgets.key_footer import KeyFooter
from kvmtui.widgets.terminal import TerminalView
from kvmtui.widgets.terminal_keys import is_leave_key, key_bytes

LEAVE = "ctrl+] leaves"
_UP = {DomainState.RUNNING, DomainState.BLOCKED, DomainState.PAUSED, DomainState.NOSTATE}


class ConsoleScreen(VmScreen):
    BINDINGS = [*CONSOLE_BINDINGS]
    kind = "console"
    # KvmApp lets ctrl+c, ctrl+q and ctrl+p through to the guest while this is attached
    takes_all_keys = False

    DEFAULT_CSS = """
    ConsoleScreen #title { height: 1; padding: 0 1; background: $panel; text-style: bold;
        text-wrap: nowrap; text-overflow: ellipsis; }
    ConsoleScreen ContentSwitcher { height: 1fr; }
    ConsoleScreen #status { padding: 1 2; height: auto; }
    ConsoleScreen #picker { height: auto; max-height: 12; margin: 1 2; }
    ConsoleScreen TerminalView { height: 1fr; }
    ConsoleScreen #ended { height: auto; padding: 0 1; background: $warning 30%;
        display: none; }
    ConsoleScreen #ended.-shown { display: block; }
    ConsoleScreen.-attached KeyFooter { display: none; }
    """

    def __init__(self, fleet: Fleet, summary: DomainSummary) -> None:
        super().__init__(fleet, summary)
        self.devices: list[ConsoleDevice] | None = None
        self.device: ConsoleDevice | None = None
        self.stream: ConsoleStream | None = None
        self.refusal: Refusal | None = None
        self._attach_when_up = False  # `s` here: start it, then attach (virsh start --console)
        self.ended: str | None = None  # why the console closed; its last screen stays shown
        # Until the screen says what its keys do, keys typed ahead never reach its bindings:
        # `c` then a typed `reboot` must not reboot the VM. While it connects they are kept for
        # the guest (as a terminal keeps what is typed before virsh attaches).
        self.connecting = True
        self._typed_ahead = bytearray()
        self._settled_at: float | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.title_text(), id="title", markup=False)
        with ContentSwitcher(initial="status"):
            yield Static(f"Reading the consoles of {self.summary.name}…", id="status",
                         markup=False)
            yield OptionList(id="picker")
            with Vertical(id="attached"):
                yield TerminalView(self._send, id="term")
                yield Static("", id="ended", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        super().on_mount()
        if self.fleet.is_readonly(self.key.uri):
            self.say(f"Read-only: libvirt opens no console on a read-only connection "
                     f"({self.fleet.readonly_reason(self.key.uri)}), so {self.summary.name}'s console cannot "
                     f"be shown. escape goes back.", Refusal.READ_ONLY)
            return
        self.read_devices()

    def on_unmount(self) -> None:
        self.detach()
        super().on_unmount()

    # -- what the screen says -----------------------------------------------------------------

    def title_text(self) -> str:
        device = self.device.alias if self.device and self.device.alias else "console"
        return f"Console of {self.summary.name} · {device} · on {self.summary.host} · {LEAVE}"

    def say(self, text: str, refusal: Refusal | None = None, *, settled: bool = True) -> None:
        """Not attached: this text in place of the terminal; once settled, the screen's keys
        work again (those typed before it was on screen excepted)."""
        self.refusal = refusal
        self.query_one("#status", Static).update(text)
        self.query_one(ContentSwitcher).current = "status"
        self._set_attached(False)
        self._settle(settled)

    def _settle(self, settled: bool = True) -> None:
        self.connecting = not settled
        if settled:
            self._typed_ahead.clear()  # nothing to type them into
            self._settled_at = None
            self.call_after_refresh(self._mark_settled)

    def _mark_settled(self) -> None:
        self._settled_at = _time.get_time()

    def _set_attached(self, attached: bool) -> None:
        self.takes_all_keys = attached
        self.set_class(attached, "-attached")
        self.refresh_bindings()

    def keeps_typed_ahead(self, event: events.Key) -> bool:
        """KvmApp asks this of every key while this screen is current, before any binding:
        True when the key was typed before the screen said what its keys do (kept for the
        guest while it connects, dropped after). Leaving (escape, ctrl+]) always goes through."""
        if self.takes_all_keys or event.key == "escape" or is_leave_key(event.key):
            return False
        if self.connecting:
            data = key_bytes(event.key, event.character)
            if data:
                self._typed_ahead += data
            return True
        return self._settled_at is None or event.time < self._settled_at + GUARD_S

    def on_key(self, event: events.Key) -> None:
        if is_leave_key(event.key) and not self.takes_all_keys:
            event.stop()  # ctrl+] leaves, attached or not
            self.action_back()
        else:
            super().on_key(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "take_over":
            return self.refusal is Refusal.IN_USE
        if action == "attach":
            return self.stream is None and self.refusal is not Refusal.READ_ONLY and self._up
        return super().check_action(action, parameters)

    @property
    def _up(self) -> bool:
        return self.summary.state in _UP

    # -- devices ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="console-read")
    def read_devices(self) -> None:
        try:
            xml = self.fleet.domain(self.key).XMLDesc(0)
            devices = console_devices(xml)
        except Exception as err:  # noqa: BLE001 - libvirt's words go to the user
            reply(self, ConsoleDevicesRead(self.key, [], libvirt_message(err)))
            return
        reply(self, ConsoleDevicesRead(self.key, devices))

    def on_console_devices_read(self, message: ConsoleDevicesRead) -> None:
        if message.error:
            self.say(f"Could not read {self.summary.name}'s devices: {message.error}")
            return
        self.devices = message.devices
        if not self._up:
            self._say_not_running()
        elif len(self.devices) > 1:
            self._offer_devices()
        else:
            self.attach(self.devices[0] if self.devices else None)

    def _offer_devices(self) -> None:
        picker = self.query_one("#picker", OptionList)
        picker.clear_options()
        picker.add_options([Option(d.label, id=str(i)) for i, d in enumerate(self.devices or [])])
        picker.highlighted = 0
        picker.border_title = f"{self.summary.name} has {len(self.devices or [])} consoles: enter attaches"
        self.query_one(ContentSwitcher).current = "picker"
        picker.focus()
        self._settle()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.devices and event.option.id is not None:
            self.attach(self.devices[int(event.option.id)])

    def _say_not_running(self) -> None:
        if self.summary.state is DomainState.SHUTOFF and not self.fleet.is_readonly(self.key.uri):
            self.say(f"{self.summary.name} is {self.summary.state_text}: it has no console "
                     f"until it runs.\n\ns starts it and attaches to its console (as virsh "
                     f"start --console) · escape goes back", Refusal.NOT_RUNNING)
        else:
            self.say(f"{self.summary.name} is {self.summary.state_text}: it has no console "
                     f"now. escape goes back", Refusal.NOT_RUNNING)

    # -- attaching ----------------------------------------------------------------------------

    def attach(self, device: ConsoleDevice | None, *, force: bool = False) -> None:
        self.detach()
        self.device = device
        self.update_title()
        stream = ConsoleStream(
            self.fleet.domain(self.key), device.alias if device else None,
            on_ready=lambda: self.post_message(ConsoleOutput(stream)),
            on_end=lambda reason: self.post_message(ConsoleEnded(stream, reason)))
        self.stream = stream
        self.say(f"Attaching to {self.summary.name}'s console…", settled=False)
        self._open(stream, force)

    @work(thread=True, group="console-open")
    def _open(self, stream: ConsoleStream, force: bool) -> None:
        try:
            stream.open(force=force)
        except Exception as err:  # noqa: BLE001 - sorted, and shown with libvirt's words
            refusal, message = refusal_of(err)
            self.post_message(ConsoleRefused(stream, refusal, message))
            return
        self.post_message(ConsoleAttached(stream))

    def on_console_attached(self, message: ConsoleAttached) -> None:
        if message.stream is not self.stream:
            message.stream.close()  # the user moved on meanwhile
            return
        self.refusal = None
        self.ended = None
        self.query_one("#ended", Static).remove_class("-shown")
        self.query_one(ContentSwitcher).current = "attached"
        term = self.query_one(TerminalView)
        term.set_attached()
        term.focus()
        self._set_attached(True)
        self.connecting = False
        if self._typed_ahead:  # what the user typed while it attached goes to the guest
            self._send(bytes(self._typed_ahead))
            self._typed_ahead.clear()
        self.on_console_output(ConsoleOutput(message.stream))  # what came before this message

    def on_console_refused(self, message: ConsoleRefused) -> None:
        if message.stream is not self.stream:
            return
        self.stream = None
        name = self.summary.name
        text = {
            Refusal.IN_USE: f"{name}'s console is in use by another client (a virsh console, "
                            f"virt-manager, another kvmtui).\n\no takes it over (asks first; "
                            f"the other client is cut off) · escape goes back",
            Refusal.NOT_RUNNING: f"{name} is not running: it has no console now.",
            Refusal.READ_ONLY: "Read-only: libvirt opens no console on a read-only connection.",
            Refusal.UNSUPPORTED: f"This connection's driver has no consoles ({self.key.uri}).",
        }.get(message.refusal, f"Could not attach to {name}'s console.")
        self.say(f"{text}\n\nlibvirt says: {message.message}", message.refusal)

    def on_console_output(self, message: ConsoleOutput) -> None:
        if message.stream is self.stream:
            data = message.stream.take()
            if data:
                self.query_one(TerminalView).feed(data)

    def on_console_ended(self, message: ConsoleEnded) -> None:
        if message.stream is not self.stream:
            return
        self.on_console_output(ConsoleOutput(message.stream))  # the last words first
        self.detach()
        self.ended = message.reason
        self.query_one("#ended", Static).add_class("-shown")
        self._show_ended()
        self.query_one(TerminalView).set_ended(message.reason)
        self._set_attached(False)
        self._settle()

    def _show_ended(self, news: str = "") -> None:
        """Under the last screen: why the console closed, and what can be done now."""
        if self.summary.state is DomainState.SHUTOFF and not self.fleet.is_readonly(self.key.uri):
            then = "s starts it and attaches"
        elif self._up:
            then = "a attaches again"
        else:
            then = f"{self.summary.name} is {self.summary.state_text}"
        self.query_one("#ended", Static).update(
            f"The console closed: {self.ended}.{news} {then} · escape goes back")

    def detach(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()

    def _send(self, data: bytes) -> None:
        if self.stream is not None:
            self.stream.send(data)

    def on_terminal_view_leave_requested(self) -> None:
        self.action_back()

    # -- keys while not attached ---------------------------------------------------------------

    def action_attach(self) -> None:
        if self.devices is None:
            self.read_devices()
        elif self._up:
            self.attach(self.device or (self.devices[0] if self.devices else None))

    def action_take_over(self) -> None:
        if self.refusal is not Refusal.IN_USE:
            return
        self.app.push_screen(
            ConfirmScreen(f"Take over {self.summary.name}'s console?",
                          "The client that holds it now is disconnected from it.", "Take over"),
            lambda yes: self.attach(self.device, force=True) if yes else None)

    def action_power(self, name: str) -> None:
        # `s` here means: start it, then attach, as `virsh start --console` does
        if PowerAction(name) in (PowerAction.START, PowerAction.RESTORE):
            self._attach_when_up = True
            self.say(f"Starting {self.summary.name}; attaching to its console when it runs…",
                     settled=False)
        super().action_power(name)

    def summary_changed(self) -> None:
        super().summary_changed()
        if self._attach_when_up and self._up and self.devices is not None:
            self._attach_when_up = False
            self.attach(self.device or (self.devices[0] if self.devices else None))
        elif self.ended is not None:
            self._show_ended()  # the last screen stays; the line under it follows the state
        elif self.stream is None and not self._up and not self._attach_when_up:
            self._say_not_running()

    def connection_changed(self, change: ConnectionChanged) -> None:
        # libvirt may not end the stream itself when the daemon goes away: the close is ours
        if change.status is not ConnectionStatus.CONNECTED and self.stream is not None:
            why = f"the connection to {self.summary.host} was lost"
            self.on_console_ended(ConsoleEnded(self.stream, f"{why} ({change.reason})"
                                               if change.reason else why))

    def vm_reloaded(self) -> None:
        # its connection came back: attaching again is offered, never done by itself
        if self.ended is not None:
            self._show_ended(f" {self.summary.host} is connected again.")
