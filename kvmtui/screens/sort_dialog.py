"""`o`: pick the list's sort column by the name its header shows."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kvmtui.keys import SORT_BINDINGS
from kvmtui.screens.guarded import GuardedModal
from kvmtui.virt.domain.filtering import BUSIEST_FIRST


def direction_mark(column: str, reverse: bool) -> str:
    """The arrow the list's header shows next to the column it is sorted by."""
    descending = (column in BUSIEST_FIRST) != reverse
    return "▼" if descending else "▲"


class SortScreen(GuardedModal[str | None]):
    """Dismisses with the chosen column's key, or None.

    A question answered by enter, so a GuardedModal: an enter typed before the list appeared
    picks nothing.
    """

    BINDINGS = [*SORT_BINDINGS]

    DEFAULT_CSS = """
    SortScreen { align: center middle; }
    SortScreen > Vertical {
        width: 46; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; border-title-style: bold; background: $surface; padding: 0 1;
    }
    SortScreen OptionList, SortScreen OptionList:focus {
        height: auto; max-height: 1fr; border: none; padding: 0; background: $surface;
    }
    SortScreen #hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, columns: list[tuple[str, str]], current: str, reverse: bool) -> None:
        super().__init__()
        self.columns = columns  # (column key, header label), in the list's order
        self.current = current
        self.reverse = reverse

    def compose(self) -> ComposeResult:
        options = []
        for key, label in self.columns:
            if key == self.current:
                label = f"{label} {direction_mark(key, self.reverse)}"
            options.append(Option(label, id=key))
        with Vertical() as box:
            box.border_title = "Sort by"
            yield OptionList(*options, markup=False)
            yield Static("enter: sort · again: reverse · esc: cancel", id="hint", markup=False)

    @property
    def options(self) -> OptionList:
        return self.query_one(OptionList)

    def on_mount(self) -> None:
        keys = [key for key, _ in self.columns]
        self.options.highlighted = keys.index(self.current) if self.current in keys else 0
        self.options.focus()

    @property
    def highlighted_key(self) -> str | None:
        option = self.options.highlighted_option
        return option.id if option is not None else None

    def action_pick(self) -> None:
        self.answer(self.highlighted_key)

    def action_cancel(self) -> None:
        self.answer(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click on a label
        self.answer(event.option.id)

    def on_key(self, event: events.Key) -> None:
        """A letter moves to the next column whose label starts with it."""
        char = event.character
        if not char or not char.isalnum():
            return
        event.stop()
        labels = [label.lower() for _, label in self.columns]
        start = self.options.highlighted or 0
        for step in range(1, len(labels) + 1):
            index = (start + step) % len(labels)
            if labels[index].startswith(char.lower()):
                self.options.highlighted = index
                return
