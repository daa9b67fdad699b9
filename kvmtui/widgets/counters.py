"""Tables of live counters: KVM exits by reason, vCPUs, per-VM rates; updated in place.

Each tick replaces the rows but keeps the cursor on the same reason (or VM) and the scroll
position, so a user reading a row does not lose it when the order changes. The exits tables
are laid out for the width they get: a meaning wraps at its spaces onto more lines of its row,
and per-vCPU columns are shown only when they leave the meaning room to be read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.widgets import DataTable

from kvmtui.virt.models import Counter, VcpuStats
from kvmtui.virt.perf.exitnames import describe
from kvmtui.virt.perf.rates import is_time_counter
from kvmtui.widgets.formatting import per_second, percent, seconds_total, sparkline, wrap_line

MAX_VCPU_COLUMNS = 16
CELL_PADDING = 1       # DataTable's default, each side of a cell
SCROLLBAR = 2          # the vertical scrollbar a long table grows
MIN_MEANING = 24       # narrower than this, per-vCPU columns give way to the meaning

# KVM's nanosecond counters (arch/x86/kvm and virt/kvm/kvm_main.c): time, summed over vCPUs
TIME_MEANINGS = {   # short: beside four columns of figures they fit 80 columns on one line
    "halt_wait_ns": "halted, asleep",
    "halt_poll_success_ns": "polling, then woken",
    "halt_poll_fail_ns": "polling in vain",
}


class LiveTable(DataTable):
    """A DataTable whose rows are replaced each tick, keyed, with the cursor kept on its key."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._signature: tuple[str, ...] = ()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a row here selects nothing: enter belongs to the screen (the VM's details)
        return action != "select_cursor"

    def replace(self, columns: Sequence[str], rows: Sequence[tuple[str, Sequence]]) -> None:
        """rows: (key, cells). Columns are rebuilt only when they change."""
        keep = None
        if self.row_count and self.cursor_row < self.row_count:
            keep = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        scroll = (self.scroll_x, self.scroll_y)
        if tuple(columns) != self._signature:
            self.clear(columns=True)
            for label in columns:
                self.add_column(label, key=label)
            self._signature = tuple(columns)
        else:
            self.clear()
        for key, cells in rows:
            # a cell of several lines (a wrapped meaning) makes its row as tall
            lines = max((str(c).count("\n") + 1 for c in cells), default=1)
            self.add_row(*cells, key=key, height=lines)
        keys = [key for key, _ in rows]
        if keep in keys:
            self.move_cursor(row=keys.index(keep), animate=False, scroll=False)
        self.scroll_to(*scroll, animate=False, immediate=True)

    def row_values(self) -> dict[str, list[str]]:
        """The rows as a user reads them: key -> cell texts."""
        return {str(row.key.value): [str(c) for c in self.get_row(row.key)]
                for row in self.ordered_rows}


def _meaning_width(width: int, cells: Sequence[Sequence[str]], columns: Sequence[str]) -> int:
    """What is left of `width` for the last column once the others have their widest cell."""
    used = sum(max([len(label), *(len(row[i]) for row in cells)]) + 2 * CELL_PADDING
               for i, label in enumerate(columns))
    return width - used - 2 * CELL_PADDING - SCROLLBAR


def _with_meanings(columns: list[str], rows: list[tuple[str, list[str]]],
                   meanings: Sequence[str], width: int):
    room = max(MIN_MEANING // 2, _meaning_width(width, [c for _, c in rows], columns))
    for (_, cells), meaning in zip(rows, meanings, strict=True):
        cells.append("\n".join(wrap_line(meaning, room)) if meaning else "")
    return [*columns, "Meaning"], rows


def exit_count_rows(exits: dict[str, Counter], per_vcpu: Sequence[dict[str, Counter]],
                    width: int):
    """(columns, rows) of the counters of events (exits, faults, polls), time counters left
    out: reason, total, rate, each vCPU's rate when there is room, meaning wrapped to fit."""
    counts = {r: c for r, c in exits.items() if not is_time_counter(r)}
    shown = list(per_vcpu[:MAX_VCPU_COLUMNS])
    columns = ["Reason", "Total", "/s"]
    rows = [(r, [r, f"{c.total:,}", per_second(c.rate)]) for r, c in counts.items()]
    vcpu_columns = [f"vCPU{i} /s" for i in range(len(shown))]
    with_vcpus = [(r, cells + [per_second(v[r].rate) if r in v else "" for v in shown])
                  for r, cells in rows]
    if shown and _meaning_width(width, [c for _, c in with_vcpus],
                                columns + vcpu_columns) >= MIN_MEANING:
        columns, rows = columns + vcpu_columns, with_vcpus
    return _with_meanings(columns, rows, [describe(r) for r in counts], width)


def time_counter_rows(exits: dict[str, Counter], width: int):
    """(columns, rows) of KVM's nanosecond counters as time: the total in seconds, and per
    second in ms/s and as a share of one vCPU (summed over vCPUs, so it may pass 100%)."""
    columns = ["Time counter", "Total", "Per second", "Of 1 vCPU"]
    rows = []
    for name, counter in exits.items():
        if not is_time_counter(name):
            continue
        rate = counter.rate
        rows.append((name, [name, seconds_total(counter.total),
                            "-" if rate is None else f"{rate / 1e6:.1f} ms/s",
                            "-" if rate is None else f"{rate / 1e7:.1f}%"]))
    return _with_meanings(columns, rows, [TIME_MEANINGS.get(r, describe(r)) for r, _ in rows],
                          width)


def vcpu_rows(vcpus: Sequence[VcpuStats], history: Mapping[int, Sequence[float | None]],
              width: int = 20):
    columns = ["vCPU", "CPU%", "Wait%", "Steal%", "History"]
    rows = [(str(v.index), [str(v.index), percent(v.cpu_percent) or "-",
                            percent(v.wait_percent) or "-", percent(v.steal_percent) or "-",
                            sparkline(history.get(v.index, ()), width)])
            for v in vcpus]
    return columns, rows
