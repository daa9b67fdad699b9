"""The serial console's key table: Textual's key names -> the bytes an xterm sends."""

from __future__ import annotations

import pytest

from kvmtui.widgets.terminal_keys import LEAVE_KEYS, is_leave_key, key_bytes


@pytest.mark.parametrize(("key", "character", "expected"), [
    ("a", "a", b"a"),
    ("A", "A", b"A"),
    ("space", " ", b" "),
    ("exclamation_mark", "!", b"!"),
    ("slash", "/", b"/"),
    ("é", "é", "é".encode()),
    ("€", "€", b"\xe2\x82\xac"),
    ("日", "日", "日".encode()),
    ("enter", "\r", b"\r"),
    ("enter", None, b"\r"),
    ("backspace", "\x7f", b"\x7f"),
    ("backspace", "\x08", b"\x7f"),  # Textual names both 0x08 and 0x7f backspace
    ("tab", "\t", b"\t"),
    ("shift+tab", None, b"\x1b[Z"),
    ("escape", "\x1b", b"\x1b"),
])
def test_plain_keys(key, character, expected):
    assert key_bytes(key, character) == expected


@pytest.mark.parametrize("letter", "abcdefghijklmnopqrstuvwxyz")
def test_ctrl_letters_are_c0_controls(letter):
    code = ord(letter) - ord("a") + 1
    # as a legacy terminal reports them (the control byte) and as pilot.press does (no character)
    assert key_bytes(f"ctrl+{letter}", chr(code)) == bytes([code])
    assert key_bytes(f"ctrl+{letter}", None) == bytes([code])


@pytest.mark.parametrize(("key", "expected"), [
    ("ctrl+c", b"\x03"), ("ctrl+d", b"\x04"), ("ctrl+z", b"\x1a"),
    ("ctrl+@", b"\x00"), ("ctrl+at", b"\x00"), ("ctrl+space", b"\x00"),
    ("ctrl+backslash", b"\x1c"),
    ("ctrl+circumflex_accent", b"\x1e"),
    ("ctrl+underscore", b"\x1f"),
    ("ctrl+left_square_bracket", b"\x1b"),
    ("ctrl+shift+a", b"\x01"),  # kitty protocol's spelling
])
def test_ctrl_symbols(key, expected):
    assert key_bytes(key, None) == expected


@pytest.mark.parametrize(("key", "expected"), [
    ("up", b"\x1b[A"), ("down", b"\x1b[B"), ("right", b"\x1b[C"), ("left", b"\x1b[D"),
    ("home", b"\x1b[H"), ("end", b"\x1b[F"),
    ("insert", b"\x1b[2~"), ("delete", b"\x1b[3~"),
    ("pageup", b"\x1b[5~"), ("pagedown", b"\x1b[6~"),
    ("f1", b"\x1bOP"), ("f2", b"\x1bOQ"), ("f3", b"\x1bOR"), ("f4", b"\x1bOS"),
    ("f5", b"\x1b[15~"), ("f6", b"\x1b[17~"), ("f7", b"\x1b[18~"), ("f8", b"\x1b[19~"),
    ("f9", b"\x1b[20~"), ("f10", b"\x1b[21~"), ("f11", b"\x1b[23~"), ("f12", b"\x1b[24~"),
])
def test_cursor_editing_and_function_keys(key, expected):
    assert key_bytes(key, None) == expected


@pytest.mark.parametrize(("key", "expected"), [
    ("up", b"\x1bOA"), ("down", b"\x1bOB"), ("right", b"\x1bOC"), ("left", b"\x1bOD"),
    ("home", b"\x1bOH"), ("end", b"\x1bOF"),
    ("pageup", b"\x1b[5~"),  # not a cursor key: unchanged
])
def test_application_cursor_mode(key, expected):
    assert key_bytes(key, None, app_cursor=True) == expected


@pytest.mark.parametrize(("key", "expected"), [
    ("ctrl+up", b"\x1b[1;5A"), ("shift+left", b"\x1b[1;2D"), ("alt+right", b"\x1b[1;3C"),
    ("ctrl+shift+home", b"\x1b[1;6H"), ("ctrl+delete", b"\x1b[3;5~"), ("shift+f5", b"\x1b[15;2~"),
    ("ctrl+f1", b"\x1b[1;5P"), ("ctrl+pageup", b"\x1b[5;5~"),
])
def test_modified_special_keys_use_xterm_parameters(key, expected):
    assert key_bytes(key, None) == expected


@pytest.mark.parametrize(("key", "character", "expected"), [
    ("alt+a", "a", b"\x1ba"),
    ("alt+shift+a", "A", b"\x1bA"),
    ("alt+ctrl+c", None, b"\x1b\x03"),
    ("alt+enter", None, b"\x1b\r"),
    ("alt+backspace", None, b"\x1b\x7f"),
])
def test_alt_prefixes_escape(key, character, expected):
    assert key_bytes(key, character) == expected


def test_the_leave_key_is_never_sent():
    assert is_leave_key("ctrl+right_square_bracket")  # Textual's name for 0x1d
    assert "ctrl+right_square_bracket" in LEAVE_KEYS
    assert key_bytes("ctrl+right_square_bracket", "\x1d") is None
    assert key_bytes("ctrl+]", None) is None
    assert not is_leave_key("ctrl+c")


def test_keys_a_terminal_cannot_send_give_nothing():
    assert key_bytes("ctrl+f24x", None) is None
    assert key_bytes("volume_up", None) is None
