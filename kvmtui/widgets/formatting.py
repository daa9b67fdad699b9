"""Short, fixed-width renderings of numbers for table cells."""

from __future__ import annotations


def human_kib(kib: int) -> str:
    """8388608 -> '8.0 GiB', 524288 -> '512 MiB' (binary units, as virsh and free use)."""
    if kib >= 1024 * 1024:
        return f"{kib / (1024 * 1024):.1f} GiB"
    if kib >= 1024:
        return f"{kib / 1024:.0f} MiB"
    return f"{kib} KiB"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
