"""What a VT100/xterm terminal sends for a key: Textual key events -> bytes for a serial console.

Pure: no Textual import. The names are Textual 8's (textual/keys.py, textual/_ansi_sequences.py):
a legacy terminal's 0x1c..0x1f arrive as ctrl+backslash, ctrl+right_square_bracket,
ctrl+circumflex_accent and ctrl+underscore, 0x00 as ctrl+@ ("ctrl+at"/"ctrl+space" under the
kitty keyboard protocol), and both 0x08 and 0x7f as "backspace". Modifiers come first and in
any order ("alt+shift+a", "ctrl+shift+up").
"""

from __future__ import annotations

ESC = b"\x1b"

# ctrl+] leaves the console, as in virsh console and telnet; it is never sent to the guest.
LEAVE_KEYS = frozenset({"ctrl+right_square_bracket", "ctrl+]"})

# Keys that have one fixed sequence whatever the modifiers (shift+enter is still a CR).
PLAIN_KEYS: dict[str, bytes] = {
    "enter": b"\r",
    "tab": b"\t",
    "backspace": b"\x7f",
    "escape": ESC,
    "space": b" ",
    "shift+tab": b"\x1b[Z",
}

# Cursor keys: ESC [ x normally, ESC O x once the guest asked for application cursor keys
# (DECCKM), and ESC [ 1 ; m x with modifiers.
CURSOR_KEYS: dict[str, bytes] = {
    "up": b"A", "down": b"B", "right": b"C", "left": b"D", "home": b"H", "end": b"F",
}

# Editing keys: ESC [ n ~, or ESC [ n ; m ~ with modifiers.
TILDE_KEYS: dict[str, int] = {
    "insert": 2, "delete": 3, "pageup": 5, "pagedown": 6,
    "f5": 15, "f6": 17, "f7": 18, "f8": 19, "f9": 20, "f10": 21, "f11": 23, "f12": 24,
}

# F1..F4 are SS3 P..S, or ESC [ 1 ; m P..S with modifiers.
SS3_KEYS: dict[str, bytes] = {"f1": b"P", "f2": b"Q", "f3": b"R", "f4": b"S"}

# ctrl + a symbol: the C0 control a terminal sends (ctrl+letter is computed).
CTRL_SYMBOLS: dict[str, int] = {
    "@": 0x00, "at": 0x00, "space": 0x00,
    "left_square_bracket": 0x1b, "[": 0x1b,
    "backslash": 0x1c, "\\": 0x1c,
    "circumflex_accent": 0x1e, "^": 0x1e,
    "underscore": 0x1f, "_": 0x1f, "minus": 0x1f,
    "question_mark": 0x7f,
}

# xterm's modifier parameter: 1 + shift(1) + alt(2) + ctrl(4)
MODIFIER_BITS = {"shift": 1, "alt": 2, "meta": 2, "ctrl": 4}


def is_leave_key(key: str) -> bool:
    """Whether this key leaves the console (ctrl+]) rather than going to the guest."""
    return key in LEAVE_KEYS


def key_bytes(key: str, character: str | None, *, app_cursor: bool = False) -> bytes | None:
    """The bytes a terminal sends for Textual's (event.key, event.character), or None.

    None means "send nothing": the leave key, or a key a terminal has no code for.
    `app_cursor` is the guest's DECCKM mode (arrows, home and end as ESC O x).
    """
    if is_leave_key(key):
        return None
    *modifiers, base = _split(key)
    mods = set(modifiers)
    if mods & {"alt", "meta"}:
        # alt+x is ESC x; a key that has its own modifier form (alt+up) keeps it
        if base not in CURSOR_KEYS and base not in TILDE_KEYS and base not in SS3_KEYS:
            rest = "+".join([m for m in modifiers if m not in ("alt", "meta")] + [base])
            inner = key_bytes(rest, character, app_cursor=app_cursor)
            return None if inner is None else ESC + inner
    if key in PLAIN_KEYS:
        return PLAIN_KEYS[key]
    special = _special(base, mods, app_cursor)
    if special is not None:
        return special
    if "ctrl" in mods:
        return _ctrl(base, character)
    if character and character.isprintable():
        return character.encode("utf-8")
    if base in PLAIN_KEYS:  # shift+enter, shift+backspace...
        return PLAIN_KEYS[base]
    if character and len(character) == 1:  # a control character Textual has no name for
        return character.encode("utf-8")
    return None


def _split(key: str) -> list[str]:
    # "ctrl+plus" cannot be mistaken: Textual names "+" plus, so "+" only separates
    if key.endswith("++"):
        return [*key[:-2].split("+"), "+"]
    return key.split("+")


def _modifier_param(mods: set[str]) -> int:
    return 1 + sum({MODIFIER_BITS[m] for m in mods if m in MODIFIER_BITS})  # a set: alt+meta is 2


def _special(base: str, mods: set[str], app_cursor: bool) -> bytes | None:
    """Cursor, editing and function keys, with xterm's modifier encoding."""
    param = _modifier_param(mods)
    if base in CURSOR_KEYS:
        final = CURSOR_KEYS[base]
        if param > 1:
            return b"\x1b[1;%d" % param + final
        return (b"\x1bO" if app_cursor else b"\x1b[") + final
    if base in TILDE_KEYS:
        number = TILDE_KEYS[base]
        if param > 1:
            return b"\x1b[%d;%d~" % (number, param)
        return b"\x1b[%d~" % number
    if base in SS3_KEYS:
        if param > 1:
            return b"\x1b[1;%d" % param + SS3_KEYS[base]
        return b"\x1bO" + SS3_KEYS[base]
    return None


def _ctrl(base: str, character: str | None) -> bytes | None:
    if len(base) == 1 and base.isascii() and base.isalpha():
        return bytes([ord(base.lower()) - ord("a") + 1])
    if base in CTRL_SYMBOLS:
        return bytes([CTRL_SYMBOLS[base]])
    if base in PLAIN_KEYS:  # ctrl+enter is still a CR, ctrl+backspace still DEL
        return PLAIN_KEYS[base]
    if character and len(character) == 1 and not character.isprintable():
        return character.encode("utf-8")  # the terminal already made the control byte
    return None
