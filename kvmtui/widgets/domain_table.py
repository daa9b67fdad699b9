"""The domain list: a line-API table that draws only the rows on screen.

Columns: the user's choice (virt/columns.py; `C` and the config file), less the Host column
with one host and the live figures no connection reports; table_layout.py decides which fit
and how wide. Sideways, the table scrolls a column at a time and the columns up to Name stay.

Rows are DomainSummary values keyed by (uri, uuid). `show` replaces the model in place — the
table keeps no per-cell widgets or measured renderables, so 1000 domains cost what 30 cost on
screen, a state change re-renders one line, and the cursor and scroll position follow the
domain, not the row number. (Textual's DataTable measures every cell of every new row; with a
thousand VMs that alone doubled start-up.)
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input

from kvmtui.keys import TABLE_BINDINGS
from kvmtui.virt.columns import BY_KEY, DEFAULT_COLUMNS, ListColumn
from kvmtui.virt.domain.filtering import BUSIEST_FIRST
from kvmtui.virt.models import DomainKey, DomainStats, DomainSummary
from kvmtui.widgets.table_cells import figure_cell, line_segments, summary_cells
from kvmtui.widgets.table_layout import LEAD, ColumnLayout, fit_cell, lay_out

# Live figures have fixed widths and are formatted only for the rows on screen, so a tick costs
# the same with 30 domains or 1000 (and a changing figure never makes the columns jump).
MARK = "●"  # in the first cell of a marked VM's row
# in the second cell: the VM's worst advice (virt/advice), told apart without colours too
ADVICE_FLAGS = {"problem": "‼", "warning": "!"}
MORE_RIGHT = "›"  # at the end of the header: columns lie beyond the right edge


class DomainTable(ScrollView, can_focus=True):
    """Rows of domains with a row cursor; the header line stays put while rows scroll."""

    BINDINGS = [*TABLE_BINDINGS]

    COMPONENT_CLASSES = {
        "domain-table--header",
        "domain-table--cursor",
        "domain-table--running",
        "domain-table--idle",
        "domain-table--paused",
        "domain-table--in-shutdown",
        "domain-table--shut-off",
        "domain-table--crashed",
        "domain-table--pmsuspended",
        "domain-table--no-state",
        "domain-table--disconnected",
        "domain-table--busy",
        "domain-table--marked",
        "domain-table--advice-problem",
        "domain-table--advice-warning",
    }

    DEFAULT_CSS = """
    DomainTable { background: $surface; color: $foreground; overflow-x: hidden; }
    DomainTable > .domain-table--header { text-style: bold; background: $panel; }
    DomainTable > .domain-table--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
    }
    DomainTable:focus > .domain-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    DomainTable > .domain-table--running { color: $text-success; }
    DomainTable > .domain-table--idle { color: $text-success; }
    DomainTable > .domain-table--paused { color: $text-warning; }
    DomainTable > .domain-table--in-shutdown { color: $text-warning; }
    DomainTable > .domain-table--shut-off { color: $text-muted; }
    DomainTable > .domain-table--crashed { color: $text-error; text-style: bold; }
    DomainTable > .domain-table--pmsuspended { color: $text-accent; }
    DomainTable > .domain-table--no-state { color: $text-muted; }
    DomainTable > .domain-table--disconnected { color: $text-error; text-style: italic; }
    DomainTable > .domain-table--busy { color: $text-warning; text-style: bold italic; }
    /* bold too, so that a mark shows without colours (NO_COLOR) beside its glyph */
    DomainTable > .domain-table--marked { background: $accent 25%; text-style: bold; }
    DomainTable > .domain-table--advice-problem { color: $text-error; text-style: bold; }
    DomainTable > .domain-table--advice-warning { color: $text-warning; text-style: bold; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    class CursorMoved(Message):
        """The cursor is on another domain (or the same one at another row)."""

        def __init__(self, key: DomainKey | None) -> None:
            super().__init__()
            self.key = key

    class FilterRequested(Message):
        """'/' was pressed: the keys typed next belong to the filter box."""

    def __init__(self, *, multi_host: bool = False, activity: dict[DomainKey, str] | None = None,
                 marks: Container[DomainKey] = (), columns: Sequence[str] = DEFAULT_COLUMNS,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.multi_host = multi_host
        self.chosen: tuple[str, ...] = tuple(columns)  # the user's columns, in their order
        self.fillable: frozenset[str] = frozenset()  # live columns some connection reports
        # what is under way on a VM ("shutting down…"), shown in place of its state; the
        # screen owns it and calls restyle() when it changes
        self.activity: dict[DomainKey, str] = activity if activity is not None else {}
        self.marks = marks  # the marked VMs (the screen owns them): a glyph and a style
        # each VM's worst advice finding, "problem" or "warning" (the screen owns it)
        self.advice: Mapping[DomainKey, str] = {}
        self.columns = self._effective_columns()
        self.column_offset = 0  # scrolling columns scrolled off to the left
        # said on the first row when there is no domain to show ("connecting to kvm1…")
        self.empty_text = ""
        self.sort_column = "name"
        self.sort_reverse = False
        self.disconnected_uris: set[str] = set()
        self.filter_box: Input | None = None
        self._typing = False
        self.moved = False       # the user has moved the cursor (keys or mouse)
        self._to_top = False     # the next show() puts the cursor on the first row
        self._rows: list[DomainSummary] = []
        self._stats: dict[DomainKey, DomainStats] = {}
        self._history: Mapping[DomainKey, Sequence[float | None]] = {}
        self._index: dict[DomainKey, int] = {}
        self._cells: list[tuple[str, ...]] = []
        self._live: dict[int, tuple[str, ...]] = {}  # row -> cells with figures, on screen only
        self._stat_slots = self._live_slots()
        self._widths: list[int] = self._label_widths()
        self._layout: tuple[tuple[int, int], ColumnLayout] | None = None  # (width, offset) -> layout

    # -- reading --------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_key(self) -> DomainKey | None:
        if not self._rows:
            return None
        return self._rows[min(self.cursor_row, len(self._rows) - 1)].key

    def shown_keys(self) -> list[DomainKey]:
        return [s.key for s in self._rows]

    def row_text(self, key: DomainKey) -> dict[str, str]:
        """The cells of a domain's row as the user reads them, by column key."""
        cells = self._row_cells(self._index[key])
        return {c.key: cell for c, cell in zip(self.columns, cells, strict=True)}

    def column_labels(self) -> list[str]:
        return [c.label for c in self.columns]

    def visible_labels(self) -> list[str]:
        """The labels of the columns on screen now, left to right."""
        layout = self.column_layout()
        return [self.columns[i].label for i in layout.on_screen]

    def screen_row(self, key: DomainKey) -> dict[str, str]:
        """The cells on screen of a domain's row, by column key, as drawn (Name shortened)."""
        layout = self.column_layout()
        cells = self._row_cells(self._index[key])
        return {self.columns[i].key: fit_cell(self.columns[i].key, cells[i], layout.widths[i])
                for i in layout.on_screen}

    # -- writing --------------------------------------------------------------------------

    def show(self, summaries: Sequence[DomainSummary],
             stats: dict[DomainKey, DomainStats] | None = None,
             history: Mapping[DomainKey, Sequence[float | None]] | None = None) -> None:
        """Show exactly these domains in this order; the cursor stays on its domain."""
        if stats is not None:
            self._stats = stats
        if history is not None:
            self._history = history
        keep = self.cursor_key
        keep_index = self.cursor_row
        self._rows = list(summaries)
        self._index = {s.key: i for i, s in enumerate(self._rows)}
        self._cells = [self._render_cells(s) for s in self._rows]
        self._live = {}
        widths = self._label_widths()
        fixed = set(self._stat_slots)
        for cells in self._cells:
            for i, cell in enumerate(cells):
                if len(cell) > widths[i] and i not in fixed:
                    widths[i] = cell_len(cell)
        self._widths = widths
        self._layout = None
        # no horizontal scroll bar: sideways, the table moves by columns (column_offset)
        self.virtual_size = Size(1, len(self._rows) + 1)
        if self._to_top:
            self._to_top = False
            row = 0
        elif keep is not None and keep in self._index:
            row = self._index[keep]
        else:  # its domain went away: stay at the same height, as htop does
            row = min(keep_index, max(len(self._rows) - 1, 0))
        self._set_cursor(row, announce=keep != self.cursor_key_at(row))
        self.refresh()

    def _label_widths(self) -> list[int]:
        # the sorted column's label carries an arrow: two cells more
        return [max(c.min_width, cell_len(c.label) + (2 if c.key == self.sort_column else 0))
                for c in self.columns]

    def column_layout(self) -> ColumnLayout:
        """The columns that fit the table's width now (cached until rows or width change)."""
        width = self.scrollable_content_region.width or self.size.width or 80
        if self._layout is None or self._layout[0] != (width, self.column_offset):
            built = lay_out(self.columns, self._widths, width, self.column_offset)
            self._layout = ((width, self.column_offset), built)
        return self._layout[1]

    def update_stats(self, stats: dict[DomainKey, DomainStats],
                     history: Mapping[DomainKey, Sequence[float | None]]) -> None:
        """New figures, same rows and order: only the lines on screen are formatted again."""
        self._stats, self._history = stats, history
        self._live = {}
        self.refresh()

    def _row_cells(self, row: int) -> tuple[str, ...]:
        cached = self._live.get(row)
        if cached is None:
            cells = list(self._cells[row])
            for slot, text in zip(self._stat_slots, self._stat_cells(self._rows[row]), strict=True):
                cells[slot] = text
            cached = self._live[row] = tuple(cells)
        return cached

    def cursor_key_at(self, row: int) -> DomainKey | None:
        return self._rows[row].key if 0 <= row < len(self._rows) else None

    def _effective_columns(self) -> list[ListColumn]:
        """The chosen columns less Host with one host and the figures nobody reports."""
        return [BY_KEY[key] for key in self.chosen
                if (key != "host" or self.multi_host)
                and (not BY_KEY[key].live or key in self.fillable)]

    def _live_slots(self) -> list[int]:
        return [i for i, c in enumerate(self.columns) if c.live]

    def _columns_changed(self) -> None:
        columns = self._effective_columns()
        if [c.key for c in columns] == [c.key for c in self.columns]:
            return
        self.columns = columns
        self._stat_slots = self._live_slots()
        self.restyle()

    def set_multi_host(self, multi_host: bool) -> None:
        """The Host column comes with a second host and goes with the last but one."""
        if multi_host == self.multi_host:
            return
        self.multi_host = multi_host
        self._columns_changed()

    def set_fillable(self, keys: frozenset[str]) -> None:
        """The live columns some connection reports figures for (the rest are not shown)."""
        if keys != self.fillable:
            self.fillable = keys
            self._columns_changed()

    def set_columns(self, keys: Sequence[str]) -> None:
        """The user's columns, in their order (`C`, or the config file's `columns`)."""
        self.chosen = tuple(keys)
        self.column_offset = 0
        self._columns_changed()

    def restyle(self) -> None:
        """Re-render every row (after a connection went away or came back); the same rows, so a
        pending move to the top waits for the new ones."""
        to_top, self._to_top = self._to_top, False
        self.show(self._rows)
        self._to_top = to_top

    def _render_cells(self, s: DomainSummary) -> tuple[str, ...]:
        if s.key.uri in self.disconnected_uris:
            state = "disconnected"
        elif s.key in self.activity:
            state = self.activity[s.key]
        else:
            state = s.state_text
        return summary_cells(s, state, self.columns)

    def _stat_cells(self, s: DomainSummary) -> list[str]:
        # a disconnected host's last figures are not figures any more
        st = self._stats.get(s.key) if s.active and s.key.uri not in self.disconnected_uris else None
        if st is None:
            return [""] * len(self._stat_slots)
        history = self._history.get(s.key)
        return [figure_cell(self.columns[i].key, st, history) for i in self._stat_slots]

    # -- cursor ---------------------------------------------------------------------------

    def _set_cursor(self, row: int, announce: bool = True) -> None:
        row = max(0, min(row, len(self._rows) - 1)) if self._rows else 0
        changed = row != self.cursor_row
        self.cursor_row = row
        self._scroll_cursor_into_view()
        if changed or announce:
            self.post_message(self.CursorMoved(self.cursor_key))
        self.refresh()

    def _scroll_cursor_into_view(self) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def top_unless_moved(self) -> None:
        """Rows are arriving (another host answered at start-up): until the user has moved the
        cursor, it stays on the first row instead of following the first VM it happened to be
        on down the list."""
        self._to_top = not self.moved

    def action_cursor(self, delta: int) -> None:
        self.moved = True
        self._set_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.moved = True
        page = max(self.scrollable_content_region.height - 2, 1)
        self._set_cursor(self.cursor_row + direction * page)

    def action_first(self) -> None:
        self.moved = True
        self._set_cursor(0)

    def action_last(self) -> None:
        self.moved = True
        self._set_cursor(len(self._rows) - 1)

    def action_scroll_left(self) -> None:
        self._scroll_columns(-1)

    def action_scroll_right(self) -> None:
        self._scroll_columns(1)

    def _scroll_columns(self, delta: int) -> None:
        """Sideways by one column; the columns up to Name stay where they are."""
        offset = max(0, min(self.column_offset + delta, self.column_layout().max_offset))
        if offset != self.column_offset:
            self.column_offset = offset
            self.refresh()

    def on_key(self, event: events.Key) -> None:
        # Keys are handled here, in the order they were typed, before any binding sees them.
        # After '/', the keys that arrive before the filter box has taken focus are the
        # filter's text: they must never reach the power keys ('s', 'd', 'r'...).
        if event.key == "slash" and self.filter_box is not None:
            event.stop()
            event.prevent_default()
            self._typing = True
            self.post_message(self.FilterRequested())
        elif (self._typing and event.is_printable and event.character
              and self.filter_box is not None):
            event.stop()
            event.prevent_default()
            self.filter_box.insert_text_at_cursor(event.character)

    def on_focus(self) -> None:
        self._typing = False

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.moved = True
            self._set_cursor(int(self.scroll_y) + event.y - 1)

    def on_resize(self) -> None:
        self._scroll_cursor_into_view()
        self.column_offset = min(self.column_offset, self.column_layout().max_offset)

    # -- drawing --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header_strip().crop_extend(0, width, self.rich_style)
        row = int(self.scroll_y) + y - 1
        if row == 0 and not self._rows and self.empty_text:
            return Strip([Segment(f" {self.empty_text}", self.rich_style)]).crop_extend(
                0, width, self.rich_style)
        if row >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        return self._row_strip(row).crop_extend(0, width, self.rich_style)

    def _header_strip(self) -> Strip:
        style = self.rich_style + self.get_component_rich_style("domain-table--header")
        labels = []
        for column in self.columns:
            label = column.label
            if column.key == self.sort_column:
                descending = (column.key in BUSIEST_FIRST) != self.sort_reverse
                label += " ▼" if descending else " ▲"
            labels.append(label)
        layout = self.column_layout()
        segments = line_segments(self.columns, labels, [style] * len(labels),
                                 [Segment(" " * LEAD, style)], style, layout, header=True)
        if layout.more_right:  # the last cell says that more columns lie to the right
            width = self.scrollable_content_region.width
            strip = Strip(segments).crop_extend(0, width - 1, style)
            return Strip([*strip, Segment(MORE_RIGHT, style)])
        return Strip(segments)

    def _row_strip(self, row: int) -> Strip:
        base = self.rich_style
        marked = self._rows[row].key in self.marks
        if marked:
            base = base + self.get_component_rich_style("domain-table--marked")
        if row == self.cursor_row:
            base = base + self.get_component_rich_style("domain-table--cursor")
        cells = self._row_cells(row)
        styles = [base] * len(cells)
        key = self._rows[row].key
        for i in (i for i, c in enumerate(self.columns) if c.key == "state"):  # none if hidden
            busy = key in self.activity and key.uri not in self.disconnected_uris
            state_class = "busy" if busy else cells[i].replace(" (saved)", "").replace(" ", "-")
            state_style = self.get_component_rich_style(f"domain-table--{state_class}",
                                                        partial=True)
            styles[i] = base + state_style if row != self.cursor_row else base
        return Strip(line_segments(self.columns, cells, styles, self._lead(row, marked, base),
                                   base, self.column_layout()))

    def _lead(self, row: int, marked: bool, base: Style) -> list[Segment]:
        """The row's lead cells: its mark, its advice flag, and a space that keeps the flag off
        the first column (`! 13`, not `!13`)."""
        severity = self.advice.get(self._rows[row].key)
        flag = ADVICE_FLAGS.get(severity or "")
        if flag is None:
            return [Segment(f"{MARK if marked else ' '}  ", base)]
        style = base if row == self.cursor_row else base + self.get_component_rich_style(
            f"domain-table--advice-{severity}", partial=True)
        return [Segment(MARK if marked else " ", base), Segment(flag, style), Segment(" ", base)]

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.refresh()
