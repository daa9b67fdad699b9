"""The hosts overview's questions: add a host by URI (optionally saved), remove one (asks)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from kvmtui.screens.snapshot_dialogs import DIALOG_CSS, ChoiceQuestion, NameForm
from kvmtui.virt.session.config import HostEntry


@dataclass(frozen=True)
class AddHostRequest:
    entry: HostEntry    # name "" when the user gave none
    save: bool          # also append it to the config file


def new_host_problem(uri: str, name: str, taken_uris: set[str], taken_names: set[str]) -> str:
    """Why this URI and name cannot be added ('' when they can), in one line."""
    if not uri:
        return "Give the host's libvirt URI, e.g. qemu+ssh://root@kvm1/system"
    if not urlsplit(uri).scheme or " " in uri:
        return f"'{uri}' is not a libvirt URI: e.g. qemu+ssh://root@kvm1/system or qemu:///system"
    if uri in taken_uris:
        return f"{uri} is already in the list"
    if name in taken_names:
        return f"A host is already named {name}: give another name"
    return ""


def shown_path(path: Path, width: int = 52) -> str:
    """The config file's path as a dialog line holds it: ~ for the home directory, and the
    middle cut (never the file name) when it is still too long."""
    text = str(path)
    home = str(Path.home())
    if text.startswith(home + "/"):
        text = "~" + text[len(home):]
    if len(text) <= width:
        return text
    keep = width - 1 - len(path.name) - 1
    return f"{text[:max(keep, 0)]}…/{path.name}"


class AddHostScreen(NameForm):
    """URI, name (the URI's host by default), read-only, and whether to save it."""

    DEFAULT_CSS = DIALOG_CSS.format(name="AddHostScreen")
    FIRST = "#uri"

    def __init__(self, config_path: Path, taken_uris: set[str], taken_names: set[str]) -> None:
        super().__init__()
        self.config_path = config_path
        self.taken_uris = taken_uris
        self.taken_names = taken_names

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Add a host", classes="question")
            yield Label("libvirt URI")
            yield Input(id="uri", placeholder="qemu+ssh://root@kvm1/system", compact=True)
            yield Label("Name (for the Host column)")
            yield Input(id="name", placeholder="the URI's host name", compact=True)
            yield Checkbox("read-only: show everything, change nothing", id="readonly",
                           value=False)
            yield Checkbox(f"save it to {shown_path(self.config_path)}", id="save", value=False)
            yield Static("", id="error", classes="error", markup=False)
            with Horizontal():
                yield Button("Cancel", id="no", compact=True)
                yield Button("Add", id="yes", variant="primary", compact=True)

    def submit(self) -> None:
        uri = self.query_one("#uri", Input).value.strip()
        name = self.query_one("#name", Input).value.strip()
        problem = new_host_problem(uri, name, self.taken_uris, self.taken_names)
        if problem:
            self.refuse(problem)
            return
        # no name: the fleet names it after the URI's host, told apart from the others
        entry = HostEntry(name, uri, self.query_one("#readonly", Checkbox).value)
        self.answer(AddHostRequest(entry, self.query_one("#save", Checkbox).value))


class RemoveHostScreen(ChoiceQuestion):
    """Dismisses with "session" (forget it until the next start), "config" (from the config
    file too), or None. Cancel is focused; the choice to edit the file is only offered when
    the host is in it."""

    DEFAULT_CSS = DIALOG_CSS.format(name="RemoveHostScreen")

    def __init__(self, name: str, uri: str, vms: int, config_path: Path | None) -> None:
        super().__init__()
        self.host_name = name
        self.uri = uri
        self.vms = vms
        self.config_path = config_path  # None: the host is not in the config file

    def compose(self) -> ComposeResult:
        listed = ("its VM leaves" if self.vms == 1 else f"its {self.vms} VMs leave" if self.vms
                  else "it leaves")
        with Vertical():
            yield Static(f"Remove host {self.host_name} ({self.uri})?", classes="question",
                         markup=False)
            yield Static(f"kvmtui closes the connection and {listed} the list. Nothing on "
                         "the host changes: its VMs go on running.", classes="risk",
                         markup=False)
            if self.config_path is not None:
                with RadioSet():
                    yield RadioButton("1  for this session (it is back at the next start)",
                                      value=True)
                    yield RadioButton(f"2  and from {shown_path(self.config_path)}")
            with Horizontal():
                yield Button("Cancel (n)", id="no", variant="primary", compact=True)
                yield Button("Remove (y)", id="yes", variant="error", compact=True)

    def action_accept(self) -> None:
        self.answer("config" if self.chosen() == 1 and self.config_path is not None
                    else "session")
