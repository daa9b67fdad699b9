"""The questions the snapshot tree asks: create (name, description, kind), revert, delete."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from kvmtui.keys import CHOICE_BINDINGS, CREATE_BINDINGS
from kvmtui.screens.guarded import GuardedModal
from kvmtui.virt.domain import snapshots as snaps

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 72; max-width: 100%; height: auto; max-height: 100%; border: thick $primary;
    padding: 0 1; background: $surface;
}}
{name} .question {{ text-style: bold; margin-bottom: 1; }}
{name} .risk {{ margin-bottom: 1; }}
{name} .error {{ color: $text-error; height: auto; }}
{name} RadioSet {{ width: 100%; border: none; }}
{name} Checkbox {{ border: none; }}
{name} Input {{ margin-bottom: 1; }}
{name} Horizontal {{ height: auto; align: right middle; margin-top: 1; }}
{name} Button {{ margin-left: 2; }}
"""


class ChoiceQuestion(GuardedModal):
    """A question with numbered choices (1, 2, 3 pick one); Cancel is focused first."""

    BINDINGS = [*CHOICE_BINDINGS]

    picked = 0

    def action_pick(self, index: int) -> None:
        buttons = list(self.query(RadioButton))
        if index < len(buttons):
            buttons[index].value = True
            self.picked = index  # now, not when RadioSet's own message arrives: 'y' may be next

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.picked = event.index

    def chosen(self) -> int:
        return self.picked

    def action_cancel(self) -> None:
        self.answer(None)

    def action_accept(self) -> None:
        raise NotImplementedError  # each question says what its yes means

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "yes":
            self.action_accept()
        else:
            self.answer(None)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()


class RevertScreen(ChoiceQuestion):
    """Dismisses with the state to leave the VM in after the revert, or None."""

    DEFAULT_CSS = DIALOG_CSS.format(name="RevertScreen")

    def __init__(self, vm: str, snapshot: snaps.Snapshot) -> None:
        super().__init__()
        self.vm = vm
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Revert {self.vm} to '{self.snapshot.name}'?", classes="question",
                         markup=False)
            yield Static(f"Everything {self.vm} did since that snapshot will be lost: its disks "
                         f"and, if it runs, its memory go back to {self.snapshot.captured}.",
                         classes="risk", markup=False)
            yield Label("Afterwards the VM is:")
            with RadioSet():
                yield RadioButton("1  as the snapshot was taken", value=True)
                yield RadioButton("2  running")
                yield RadioButton("3  paused")
            with Horizontal():
                yield Button("Cancel (n)", id="no", variant="primary", compact=True)
                yield Button("Revert (y)", id="yes", variant="error", compact=True)

    def action_accept(self) -> None:
        self.answer([snaps.AFTER_AS_TAKEN, snaps.AFTER_RUNNING, snaps.AFTER_PAUSED][self.chosen()])


class DeleteScreen(ChoiceQuestion):
    """Dismisses with the delete mode, or None."""

    DEFAULT_CSS = DIALOG_CSS.format(name="DeleteScreen")

    def __init__(self, vm: str, snapshot: snaps.Snapshot, children: int, descendants: int) -> None:
        super().__init__()
        self.vm = vm
        self.snapshot = snapshot
        self.child_count = children
        self.descendant_count = descendants

    def compose(self) -> ComposeResult:
        name = self.snapshot.name
        moved = (f", its {self.child_count} child snapshot(s) move up to its parent"
                 if self.child_count else "")
        with Vertical():
            yield Static(f"Delete snapshot '{name}' of {self.vm}?", classes="question",
                         markup=False)
            yield Static("The VM itself and its disk images are kept; what goes is the saved "
                         "state you could revert to.", classes="risk", markup=False)
            with RadioSet():
                yield RadioButton(f"1  this snapshot only{moved}", value=True)
                yield RadioButton(f"2  this snapshot and all {self.descendant_count} below it")
                yield RadioButton("3  metadata only: libvirt forgets it, data stays in the images")
            with Horizontal():
                yield Button("Cancel (n)", id="no", variant="primary", compact=True)
                yield Button("Delete (y)", id="yes", variant="error", compact=True)

    def action_accept(self) -> None:
        self.answer([snaps.DELETE_THIS, snaps.DELETE_SUBTREE, snaps.DELETE_METADATA][self.chosen()])


@dataclass(frozen=True)
class CreateRequest:
    name: str
    description: str
    kind: str
    quiesce: bool


def shown_as_typed(text: str) -> str:
    """The text with each line break and control character as one visible symbol (⏎, ␛, ␉…):
    the box shows what it holds, and no escape sequence reaches the terminal."""
    out = []
    for ch in text:
        if ch in snaps.LINE_BREAKS:
            out.append("⏎")
        elif ch < " ":
            out.append(chr(0x2400 + ord(ch)))  # Unicode's control pictures, ␀ to ␟
        elif ch == "\x7f":
            out.append("␡")
        elif snaps.unstorable(ch):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


class ExactInput(Input):
    """An Input that keeps a paste exactly as pasted, every line and control character of it.

    Textual's own Input keeps only the first line of a paste, so 'line1\\nline2' would quietly
    become 'line1' and be created under that name. Here what was pasted stays in the box, in
    sight, and the name check refuses it with the reason.
    """

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()  # Input's own handler would insert the first line again
        if event.text:
            start, end = sorted(self.selection)
            self.replace(event.text, start, end)

    # Drawing and cursor placement follow what is shown: one cell per symbol.
    @property
    def _value(self) -> Text:
        return Text(shown_as_typed(self.value), no_wrap=True, overflow="ignore", end="")

    def _position_to_cell(self, position: int) -> int:
        return cell_len(shown_as_typed(self.value[:position]))

    def _cell_offset_to_index(self, offset: int) -> int:
        shown = shown_as_typed(self.value)
        cells = 0
        for index, ch in enumerate(shown):
            width = cell_len(ch)
            if cells <= offset + self.scroll_offset.x < cells + width:
                return index
            cells += width
        return len(self.value)


class NameForm(GuardedModal):
    """A form whose first field is FIRST (#name): enter in a field or the #yes button submits,
    the #no button and escape cancel. The new-snapshot questions (one VM, the marked VMs) and
    "add a host" are these."""

    BINDINGS = [*CREATE_BINDINGS]
    FIRST = "#name"

    def on_mount(self) -> None:
        self.query_one(self.FIRST, Input).focus()

    def action_cancel(self) -> None:
        self.answer(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "yes":
            self.submit()
        else:
            self.answer(None)

    def submit(self) -> None:
        raise NotImplementedError  # each form says what it answers

    def refuse(self, problem: str) -> None:
        """The name cannot be used: say why under the fields, and go back to the first field."""
        self.query_one("#error", Static).update(problem)
        self.query_one(self.FIRST, Input).focus()


class CreateSnapshotScreen(NameForm):
    """Name (a readable timestamp by default), description and kind; validated before sending."""

    DEFAULT_CSS = DIALOG_CSS.format(name="CreateSnapshotScreen")

    def __init__(self, vm: str, running: bool, agent: bool, existing: set[str]) -> None:
        super().__init__()
        self.vm = vm
        self.vm_running = running
        self.agent_connected = agent
        self.existing = existing

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"New snapshot of {self.vm}", classes="question", markup=False)
            yield Label("Name")
            yield ExactInput(snaps.default_name(), id="name", placeholder="name", compact=True)
            yield Label("Description")
            yield Input(id="description", placeholder="(optional)", compact=True)
            with RadioSet(id="kind"):
                if self.vm_running:
                    yield RadioButton("disks and memory (internal, as virsh does)", value=True)
                    yield RadioButton("disks only (external overlay files, no memory)")
                else:
                    yield RadioButton("disks (internal; the VM is shut off)", value=True)
            yield Checkbox("quiesce file systems through the guest agent (disks only)",
                           id="quiesce", value=False, disabled=not (self.vm_running and self.agent_connected))
            yield Static("", id="error", classes="error", markup=False)
            with Horizontal():
                yield Button("Cancel", id="no", compact=True)
                # enter creates from the two text fields only: on the kind, the checkbox or
                # Cancel it does what it does there, so the label promises no key
                yield Button("Create", id="yes", variant="primary", compact=True)

    def submit(self) -> None:
        name = self.query_one("#name", Input).value
        problem = snaps.validate_name(name, self.existing)
        if problem:
            self.refuse(problem)
            return
        kind = snaps.KIND_DISK
        if self.vm_running:
            index = self.query_one("#kind", RadioSet).pressed_index
            kind = snaps.KIND_DISK_ONLY if index == 1 else snaps.KIND_MEMORY
        quiesce = self.query_one("#quiesce", Checkbox).value and kind == snaps.KIND_DISK_ONLY
        self.answer(CreateRequest(name, self.query_one("#description", Input).value, kind, quiesce))
