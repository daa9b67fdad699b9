"""Short, fixed-width renderings of numbers for table cells."""

from __future__ import annotations


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
