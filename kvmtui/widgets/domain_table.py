"""The domain list: a DataTable keyed by (uri, uuid), changed in place so cursor and scroll survive."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from kvmtui.virt.models import DomainKey, DomainState, DomainSummary
from kvmtui.widgets.formatting import human_kib, yes_no

COLUMNS = [  # key, label, right-aligned
    ("id", "Id", True),
    ("name", "Name", False),
    ("state", "State", False),
    ("vcpus", "vCPUs", True),
    ("memory", "Memory", True),
    ("autostart", "Auto", False),
    ("persistent", "Persist", False),
]
HOST_COLUMN = ("host", "Host", False)


class KeyedText(Text):
    """A name cell that knows its row, so the table can be put in any order through `sort`."""

    row_key: str = ""


class DomainTable(DataTable):
    """Rows are DomainSummary; `show` makes the table match a list without rebuilding it."""

    # A list of VMs is read top to bottom: Home/End go to the first/last VM (as in htop),
    # j/k move like k9s; the table scrolls sideways only when the terminal is too narrow.
    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    COMPONENT_CLASSES = {
        "domain-table--running",
        "domain-table--idle",
        "domain-table--paused",
        "domain-table--in-shutdown",
        "domain-table--shut-off",
        "domain-table--crashed",
        "domain-table--pmsuspended",
        "domain-table--no-state",
        "domain-table--disconnected",
    }

    DEFAULT_CSS = """
    DomainTable > .domain-table--running { color: $text-success; }
    DomainTable > .domain-table--idle { color: $text-success; }
    DomainTable > .domain-table--paused { color: $text-warning; }
    DomainTable > .domain-table--in-shutdown { color: $text-warning; }
    DomainTable > .domain-table--shut-off { color: $text-muted; }
    DomainTable > .domain-table--crashed { color: $text-error; text-style: bold; }
    DomainTable > .domain-table--pmsuspended { color: $text-accent; }
    DomainTable > .domain-table--no-state { color: $text-muted; }
    DomainTable > .domain-table--disconnected { color: $text-error; text-style: italic; }
    """

    def __init__(self, *, multi_host: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.multi_host = multi_host
        self._cells: dict[str, tuple] = {}
        self._column_keys: list[str] = []
        self.disconnected_uris: set[str] = set()

    def on_mount(self) -> None:
        columns = list(COLUMNS)
        if self.multi_host:
            columns.insert(2, HOST_COLUMN)
        for key, label, right in columns:
            self.add_column(Text(label, justify="right" if right else "left"), key=key)
            self._column_keys.append(key)

    # -- reading --------------------------------------------------------------------------

    @property
    def cursor_key(self) -> DomainKey | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return DomainKey.from_row_key(row_key.value)

    def shown_keys(self) -> list[DomainKey]:
        return [DomainKey.from_row_key(row.key.value) for row in self.ordered_rows]

    # -- writing --------------------------------------------------------------------------

    def show(self, summaries: Sequence[DomainSummary]) -> None:
        """Show exactly these domains in this order; the cursor stays on its domain."""
        keep = self.cursor_key
        keep_index = self.cursor_row
        wanted = {s.key.row_key(): s for s in summaries}
        for row_key in [k for k in self._cells if k not in wanted]:
            self.remove_row(row_key)
            del self._cells[row_key]
        for row_key, summary in wanted.items():
            cells = self._render(summary)
            old = self._cells.get(row_key)
            if old is None:
                self.add_row(*cells, key=row_key)
            elif old != cells:
                for column, new, before in zip(self._column_keys, cells, old or (None,) * len(cells)):
                    if new != before:
                        self.update_cell(row_key, column, new)
            self._cells[row_key] = cells
        order = list(wanted)
        if [row.key.value for row in self.ordered_rows] != order:
            position = {row_key: i for i, row_key in enumerate(order)}
            self.sort("name", key=lambda cell: position[cell.row_key])
        self._restore_cursor(keep, keep_index)

    def _restore_cursor(self, keep: DomainKey | None, keep_index: int) -> None:
        if not self.row_count:
            return
        if keep is not None and keep.row_key() in self._cells:
            index = self.get_row_index(keep.row_key())
        else:  # its domain went away: stay at the same height, as htop does
            index = min(keep_index, self.row_count - 1)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)

    def _render(self, s: DomainSummary) -> tuple:
        name = KeyedText(s.name)
        name.row_key = s.key.row_key()
        disconnected = s.key.uri in self.disconnected_uris
        state_word = "disconnected" if disconnected else s.state.word
        if s.managed_save and s.state is DomainState.SHUTOFF and not disconnected:
            state_word = "shut off (saved)"
        style_class = "disconnected" if disconnected else s.state.word.replace(" ", "-")
        state = Text(state_word, style=self.get_component_rich_style(f"domain-table--{style_class}"))
        cells = [
            Text("-" if s.id is None else str(s.id), justify="right"),
            name,
            state,
            Text(str(s.vcpus), justify="right"),
            Text(human_kib(s.memory_kib), justify="right"),
            yes_no(s.autostart),
            yes_no(s.persistent),
        ]
        if self.multi_host:
            cells.insert(2, s.host)
        return tuple(cells)

    def restyle(self) -> None:
        """Re-render every row (after a connection went away or came back)."""
        self._cells = {k: () for k in self._cells}
