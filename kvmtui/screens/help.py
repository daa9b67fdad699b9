"""`?`: every key, what it does and when it applies."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from kvmtui.keys import help_rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

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
        table.add_column("Key", style="bold", no_wrap=True)
        table.add_column("Action")
        table.add_column("When", style="dim")
        for key, action, when in help_rows(self.readonly):
            table.add_row(key, action, when)
        with VerticalScroll():
            yield Static("kvmtui keys · escape closes · a key works only where it applies", id="title")
            if self.readonly:
                yield Static("Read-only (--readonly): no key here changes a VM or a snapshot.",
                             id="readonly", markup=False)
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)
