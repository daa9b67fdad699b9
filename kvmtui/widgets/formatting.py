"""Short, fixed-width renderings of numbers for table cells, and the ways a long value (a
path, a title line) is fitted into a narrow terminal without being cut into fragments."""

from __future__ import annotations

import re


def human_kib(kib: int) -> str:
    """8388608 -> '8.0 GiB', 524288 -> '512 MiB' (binary units, as virsh and free use)."""
    if kib >= 1024 * 1024:
        return f"{kib / (1024 * 1024):.1f} GiB"
    if kib >= 1024:
        return f"{kib / 1024:.0f} MiB"
    return f"{kib} KiB"


def count(n: int, word: str, plural: str | None = None) -> str:
    """'1 socket', '2 sockets', '0 vCPUs': word + 's' unless another plural is given."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def human_rate(bytes_per_s: float | None) -> str:
    """Bytes per second in four or five cells, as virt-top does: '0', '812', '4.1K', '12M'."""
    if bytes_per_s is None:
        return ""
    value = float(bytes_per_s)
    for unit in ("", "K", "M", "G", "T"):
        if value < 1000 or unit == "T":
            if unit == "" or value >= 10:
                return f"{value:.0f}{unit}"
            return f"{value:.1f}{unit}"
        value /= 1024
    return ""


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def per_second(value: float | None) -> str:
    """An event rate: '0', '57', '1.2k', '34k', '1.5M'."""
    if value is None:
        return "-"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if value >= scale:
            shown = value / scale
            return f"{shown:.1f}{unit}" if shown < 10 else f"{shown:.0f}{unit}"
    return f"{value:.0f}" if value >= 10 or value == 0 else f"{value:.1f}"


SPARK_LEVELS = " ▁▂▃▄▅▆▇█"


def sparkline(values, width: int, top: float = 100.0) -> str:
    """The last `width` values as block characters on a fixed 0..top scale; None is a gap."""
    cells = []
    for value in list(values)[-width:]:
        if value is None:
            cells.append(" ")
        elif value <= 0:
            cells.append(SPARK_LEVELS[1])  # a running, idle VM: the baseline
        else:  # any activity stands out from the idle baseline
            level = max(2, min(8, round(value / top * 8)))
            cells.append(SPARK_LEVELS[level])
    return " " * (width - len(cells)) + "".join(cells)


# -- fitting values into a narrow terminal without breaking them ------------------------------


def _word_pieces(start: int, word: str, limit: int) -> list[tuple[int, int]]:
    # a word longer than a line (a path, a URL) is cut after a '/', where a reader expects a
    # break; only a stretch with no '/' that is still too long is cut mid-word
    pieces: list[tuple[int, int]] = []
    offset = 0
    for part in re.findall(r"[^/]*/|[^/]+", word):
        while len(part) > limit:
            pieces.append((start + offset, start + offset + limit))
            offset, part = offset + limit, part[limit:]
        if part:
            pieces.append((start + offset, start + offset + len(part)))
            offset += len(part)
    return pieces


def wrap_spans(text: str, width: int, hang: int = 0) -> list[tuple[int, int]]:
    """Where to cut one line of `text` into lines of at most `width` characters, the lines
    after the first having `hang` fewer (they are indented by the caller): at spaces, and a
    word too long for any line after its '/'s. (start, end) offsets; spaces at a cut drop."""
    width = max(1, width)
    hang = hang if width - hang >= 8 else 0  # too narrow to indent: use the whole line
    limit = width - hang
    tokens: list[tuple[int, int]] = []
    for match in re.finditer(r"\S+", text):
        if match.end() - match.start() <= limit:
            tokens.append(match.span())
        else:
            tokens += _word_pieces(match.start(), match.group(), limit)
    return pack_spans(tokens, width, limit)


def pack_spans(tokens: list[tuple[int, int]], width: int,
               limit: int) -> list[tuple[int, int]]:
    """Tokens (start, end offsets, none longer than `limit`) put on lines: the first line
    `width` long, the others `limit`; a line ends before the token that would not fit."""
    lines: list[tuple[int, int]] = []
    start = end = -1
    for token_start, token_end in tokens:
        room = width if not lines else limit
        if start < 0:
            start, end = token_start, token_end
        elif token_end - start <= room:
            end = token_end
        else:
            lines.append((start, end))
            start, end = token_start, token_end
    if start >= 0:
        lines.append((start, end))
    return lines


def wrap_line(text: str, width: int, hang: int = 0) -> list[str]:
    """wrap_spans as the lines themselves, continuations indented by `hang` spaces."""
    spans = wrap_spans(text, width, hang)
    indent = " " * (hang if width - hang >= 8 else 0)
    return [("" if i == 0 else indent) + text[s:e] for i, (s, e) in enumerate(spans)]


def fit_parts(parts: list[str], width: int, sep: str = " · ") -> str:
    """The parts joined by sep, keeping as many leading parts as fit in width: the later,
    less important ones are dropped whole rather than cut in the middle of a figure."""
    shown = parts[:1]
    for part in parts[1:]:
        if len(sep.join([*shown, part])) > width:
            break
        shown.append(part)
    return sep.join(shown)


def bytes_per_second(value: float | None) -> str:
    """A byte rate with its unit: '0 B/s', '812 B/s', '4.1 KiB/s', '12 MiB/s'; '-' unknown."""
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1000 or unit == "GiB":
            shown = f"{value:.0f}" if unit == "B" or value >= 10 else f"{value:.1f}"
            return f"{shown} {unit}/s"
        value /= 1024
    return "-"


def seconds_total(ns: int) -> str:
    """A nanosecond counter's total as time: '0.42 s', '37.1 s', '5,412 s'."""
    s = ns / 1e9
    if s < 10:
        return f"{s:.2f} s"
    return f"{s:,.1f} s" if s < 1000 else f"{s:,.0f} s"


def pack_parts(parts: list[str], width: int, sep: str = " · ") -> str:
    """The parts on as few lines of at most `width` as they take, each part whole on one line
    (a part longer than a line gets a line of its own): figures never split from their label."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1] + sep + part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return "\n".join(lines)
