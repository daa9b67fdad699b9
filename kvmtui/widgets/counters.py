"""Tables of live counters: KVM exits by reason, vCPUs, per-VM rates; updated in place.

Each tick replaces the rows but keeps the cursor on the same reason (or VM) and the scroll
position, so a user reading a row does not lose it when the order changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.widgets import DataTable

from kvmtui.virt.models import Counter, VcpuStats
from kvmtui.virt.perf.exitnames import describe
from kvmtui.widgets.formatting import per_second, percent, sparkline

MAX_VCPU_COLUMNS = 16


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
            self.add_row(*cells, key=key)
        keys = [key for key, _ in rows]
        if keep in keys:
            self.move_cursor(row=keys.index(keep), animate=False, scroll=False)
        self.scroll_to(*scroll, animate=False, immediate=True)

    def row_values(self) -> dict[str, list[str]]:
        """The rows as a user reads them: key -> cell texts."""
        return {str(row.key.value): [str(c) for c in self.get_row(row.key)]
                for row in self.ordered_rows}


def exit_rows(exits: dict[str, Counter], per_vcpu: Sequence[dict[str, Counter]]):
    """(columns, rows) for the exits table: reason, total, rate, each vCPU's rate, meaning."""
    shown = list(per_vcpu[:MAX_VCPU_COLUMNS])
    columns = ["Reason", "Total", "/s", *(f"vCPU{i} /s" for i in range(len(shown))), "Meaning"]
    rows = []
    for reason, counter in exits.items():
        cells = [reason, f"{counter.total:,}", per_second(counter.rate)]
        cells += [per_second(v[reason].rate) if reason in v else "" for v in shown]
        cells.append(describe(reason))
        rows.append((reason, cells))
    return columns, rows


def vcpu_rows(vcpus: Sequence[VcpuStats], history: Mapping[int, Sequence[float | None]],
              width: int = 20):
    columns = ["vCPU", "CPU%", "Wait%", "Steal%", "History"]
    rows = [(str(v.index), [str(v.index), percent(v.cpu_percent) or "-",
                            percent(v.wait_percent) or "-", percent(v.steal_percent) or "-",
                            sparkline(history.get(v.index, ()), width)])
            for v in vcpus]
    return columns, rows
