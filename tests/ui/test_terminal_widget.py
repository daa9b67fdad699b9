"""TerminalView, the serial console's screen: keys out, recorded console output in, coalesced."""

from __future__ import annotations

from rich.color import Color
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding

from kvmtui.widgets.terminal import TerminalView
from tests.helpers import wait_for

ESC = b"\x1b"

# A login shell's prompt and `ls --color` in a directory with a folder, a program and a link,
# as GNU ls writes them over a serial line (CR LF line ends).
SHELL_OUTPUT = (
    b"\x1b[?2004h\x1b]0;root@web01: ~\x07root@web01:~# ls --color\r\n\x1b[?2004l\r"
    b"\x1b[0m\x1b[01;34mbackups\x1b[0m  \x1b[01;32mdeploy.sh\x1b[0m  "
    b"\x1b[01;36mlatest\x1b[0m  notes.txt\r\n"
    b"\x1b[?2004h\x1b]0;root@web01: ~\x07root@web01:~# "
)

# What top or vi draws: clear the screen, then cursor addressing and reverse video.
FULL_SCREEN_OUTPUT = (
    b"\x1b[H\x1b[2J"
    b"\x1b[1;1Htop - 10:42:01 up 3 days,  1 user,  load average: 0.08, 0.03, 0.01"
    b"\x1b[3;1H\x1b[7m    PID USER      PR  NI    VIRT    RES  %CPU COMMAND   \x1b[m"
    b"\x1b[4;5H1 root      20   0  167744  11232   0.0 systemd"
    b"\x1b[5;4H42 root      20   0       0      0   0.3 \x1b[1mkworker/0:1\x1b[m"
    b"\x1b[10;20H\x1b[38;5;208m256-colour\x1b[m \x1b[38;2;10;20;30;48;2;200;100;50mtruecolour\x1b[m"
    b"\x1b[24;1H\x1b[4munderlined\x1b[24m \x1b[3mitalic\x1b[23m"
    b"\x1b[6;1H"
)


class TerminalApp(App[None]):
    """The widget alone; `send` collects what would go to the guest."""

    # bindings the guest's keys must not reach: a plain one, and a priority one (as KvmApp's
    # ctrl+c) that check_action turns off while the console has the keys
    BINDINGS = [Binding("q", "bound", "bound"), Binding("ctrl+c", "bound", "bound", priority=True)]

    def __init__(self, scrollback: int = 5000) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.left = 0
        self.bound = 0
        self.scrollback = scrollback

    def compose(self) -> ComposeResult:
        yield TerminalView(self.sent.append, scrollback=self.scrollback, id="term")

    def on_mount(self) -> None:
        self.query_one(TerminalView).focus()

    def action_bound(self) -> None:
        self.bound += 1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        focused = self.focused
        return not (action == "bound" and isinstance(focused, TerminalView) and focused.captures_keys)

    def on_terminal_view_leave_requested(self, message: TerminalView.LeaveRequested) -> None:
        self.left += 1

    @property
    def view(self) -> TerminalView:
        return self.query_one(TerminalView)


async def show(pilot, *chunks: bytes) -> TerminalView:
    """Feed console output and let the widget parse and draw it."""
    view = pilot.app.view
    for chunk in chunks:
        view.feed(chunk)
    await wait_for(pilot, lambda: view.pending_bytes == 0)
    await pilot.pause()
    return view


def text_of(view: TerminalView) -> list[str]:
    return [line.rstrip() for line in view.display_text()]


def style_of(view: TerminalView, y: int, text: str):
    """The style the widget draws `text` on line y with."""
    for segment in view.render_line(y):
        if text in segment.text:
            return segment.style
    raise AssertionError(f"{text!r} not on line {y}: {text_of(view)[y]!r}")


# -- keys out ----------------------------------------------------------------------------------


async def test_typed_keys_reach_the_guest_as_terminal_bytes():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l", "s", "space", "minus", "enter", "ctrl+c", "up", "down", "tab",
                          "shift+tab", "escape", "backspace", "q", "ctrl+d", "f1", "pageup")
        assert app.sent == [b"l", b"s", b" ", b"-", b"\r", b"\x03", b"\x1b[A", b"\x1b[B", b"\t",
                            b"\x1b[Z", ESC, b"\x7f", b"q", b"\x04", b"\x1bOP", b"\x1b[5~"]
        assert app.bound == 0  # "q" went to the guest, not to the app's binding
        assert app.view.has_focus  # tab was sent, not used to move the focus


async def test_ctrl_right_bracket_asks_to_leave_and_sends_nothing():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+right_square_bracket")
        assert app.left == 1
        assert app.sent == []


async def test_paste_is_sent_with_carriage_returns_and_brackets_when_asked():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.view.post_message(events.Paste("echo é\nls\r\n"))
        await pilot.pause()
        assert app.sent == ["echo é\rls\r".encode()]
        await show(pilot, b"\x1b[?2004h")  # bash's readline asks for bracketed paste
        app.view.post_message(events.Paste("x"))
        await pilot.pause()
        assert app.sent[-1] == b"\x1b[200~x\x1b[201~"


async def test_the_guests_modes_and_queries_are_honoured():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, b"\x1b[?1h")  # application cursor keys (vi, less)
        await pilot.press("up")
        assert app.sent == [b"\x1bOA"]
        await show(pilot, b"\x1b[3;7H\x1b[6n")  # where is the cursor? (resize(1), systemd)
        assert app.sent[-1] == b"\x1b[3;7R"
        await show(pilot, b"\x1b[?3h")  # 132 columns, please: the widget's width decides
        assert app.view.columns == 80


async def test_output_fed_before_the_widget_is_mounted_is_shown():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = TerminalView(app.sent.append)
        view.feed(b"early boot\r\n")
        await app.mount(view, before=app.view)
        await wait_for(pilot, lambda: view.pending_bytes == 0)
        assert view.display_text()[0].rstrip() == "early boot"


# -- output in ---------------------------------------------------------------------------------


async def test_a_shell_prompt_and_ls_colours():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await show(pilot, SHELL_OUTPUT)
        lines = text_of(view)
        assert lines[0] == "root@web01:~# ls --color"
        assert lines[1] == "backups  deploy.sh  latest  notes.txt"
        assert lines[2] == "root@web01:~#"
        assert view.cursor_position == (14, 2)
        blue, green, cyan = (style_of(view, 1, name) for name in ("backups", "deploy.sh", "latest"))
        assert (blue.color, blue.bold) == (Color.from_ansi(12 - 8), True)
        assert green.color == Color.from_ansi(2) and cyan.color == Color.from_ansi(6)
        plain = style_of(view, 1, "notes.txt")
        assert plain.color == view.rich_style.color and not plain.bold


async def test_full_screen_cursor_addressing_and_attributes():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await show(pilot, b"old junk\r\n" * 5, FULL_SCREEN_OUTPUT)
        lines = text_of(view)
        assert lines[0].startswith("top - 10:42:01 up 3 days")
        assert lines[1] == ""
        assert lines[2] == "    PID USER      PR  NI    VIRT    RES  %CPU COMMAND"
        assert lines[3][4:] == "1 root      20   0  167744  11232   0.0 systemd"
        assert lines[4][3:].startswith("42 root")
        assert lines[9][19:] == "256-colour truecolour"
        assert lines[23] == "underlined italic"
        assert all("old junk" not in line for line in lines)
        assert view.cursor_position == (0, 5)
        base = view.rich_style
        header = style_of(view, 2, "PID USER")
        assert (header.color, header.bgcolor) == (base.bgcolor, base.color)  # reverse video
        assert style_of(view, 4, "kworker").bold
        assert style_of(view, 9, "256-colour").color == Color.parse("#ff8700")
        true = style_of(view, 9, "truecolour")
        assert (true.color, true.bgcolor) == (Color.parse("#0a141e"), Color.parse("#c86432"))
        assert style_of(view, 23, "underlined").underline
        assert style_of(view, 23, "italic").italic


async def test_the_cursor_is_drawn_reversed_only_with_the_focus():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await show(pilot, b"$ ")
        prompt, cursor, *_ = view.render_line(0)
        assert (prompt.text, cursor.text) == ("$ ", " ")  # the cursor: the cell after "$ "
        assert cursor.style.bgcolor == view.rich_style.color
        view.blur()
        await pilot.pause()
        assert all(segment.style.bgcolor == view.rich_style.bgcolor for segment in view.render_line(0))


async def test_a_utf8_character_split_across_chunks_is_shown_whole():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        euro = "€".encode()
        view = await show(pilot, b"caf\xc3")
        view = await show(pilot, b"\xa9 " + euro[:1], euro[1:2], euro[2:] + " 日本".encode())
        assert text_of(view)[0] == "café € 日本"


# -- coalescing and bursts ---------------------------------------------------------------------


async def test_many_small_feeds_are_parsed_in_a_handful_of_frames():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.view
        await pilot.pause()
        frames = view.frames
        for i in range(1000):
            view.feed(b"%03d " % i)
        assert view.pending_bytes == 4000  # nothing parsed yet: feed() only queues
        await show(pilot)
        assert view.frames - frames <= 2
        lines = text_of(view)  # 50 lines of 20 numbers: the last 24 on screen, in order
        assert lines[0].startswith("520 521 522") and lines[23].endswith("998 999")
        view.scroll_history(26)
        assert text_of(view)[0].startswith("000 001 002")


async def test_a_5_mb_burst_does_not_hold_up_keys():
    app = TerminalApp(scrollback=1000)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.view
        seen: list[tuple[int, int]] = []
        view._send = lambda data: (app.sent.append(data), seen.append((view.frames, view.pending_bytes)))
        burst = b"".join(b"[%8.3f] kernel: line %06d of a long boot log\r\n" % (i / 1000, i)
                         for i in range(110_000))
        assert len(burst) > 5_000_000
        view.feed(burst)
        await wait_for(pilot, lambda: view.frames > 0)  # the burst is being digested
        before = view.frames
        assert view.pending_bytes > 4_000_000
        await pilot.press("a")
        assert app.sent == [b"a"]
        frames_at_key, pending_at_key = seen[0]
        assert frames_at_key - before <= 2  # the key went out between frames...
        assert pending_at_key > 3_000_000  # ...long before the burst was through


# -- scrollback, resize, end ---------------------------------------------------------------------


async def test_shift_pageup_shows_the_scrollback_and_a_key_returns_to_the_bottom():
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = await show(pilot, b"".join(b"line %02d\r\n" % i for i in range(50)), b"$ ")
        assert text_of(view)[0] == "line 41" and text_of(view)[-1] == "$"
        await pilot.press("shift+pageup")
        assert view.scrolled_back == 9
        assert text_of(view)[0] == "line 32"
        await pilot.press("shift+pageup", "shift+pageup", "shift+pageup", "shift+pageup",
                          "shift+pageup", "shift+pageup")
        assert text_of(view)[0] == "line 00"  # the top of the scrollback
        await pilot.press("shift+pagedown")
        assert text_of(view)[0] == "line 09"
        view = await show(pilot, b"more\r\n")  # output below does not move what is read
        assert text_of(view)[0] == "line 09"
        assert app.sent == []
        await pilot.press("x")
        assert app.sent == [b"x"]
        assert view.scrolled_back == 0
        assert text_of(view)[-2:] == ["$ more", ""]


async def test_clear_forgets_the_scrollback():
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = await show(pilot, b"".join(b"line %02d\r\n" % i for i in range(30)))
        await show(pilot, b"\x1b[H\x1b[2J\x1b[3J$ ")
        await pilot.press("shift+pageup")
        assert view.scrolled_back == 0 and text_of(view)[0] == "$"


async def test_resize_gives_the_screen_the_widgets_size_and_keeps_the_cursor_line():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await show(pilot, b"".join(b"line %02d\r\n" % i for i in range(30)), b"$ ")
        assert (view.columns, view.lines) == (80, 24)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert (view.columns, view.lines) == (100, 30)
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert (view.columns, view.lines) == (40, 10)
        lines = text_of(view)
        assert lines[view.cursor_position[1]] == "$"
        assert "line 29" in lines  # the lines above the prompt stay; the top went to history
        await pilot.press("shift+pageup")
        assert "line 20" in text_of(view)


async def test_after_the_end_the_screen_stays_and_keys_go_to_the_bindings():
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = await show(pilot, SHELL_OUTPUT)
        view.set_ended("console closed: the VM stopped")
        view = await show(pilot)
        assert text_of(view)[1] == "backups  deploy.sh  latest  notes.txt"
        assert "console closed: the VM stopped" in text_of(view)[3]
        await pilot.press("q", "a", "ctrl+c")
        assert app.sent == [] and app.bound == 2
        await pilot.press("ctrl+right_square_bracket")
        assert app.left == 1


# -- how it looks --------------------------------------------------------------------------------


PALETTE = (
    b"".join(b"\x1b[%dm fg%d \x1b[m" % (n, n) for n in (*range(30, 38), *range(90, 98))) + b"\r\n"
    + b"".join(b"\x1b[%dm bg%d \x1b[m" % (n, n) for n in (*range(40, 48), *range(100, 108))) + b"\r\n"
    + b"\x1b[1mbold\x1b[m \x1b[3mitalic\x1b[m \x1b[4munderline\x1b[m \x1b[9mstrike\x1b[m "
    b"\x1b[7mreverse\x1b[m \x1b[38;5;208m256-colour\x1b[m \x1b[38;2;255;0;128mtruecolour\x1b[m "
    + "wide: 日本語 é\r\n".encode()
)


def test_coloured_output_snapshot(snap_compare):
    async def feed(pilot):
        await show(pilot, SHELL_OUTPUT, b"printf-colours\r\n", PALETTE, b"root@web01:~# ")

    assert snap_compare(TerminalApp(), terminal_size=(80, 24), run_before=feed)
