"""A terminal emulator for a VM's serial console: pyte parses, the line API draws.

Output can arrive faster than anyone reads it (a guest printing 5 MB to its console): feed()
only queues bytes, and one frame a sixtieth of a second later parses what is queued, within a
time budget, and repaints only the lines pyte marked dirty. Whatever is left waits for the next
frame, so keys and redraws keep their turn in the event loop while a burst is digested.
Keys go to the guest the moment they are typed; they never wait behind output.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import lru_cache
from time import perf_counter
from typing import Any

import pyte
from pyte.screens import Char, Margins, StaticDefaultDict
from rich.color import Color, ColorParseError
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from kvmtui.widgets.terminal_keys import is_leave_key, key_bytes

FRAME_S = 1 / 60  # how long feed() waits before parsing: output arriving meanwhile joins in
SLICE_BYTES = 8 * 1024  # pyte parses about 1 MB/s: a slice is ~8 ms of work
FRAME_BUDGET_S = 0.012  # parse no longer than this per frame (at least one slice)
CATCH_UP_S = 0.004  # the pause between frames of a backlog: room for keys and redraws
APP_CURSOR_KEYS = 1 << 5  # DECCKM (ESC [ ? 1 h), as pyte stores private modes
BRACKETED_PASTE = 2004 << 5  # ESC [ ? 2004 h
WHEEL_LINES = 3

# Keys that move through the local scrollback instead of going to the guest, in lines
# (None: a page).
SCROLL_KEYS: dict[str, tuple[int, int | None]] = {
    "shift+pageup": (1, None), "shift+pagedown": (-1, None), "shift+up": (1, 1), "shift+down": (-1, 1),
}

Line = StaticDefaultDict[int, Char]
CellKey = tuple[str, str, bool, bool, bool, bool, bool]


class ScrollbackScreen(pyte.Screen):
    """A pyte screen that keeps the lines scrolled off its top, and answers the guest's queries.

    Not pyte's HistoryScreen: that one wraps every attribute access (three times slower to
    parse) and pages by rewriting the live buffer, which fights output arriving meanwhile.
    Here the widget keeps its own view offset into `history` + `buffer`.
    """

    def __init__(self, columns: int, lines: int, scrollback: int) -> None:
        self.history: deque[Line] = deque(maxlen=scrollback)
        self.pushed = 0  # lines that went into history since the widget last looked
        self.reply: Callable[[str], None] | None = None
        super().__init__(columns, lines)

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        # As xterm: only a scroll from the top line keeps history, so a full-screen program
        # scrolling its own region (a status line below) does not fill it with its frames.
        if self.cursor.y == bottom and top == 0:
            self.history.append(self.buffer[top])
            self.pushed += 1
        super().index()

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        super().erase_in_display(how, *args, **kwargs)
        if how == 3:  # ESC [ 3 J, what `clear` sends: forget the scrollback too
            self.history.clear()

    def set_mode(self, *modes_: int, **kwargs: Any) -> None:
        super().set_mode(*self._without_deccolm(modes_, kwargs), **kwargs)

    def reset_mode(self, *modes_: int, **kwargs: Any) -> None:
        super().reset_mode(*self._without_deccolm(modes_, kwargs), **kwargs)

    @staticmethod
    def _without_deccolm(modes_: tuple[int, ...], kwargs: dict[str, Any]) -> tuple[int, ...]:
        # 80/132-column switching (ESC [ ? 3 h): the widget's width decides the columns, and
        # xterm ignores it too unless told otherwise
        return tuple(m for m in modes_ if m != 3) if kwargs.get("private") else modes_

    def write_process_input(self, data: str) -> None:
        # pyte's answers to cursor-position and device-attribute queries (`resize`, systemd)
        if self.reply is not None:
            self.reply(data)

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """As pyte's, but a shorter screen keeps the cursor's line and moves the top into history."""
        lines = lines or self.lines
        columns = columns or self.columns
        if (lines, columns) == (self.lines, self.columns):
            return
        if lines < self.lines:
            excess = max(0, self.cursor.y + 1 - lines)
            for y in range(excess):
                self.history.append(self.buffer[y])
            self.pushed += excess
            kept = {y - excess: line for y, line in self.buffer.items() if excess <= y < excess + lines}
            self.buffer.clear()
            self.buffer.update(kept)
            self.cursor.y -= excess
        if columns < self.columns:
            for line in self.buffer.values():
                for x in range(columns, self.columns):
                    line.pop(x, None)
        elif columns > self.columns:
            self.tabstops |= set(range(8, columns, 8))
        self.lines, self.columns = lines, columns
        self.set_margins()
        self.ensure_hbounds()
        self.ensure_vbounds()
        self.dirty.update(range(lines))


ANSI_NUMBERS = {"black": 0, "red": 1, "green": 2, "brown": 3, "yellow": 3, "blue": 4,
                "magenta": 5, "cyan": 6, "white": 7}


@lru_cache(maxsize=512)
def pyte_colour(name: str) -> Color | None:
    """A pyte colour ("red", "brightred", "default", "ff8700") as a Rich colour; None: default."""
    bright = name.startswith(("bright", "bfight"))  # pyte 0.8.2 spells bg 105 "bfightmagenta"
    plain = name[6:] if bright else name
    if plain in ANSI_NUMBERS:
        return Color.from_ansi(ANSI_NUMBERS[plain] + (8 if bright else 0))
    if name == "default":
        return None
    try:
        return Color.parse(f"#{name}")
    except ColorParseError:
        return None


class TerminalView(Widget, can_focus=True):
    """A VT100/xterm screen: shows what `feed` receives and sends typed keys to `send`."""

    DEFAULT_CSS = """
    TerminalView { width: 1fr; height: 1fr; background: $background; color: $foreground; }
    """

    class LeaveRequested(Message):
        """ctrl+] was pressed: the user wants to leave the console."""

    def __init__(self, send: Callable[[bytes], None], *, scrollback: int = 5000,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._send = send
        self._vt = ScrollbackScreen(80, 24, scrollback)
        self._vt.reply = self._reply
        self._vt_stream = pyte.ByteStream(self._vt)  # decodes UTF-8 across chunks
        self._pending: deque[memoryview] = deque()
        self._pending_size = 0
        self._frame_due = False  # a frame is scheduled
        self._last_frame = 0.0  # perf_counter() when the last frame ran
        self._can_time = False  # timers can be set: mounted
        self._back = 0  # lines scrolled back into history; 0 is the live screen
        self._ended = False
        self._cursor_line = 0  # where the cursor was drawn: its line is repainted when it moves
        self._style_cache: dict[CellKey, Style] = {}
        self._style_base: Style | None = None
        self.frames = 0  # parse frames run so far (tests count them)

    # -- reading --------------------------------------------------------------------------

    @property
    def columns(self) -> int:
        return self._vt.columns

    @property
    def lines(self) -> int:
        return self._vt.lines

    @property
    def cursor_position(self) -> tuple[int, int]:
        """(column, line) of the guest's cursor on the live screen, from 0."""
        return self._vt.cursor.x, self._vt.cursor.y

    @property
    def scrolled_back(self) -> int:
        """How many lines the view is scrolled back into the scrollback; 0 is live."""
        return self._back

    @property
    def pending_bytes(self) -> int:
        """Output received but not parsed yet."""
        return self._pending_size

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def captures_keys(self) -> bool:
        """Whether typed keys go to the guest. Priority bindings (the app's ctrl+c, ctrl+q) run
        before any widget sees a key: the app's check_action should refuse them while this holds
        and the view has the focus, so that ctrl+c reaches the guest."""
        return not self._ended

    def display_text(self) -> list[str]:
        """The lines as shown now (scrolled back or live), each `columns` cells wide."""
        return ["".join(line[x].data for x in range(self._vt.columns))
                for line in map(self._line_at, range(self._vt.lines)) if line is not None]

    # -- output ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Raw console output, on the UI thread: parsed and shown at the next frame."""
        if data:
            self._pending.append(memoryview(bytes(data)))
            self._pending_size += len(data)
            self._schedule()

    def set_ended(self, note: str | None = None) -> None:
        """The console is gone: the last screen stays; keys are neither sent nor stopped."""
        if note:  # shown after the last output, in reverse video; no escapes of its own
            note = "".join(c for c in note if c.isprintable())
            self.feed(f"\r\n\x1b[0;7m {note} \x1b[0m".encode())
        self._ended = True
        self.refresh(self._line_region(self._vt.cursor.y))

    def set_attached(self) -> None:
        """A console is attached (again): typed keys go to the guest; the screen so far stays."""
        self._ended = False
        self.refresh(self._line_region(self._vt.cursor.y))

    def _schedule(self, delay: float | None = None) -> None:
        """One frame at a time. Output arriving after a quiet spell (a typed key's echo) is
        drawn at once; output arriving within a frame of the last waits for the next one, so a
        flood is parsed in frames, never chunk by chunk."""
        if self._frame_due or not self._can_time or not self._pending:
            return
        self._frame_due = True
        if delay is None:
            quiet = perf_counter() - self._last_frame >= FRAME_S
            delay = 0.0 if quiet else FRAME_S
        if delay <= 0:
            self.call_later(self._frame)
        else:
            self.set_timer(delay, self._frame, name="terminal-frame")

    def on_mount(self) -> None:
        # is_mounted only holds once every Mount handler has run: a flag of our own
        self._can_time = True
        self._schedule()

    def _frame(self) -> None:
        self._frame_due = False
        self._last_frame = perf_counter()
        self.frames += 1
        started = perf_counter()
        while self._pending:
            self._vt_stream.feed(self._take(SLICE_BYTES))
            if perf_counter() - started >= FRAME_BUDGET_S:
                break
        self._show_changes()
        self._schedule(CATCH_UP_S)

    def _take(self, limit: int) -> bytes:
        parts: list[memoryview] = []
        size = 0
        while self._pending and size < limit:
            head = self._pending[0]
            room = limit - size
            if len(head) > room:
                parts.append(head[:room])
                self._pending[0] = head[room:]
                size += room
            else:
                parts.append(self._pending.popleft())
                size += len(head)
        self._pending_size -= size
        return b"".join(parts)

    def _show_changes(self) -> None:
        vt = self._vt
        dirty = vt.dirty | {self._cursor_line, vt.cursor.y}
        vt.dirty.clear()
        pushed, vt.pushed = vt.pushed, 0
        self._cursor_line = vt.cursor.y
        if self._back:
            # keep the lines being read in place while output goes on below them
            self._back = min(self._back + pushed, len(vt.history))
            self.refresh()
        elif len(dirty) > vt.lines // 2:
            self.refresh()
        else:
            self.refresh(*(self._line_region(y) for y in sorted(dirty) if y < vt.lines))

    def _line_region(self, y: int) -> Region:
        return Region(0, y, self.size.width, 1)

    def _reply(self, text: str) -> None:
        if not self._ended:
            self._send(text.encode())

    # -- input ----------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        key = event.key
        if is_leave_key(key):
            self._swallow(event)
            self.post_message(self.LeaveRequested())
        elif key in SCROLL_KEYS:
            self._swallow(event)
            direction, amount = SCROLL_KEYS[key]
            self.scroll_history(direction * (amount or max(self._vt.lines - 1, 1)))
        elif not self._ended:
            # every other key is the guest's: no binding of the screen or the app sees it
            self._swallow(event)
            self._to_live()
            data = key_bytes(key, event.character, app_cursor=APP_CURSOR_KEYS in self._vt.mode)
            if data:
                self._send(data)

    def on_paste(self, event: events.Paste) -> None:
        if self._ended:
            return
        self._swallow(event)
        data = event.text.replace("\r\n", "\r").replace("\n", "\r").encode()
        if BRACKETED_PASTE in self._vt.mode:
            data = b"\x1b[200~" + data + b"\x1b[201~"
        self._to_live()
        self._send(data)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._swallow(event)
        self.scroll_history(WHEEL_LINES)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._swallow(event)
        self.scroll_history(-WHEEL_LINES)

    @staticmethod
    def _swallow(event: events.Event) -> None:
        event.stop()
        event.prevent_default()

    def scroll_history(self, lines: int) -> None:
        """Scroll the view back (positive) or forward (negative) through the scrollback."""
        back = max(0, min(self._back + lines, len(self._vt.history)))
        if back != self._back:
            self._back = back
            self.refresh()

    def _to_live(self) -> None:
        self.scroll_history(-self._back)

    def on_focus(self) -> None:
        self.refresh(self._line_region(self._vt.cursor.y))

    def on_blur(self) -> None:
        self.refresh(self._line_region(self._vt.cursor.y))

    def on_resize(self) -> None:
        width, height = self.size
        if width > 0 and height > 0:
            self._vt.resize(height, width)
            self._vt.dirty.clear()
            self._vt.pushed = 0
            self._back = min(self._back, len(self._vt.history))
            self._cursor_line = self._vt.cursor.y
            self.refresh()

    # -- drawing --------------------------------------------------------------------------

    def _line_at(self, y: int) -> Line | None:
        vt = self._vt
        if not 0 <= y < vt.lines:
            return None
        if not self._back:
            return vt.buffer[y]
        index = len(vt.history) - self._back + y
        return vt.history[index] if index < len(vt.history) else vt.buffer[index - len(vt.history)]

    def render_line(self, y: int) -> Strip:
        base = self.rich_style
        line = self._line_at(y)
        if line is None:
            return Strip.blank(self.size.width, base)
        vt = self._vt
        show_cursor = (self.has_focus and not self._ended and not self._back
                       and not vt.cursor.hidden and y == vt.cursor.y)
        cursor_x = min(vt.cursor.x, vt.columns - 1) if show_cursor else -1
        return Strip(self._segments(line, cursor_x, base)).crop_extend(0, self.size.width, base)

    def _segments(self, line: Line, cursor_x: int, base: Style) -> list[Segment]:
        """Runs of cells with the same attributes, one Segment each."""
        if base != self._style_base:  # the theme changed: styles are built again
            self._style_cache.clear()
            self._style_base = base
        segments: list[Segment] = []
        run: list[str] = []
        run_key: CellKey | None = None
        for x in range(self._vt.columns):
            char = line[x]
            if not char.data:  # the right half of a wide character
                continue
            key = (char.fg, char.bg, char.bold, char.italics, char.underscore, char.strikethrough,
                   char.reverse != (x == cursor_x))
            if key != run_key:
                if run_key is not None:
                    segments.append(Segment("".join(run), self._style_for(run_key, base)))
                run, run_key = [], key
            run.append(char.data)
        if run_key is not None:
            segments.append(Segment("".join(run), self._style_for(run_key, base)))
        return segments

    def _style_for(self, key: CellKey, base: Style) -> Style:
        style = self._style_cache.get(key)
        if style is None:
            fg, bg, bold, italic, underline, strike, reverse = key
            color = pyte_colour(fg) or base.color
            bgcolor = pyte_colour(bg) or base.bgcolor
            if reverse:  # swapped here, not with SGR 7, so it reads the same in every terminal
                color, bgcolor = bgcolor, color
            style = base + Style(color=color, bgcolor=bgcolor, bold=bold, italic=italic,
                                 underline=underline, strike=strike)
            self._style_cache[key] = style
        return style
