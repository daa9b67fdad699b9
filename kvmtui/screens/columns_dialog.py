"""`C`: which columns the list shows, and in what order (htop's Setup → Columns).

Every column is listed, the shown ones first in their order; space shows or hides one, K and J
(or shift+↑/↓) move it. The order is also the priority: the first columns are the ones an
80-column terminal keeps on screen, the others lie to the right (→). Enter uses the columns for
this session, S also saves them to the config file as `columns = [...]`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kvmtui.keys import COLUMNS_BINDINGS
from kvmtui.screens.guarded import GuardedModal
from kvmtui.virt.columns import BY_KEY, COLUMN_KEYS, DEFAULT_COLUMNS

# (the columns in order, whether to save them to the config file)
ColumnsAnswer = tuple[tuple[str, ...], bool]


class ColumnsScreen(GuardedModal[ColumnsAnswer | None]):
    BINDINGS = [*COLUMNS_BINDINGS]

    DEFAULT_CSS = """
    ColumnsScreen { align: center middle; }
    ColumnsScreen > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; border-title-style: bold; background: $surface; padding: 0 1;
    }
    ColumnsScreen OptionList, ColumnsScreen OptionList:focus {
        height: auto; max-height: 1fr; border: none; padding: 0; background: $surface;
    }
    ColumnsScreen #hint { color: $text-muted; margin-top: 1; }
    ColumnsScreen #unfilled { color: $warning; margin-top: 1; }
    """

    def __init__(self, shown: tuple[str, ...], unfilled: frozenset[str] = frozenset()) -> None:
        super().__init__()
        # live columns no connected host reports figures for: the list leaves them out even
        # when chosen, and says so here rather than let a chosen column silently not appear
        self.unfilled = unfilled
        # every column, the shown ones first in their order: (key, shown)
        self.items: list[tuple[str, bool]] = [(k, True) for k in shown] + [
            (k, False) for k in COLUMN_KEYS if k not in shown]

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Columns"
            yield OptionList(*self._options(), markup=False)
            if self.unfilled:
                labels = ", ".join(BY_KEY[k].label for k in COLUMN_KEYS if k in self.unfilled)
                yield Static(f"No host reports {labels}: the list leaves them out until one "
                             "does.", id="unfilled", markup=False)
            yield Static("space: show/hide · K/J: move · enter: use · S: use and save · "
                         "D: defaults · esc: cancel", id="hint", markup=False)

    def on_mount(self) -> None:
        # (GuardedModal's own on_mount runs too: Textual calls each class's handler)
        self.options.highlighted = 0
        self.options.focus()

    @property
    def options(self) -> OptionList:
        return self.query_one(OptionList)

    @property
    def shown(self) -> tuple[str, ...]:
        return tuple(key for key, on in self.items if on)

    def _options(self) -> list[Option]:
        lines = []
        for key, on in self.items:
            column = BY_KEY[key]
            # (Host's meaning says it shows with two or more hosts)
            lines.append(Option(f"[{'x' if on else ' '}] {column.label:<12} {column.meaning}",
                                id=key))
        return lines

    def _redraw(self, highlight: int) -> None:
        self.options.set_options(self._options())
        self.options.highlighted = highlight

    def action_toggle_column(self) -> None:
        index = self.options.highlighted
        if index is None:
            return
        key, on = self.items[index]
        if key == "name":
            self.notify("Name always shows: it names the row", severity="warning")
            return
        self.items[index] = (key, not on)
        self._redraw(index)

    def action_move_column(self, delta: int) -> None:
        index = self.options.highlighted
        if index is None:
            return
        target = index + delta
        if not 0 <= target < len(self.items):
            return
        self.items[index], self.items[target] = self.items[target], self.items[index]
        self._redraw(target)

    def action_defaults(self) -> None:
        self.items = [(k, True) for k in DEFAULT_COLUMNS] + [
            (k, False) for k in COLUMN_KEYS if k not in DEFAULT_COLUMNS]
        self._redraw(0)

    def action_apply(self) -> None:
        self.answer((self.shown, False))

    def action_save(self) -> None:
        self.answer((self.shown, True))

    def action_cancel(self) -> None:
        self.answer(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click toggles, as space does
        self.action_toggle_column()
