"""`L`: the action log — what kvmtui asked libvirt to do and what libvirt reported, newest first.

It answers "what just happened to db1?": `/` and the VM's name narrow it to that VM. It follows
the log while open (ActionLog tells its listeners of every new entry and every action's end).
Names and libvirt's messages are shown as plain `Text`, never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from kvmtui.keys import ACTION_LOG_BINDINGS
from kvmtui.virt.domain.actionlog import EVENT, FAILED, UNDER_WAY, ActionLog, LogEntry
from kvmtui.widgets.key_footer import KeyFooter

# The newest this many matching entries are shown: enough to scroll back through a session,
# few enough to rebuild at every event.
MAX_ROWS = 1000
TIME_WIDTH = 8
# Columns, and the widest each may grow before the last one (the result) takes the rest.
COLUMNS = (("Time", TIME_WIDTH), ("Host", 16), ("VM", 32), ("What", 40), ("Result", 0))
MIN_RESULT = 16    # enough for "FAILED: " and the start of libvirt's message
MIN_SHRUNK = 8     # no column gives way below this
CELL_PADDING = 2   # DataTable's one space either side of every cell
SCROLLBAR = 2      # the vertical scrollbar, when the log is longer than the screen


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def result_text(entry: LogEntry) -> Text:
    """The result cell: a word first, so that it reads without colour too."""
    if entry.result == FAILED:
        return Text(f"FAILED: {entry.message}", style="bold red")
    if entry.result == UNDER_WAY:
        return Text(UNDER_WAY, style="italic")
    if entry.result == EVENT:
        text = Text("event", style="dim")
        if entry.message:
            text.append(f": {entry.message}", style="red" if entry.problem else "")
        return text
    return Text(entry.result)


def detail_text(entry: LogEntry) -> Text:
    """The selected entry in full, wrapped: libvirt's long messages are read here."""
    where = f"{entry.host} ({entry.where})"
    text = Text(f"{entry.time_text} · ")
    if entry.vm:
        text.append(entry.vm, style="bold")
        text.append(" on ")
    text.append(where)
    text.append("\n")
    source = "reported by libvirt" if entry.result == EVENT else "sent by kvmtui"
    text.append(entry.summary, style="bold red" if entry.problem else "bold")
    text.append(f" · {source}")
    if entry.message:
        text.append(" — ")
        text.append(entry.message)
    return text


class ActionLogScreen(Screen):
    BINDINGS = [*ACTION_LOG_BINDINGS]

    DEFAULT_CSS = """
    ActionLogScreen #title { height: 1; padding: 0 1; background: $panel; text-style: bold;
        text-wrap: nowrap; text-overflow: ellipsis; }
    ActionLogScreen DataTable { height: 1fr; }
    ActionLogScreen #detail { height: auto; max-height: 6; padding: 0 1;
        border-top: solid $primary; }
    ActionLogScreen #filter { dock: bottom; display: none; margin-bottom: 1; }
    ActionLogScreen #filter.-open { display: block; }
    """

    def __init__(self, log: ActionLog) -> None:
        super().__init__()
        self.action_log = log
        self.filter_text = ""
        self.shown: list[LogEntry] = []
        self._rebuild_pending = False

    def compose(self) -> ComposeResult:
        yield Static("", id="title", markup=False)
        yield DataTable(cursor_type="row", show_row_labels=False, id="log")
        yield Static("", id="detail", markup=False)
        yield Input(placeholder="filter: text in the VM, host, what or result", id="filter")
        yield KeyFooter()

    @property
    def table(self) -> DataTable:
        return self.query_one("#log", DataTable)

    def on_mount(self) -> None:
        self.action_log.listen(self._log_changed)
        self.rebuild()
        self.table.focus()

    def on_unmount(self) -> None:
        self.action_log.unlisten(self._log_changed)

    def on_resize(self) -> None:
        self.rebuild()  # the columns share the width

    def _log_changed(self) -> None:
        # a burst of events (a host reconnecting) becomes one rebuild
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_next(self.rebuild)

    # -- the table ---------------------------------------------------------------------------

    def rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        table = self.table
        kept = self.selected
        at_top = table.cursor_row <= 0  # on the newest entry: stay on the newest
        self.shown = []
        for entry in self.action_log.entries():
            if entry.matches(self.filter_text):
                self.shown.append(entry)
                if len(self.shown) >= MAX_ROWS:
                    break
        widths = self._widths()
        table.clear(columns=True)
        for (label, _), width in zip(COLUMNS, widths, strict=True):
            table.add_column(Text(label), width=width, key=label)
        for entry in self.shown:
            table.add_row(*self._cells(entry, widths), key=str(entry.seq))
        # by seq: an action that has ended since is the same entry with a new result
        rows = [e.seq for e in self.shown]
        if not at_top and kept is not None and kept.seq in rows:
            table.move_cursor(row=rows.index(kept.seq), animate=False)
        self._show_title()
        self._show_detail()

    def _widths(self) -> list[int]:
        """Host, VM and what as wide as their widest cell, the widest of them giving way until
        the result has room; the result gets the rest (the detail line shows each in full)."""
        wanted = [min(cap, max([len(label), *(len(getattr(e, label.lower())) for e in self.shown)]))
                  for label, cap in COLUMNS[1:4]]
        scrollbar = SCROLLBAR if len(self.shown) + 1 > self.table.size.height else 0  # + header
        room = self.size.width - CELL_PADDING * len(COLUMNS) - scrollbar - TIME_WIDTH
        while room - sum(wanted) < MIN_RESULT and max(wanted) > MIN_SHRUNK:
            wanted[wanted.index(max(wanted))] -= 1
        return [TIME_WIDTH, *wanted, max(room - sum(wanted), MIN_RESULT)]

    @staticmethod
    def _cells(entry: LogEntry, widths: list[int]) -> list[Text]:
        what_style = "bold red" if entry.problem else ("bold" if entry.is_action else "")
        cells = [Text(entry.time_text), Text(entry.host), Text(entry.vm),
                 Text(entry.what, style=what_style), result_text(entry)]
        for cell, width in zip(cells, widths, strict=True):
            cell.truncate(width, overflow="ellipsis")
            cell.no_wrap = True
        return cells

    @property
    def selected(self) -> LogEntry | None:
        row = self.table.cursor_row
        return self.shown[row] if 0 <= row < len(self.shown) else None

    def _show_title(self) -> None:
        log = self.action_log
        title = (f"Action log — {plural(len(log.records), 'action')}, "
                 f"{plural(len(log.events), 'event')} · newest first")
        if self.filter_text:
            title += f" · filter: {self.filter_text} ({len(self.shown)} shown)"
        self.query_one("#title", Static).update(Text(title))

    def _show_detail(self) -> None:
        entry = self.selected
        if entry is not None:
            text = detail_text(entry)
        elif self.filter_text:
            text = Text(f"Nothing matches '{self.filter_text}'. Escape clears the filter.")
        else:
            text = Text("Nothing yet: what kvmtui asks of libvirt, and what libvirt reports, "
                        "appears here.")
        self.query_one("#detail", Static).update(text)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._show_detail()

    # -- keys --------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-open")
        box.focus()
        self.call_after_refresh(box.focus)  # a box that was hidden takes focus once shown

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.table.move_cursor(row=0, animate=False)
        self.rebuild()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.remove_class("-open")
        self.table.focus()

    def action_close(self) -> None:
        """escape: first the filter goes, then the screen."""
        box = self.query_one("#filter", Input)
        if box.has_focus or self.filter_text:
            box.value = ""
            box.remove_class("-open")
            self.filter_text = ""
            self.table.focus()
            self.rebuild()
        else:
            self.action_back()

    def action_back(self) -> None:
        if self.is_current:
            self.app.pop_screen()
