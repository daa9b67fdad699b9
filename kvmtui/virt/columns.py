"""The columns the domain list can show: their keys (the config file's words), labels and order.

Kept in the virt layer, free of any UI, because the config file (virt/session/config.py) checks
a user's `columns = [...]` against them, and the list widget lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ListColumn:
    key: str
    label: str
    meaning: str
    right: bool = False       # numbers are right-aligned
    min_width: int = 0
    live: bool = False        # a figure from the stats sampler, not from the domain's summary


SPARK_WIDTH = 10

LIST_COLUMNS: tuple[ListColumn, ...] = (
    ListColumn("id", "Id", "libvirt's domain id while running", right=True, min_width=2),
    ListColumn("name", "Name", "the domain's name", min_width=4),
    ListColumn("host", "Host", "the host it is defined on (with two or more hosts)",
               min_width=4),
    ListColumn("state", "State", "running, shut off, paused…", min_width=11),
    ListColumn("cpu", "CPU%", "CPU use, 100 = all its vCPUs busy", right=True, min_width=5,
               live=True),
    ListColumn("vcpus", "vCPUs", "virtual CPUs", right=True),
    ListColumn("memory", "Memory", "memory given to it", right=True, min_width=8),
    ListColumn("exits", "Exits/s", "KVM VM exits per second, all vCPUs", right=True,
               min_width=7, live=True),
    ListColumn("used", "Used", "memory the guest uses (or QEMU's RSS)", right=True,
               min_width=8, live=True),
    ListColumn("history", "CPU history", "CPU% over the last samples", min_width=SPARK_WIDTH,
               live=True),
    ListColumn("disk_read", "Disk R/s", "bytes read from its disks per second", right=True,
               min_width=8, live=True),
    ListColumn("disk_write", "Disk W/s", "bytes written to its disks per second", right=True,
               min_width=8, live=True),
    ListColumn("net_rx", "Net RX/s", "bytes received on its NICs per second", right=True,
               min_width=8, live=True),
    ListColumn("net_tx", "Net TX/s", "bytes sent on its NICs per second", right=True,
               min_width=8, live=True),
    ListColumn("autostart", "Auto", "starts with the host"),
    ListColumn("persistent", "Persist", "defined (persistent) or transient"),
)
BY_KEY = {c.key: c for c in LIST_COLUMNS}
COLUMN_KEYS = tuple(BY_KEY)
# The list's columns unless the user chose others: the order is also their priority, so at
# 80 columns the first ones (Id, Name, State, CPU%, vCPUs, Memory) are the ones on screen.
DEFAULT_COLUMNS: tuple[str, ...] = COLUMN_KEYS


def checked_columns(keys: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The user's column keys in their order, with Name added first if left out; ValueError
    with a one-line reason for an unknown or repeated key."""
    seen: list[str] = []
    for key in keys:
        if key not in BY_KEY:
            raise ValueError(f"unknown column {key!r} (known: {', '.join(COLUMN_KEYS)})")
        if key in seen:
            raise ValueError(f"column {key!r} is listed twice")
        seen.append(key)
    if "name" not in seen:  # after Id when Id leads, as in the default order
        seen.insert(1 if seen[:1] == ["id"] else 0, "name")
    return tuple(seen)
