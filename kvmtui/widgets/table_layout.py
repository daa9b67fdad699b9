"""Which of the list's columns fit, how wide each is, and where sideways scrolling starts.

Pure (no Textual) so the rules are tested directly:
- The chosen columns, in the user's order, are also in priority order: at any width the first
  ones are on screen and the rest lie to the right, one `→` per column away.
- The columns up to and including Name are frozen: sideways scrolling moves only the columns
  after them, so every row stays named.
- Name is as wide as the longest name but at most NAME_CAP; a longer name is shortened in the
  middle ("production-db…replica-02"), where names tend to repeat, keeping the ends that tell
  them apart. Before the optional columns get room, Name gives way down to NAME_FLOOR so that
  the essential columns (State, CPU%, vCPUs, Memory…) fit at 80 columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len

from kvmtui.virt.columns import ListColumn
from kvmtui.virt.models import DomainStats

GAP = 2           # spaces between columns
LEAD = 3          # lead cells: the mark, the advice flag, a space before the first column
EDGES = LEAD + 1  # the lead cells and one at the end
NAME_CAP = 32
NAME_FLOOR = 12
# Before these are on screen, Name gives up its width; after them, Name grows first.
ESSENTIAL = frozenset({"id", "name", "host", "state", "cpu", "vcpus", "memory"})


@dataclass(frozen=True, slots=True)
class ColumnLayout:
    frozen: tuple[int, ...]          # indexes of the columns that never scroll
    shown: tuple[int, ...]           # indexes of the scrolling columns on screen, in order
    widths: dict[int, int]           # index -> width of every column on screen
    more_left: bool                  # scrolled: columns are hidden on the left
    more_right: bool                 # columns lie beyond the right edge
    max_offset: int                  # the furthest useful sideways scroll

    @property
    def on_screen(self) -> tuple[int, ...]:
        return self.frozen + self.shown


def lay_out(columns: Sequence[ListColumn], natural: Sequence[int], available: int,
            offset: int) -> ColumnLayout:
    """natural: each column's width for its widest cell (label included); available: the
    table's width in cells; offset: how many scrolling columns are scrolled off to the left."""
    name = next((i for i, c in enumerate(columns) if c.key == "name"), -1)
    frozen = tuple(range(name + 1))
    rest = tuple(range(name + 1, len(columns)))
    widths = {i: natural[i] for i in range(len(columns))}
    if name >= 0:
        widths[name] = _name_width(columns, natural, available, name)
    max_offset = _max_offset(rest, widths, available - _span(frozen, widths))
    offset = max(0, min(offset, max_offset))
    room = available - _span(frozen, widths)
    shown: list[int] = []
    for i in rest[offset:]:
        need = widths[i] + GAP
        if shown and need > room:
            break
        shown.append(i)  # the first one always: cut at the edge rather than none at all
        room -= need
    return ColumnLayout(frozen, tuple(shown), {i: widths[i] for i in frozen + tuple(shown)},
                  more_left=offset > 0, more_right=len(shown) < len(rest) - offset,
                  max_offset=max_offset)


def _span(indexes: Iterable[int], widths: dict[int, int]) -> int:
    indexes = list(indexes)
    return sum(widths[i] for i in indexes) + GAP * max(len(indexes) - 1, 0) + EDGES


def _name_width(columns: Sequence[ListColumn], natural: Sequence[int], available: int,
                name: int) -> int:
    wanted = min(natural[name], NAME_CAP)
    others = [i for i, c in enumerate(columns) if c.key in ESSENTIAL and i != name]
    essentials = _span(others, dict(enumerate(natural))) + GAP
    floor = min(wanted, NAME_FLOOR)
    return max(floor, min(wanted, available - essentials))


def _max_offset(rest: Sequence[int], widths: dict[int, int], room: int) -> int:
    """The smallest offset that brings the last column on screen."""
    used = 0
    for back, i in enumerate(reversed(rest)):
        used += widths[i] + GAP
        if used > room:
            return max(len(rest) - back, 0) if back else len(rest) - 1
    return 0


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` cells: whole, or its start and end around '…'."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head_cells = (width - 1 + 1) // 2
    tail_cells = width - 1 - head_cells
    head = _take(text, head_cells)
    tail = _take(text[::-1], tail_cells)[::-1]
    return f"{head}…{tail}"


def fit_cell(column_key: str, cell: str, width: int) -> str:
    """A cell in its column's width: Name shortened visibly, others cut at the edge."""
    if cell_len(cell) <= width:
        return cell
    return shorten(cell, width) if column_key == "name" else cell[:width]


def _take(text: str, cells: int) -> str:
    taken, used = [], 0
    for char in text:
        used += cell_len(char)
        if used > cells:
            break
        taken.append(char)
    return "".join(taken)


def figures_reported(stats: Iterable[DomainStats]) -> set[str]:
    """The live columns some domain of these stats can fill. A driver without statistics (the
    test driver) reports only states; a figure that needs two samples (a rate) is known to
    come from the counters the first sample already carries."""
    found: set[str] = set()
    for st in stats:
        if st.vcpus or st.memory_kib is not None or st.cpu_percent is not None:
            found.update(("cpu", "history", "disk_read", "disk_write", "net_rx", "net_tx"))
        if st.memory_used_kib is not None:
            found.add("used")
        if st.exits is not None:
            found.add("exits")
        if len(found) == len(LIVE_KEYS):
            break
    return found


LIVE_KEYS = frozenset({"cpu", "history", "disk_read", "disk_write", "net_rx", "net_tx", "used",
                       "exits"})

