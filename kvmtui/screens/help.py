"""`?`: every key, what it does and when it applies."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from kvmtui.keys import HELP_BINDINGS, help_rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [*HELP_BINDINGS]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #title { text-style: bold; }
    """

    def __init__(self, readonly: bool = False) -> None:
        super().__init__()
        self.readonly = readonly

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column("Key", style="bold", max_width=16)
        table.add_column("Action")
        table.add_column("When", style="dim")
        for key, action, when in help_rows(self.readonly):
            if not action:  # a section
                table.add_row(Text(key, style="bold underline"), "", "")
            else:
                table.add_row(Text(key), Text(action), Text(when))
        with VerticalScroll():
            yield Static("kvmtui keys · escape closes · a key works only where it applies", id="title")
            if self.readonly:
                yield Static("Read-only (--readonly): no key here changes a VM or a snapshot.",
                             id="readonly", markup=False)
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)
