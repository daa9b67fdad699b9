"""The text of the domain list's cells: a summary's facts, and a VM's live figures."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from kvmtui.virt.columns import SPARK_WIDTH, ListColumn
from kvmtui.virt.domain.filtering import exit_rate
from kvmtui.virt.models import DomainStats, DomainSummary
from kvmtui.widgets.formatting import (
    human_kib,
    human_rate,
    per_second,
    percent,
    sparkline,
    yes_no,
)
from kvmtui.widgets.table_layout import GAP, ColumnLayout, fit_cell


def summary_cells(s: DomainSummary, state: str,
                  columns: Sequence[ListColumn]) -> tuple[str, ...]:
    """The cells that change only with the domain (its events); "" in the live columns."""
    fixed = {"id": "-" if s.id is None else str(s.id), "name": s.name, "host": s.host,
             "state": state, "vcpus": str(s.vcpus), "memory": human_kib(s.memory_kib),
             "autostart": yes_no(s.autostart), "persistent": yes_no(s.persistent)}
    return tuple(fixed.get(c.key, "") for c in columns)


def figure_cell(key: str, st: DomainStats, history: Sequence[float | None] | None) -> str:
    """A live column's cell: "" while the figure is unknown (one sample, no rate yet)."""
    if key == "cpu":
        return percent(st.cpu_percent)
    if key == "history":
        return sparkline(history, SPARK_WIDTH) if history else ""
    if key == "exits":
        rate = exit_rate(st)
        return "" if rate is None else per_second(rate)
    if key == "used":
        return human_kib(st.memory_used_kib) if st.memory_used_kib is not None else ""
    return human_rate(getattr(st, f"{key}_bps"))


MORE_LEFT = "‹"  # in the header, after the frozen columns: columns scrolled off to the left


def line_segments(columns: Sequence[ListColumn], cells: Sequence[str], styles: Sequence[Style],
                  lead: list[Segment], base: Style, layout: ColumnLayout,
                  header: bool = False) -> list[Segment]:
    """One line of the table (the header, or a row): the lead cells, then the cells of the
    columns on screen, each padded to its width (numbers to the right)."""
    segments = list(lead)
    order = layout.on_screen
    for n, i in enumerate(order):
        column, width = columns[i], layout.widths[i]
        cell = fit_cell(column.key, cells[i], width)
        pad = max(width - cell_len(cell), 0)
        text = " " * pad + cell if column.right else cell + " " * pad
        segments.append(Segment(text, styles[i]))
        if n < len(order) - 1:
            scrolled = header and layout.more_left and i == layout.frozen[-1]
            segments.append(Segment(MORE_LEFT + " " * (GAP - 1) if scrolled else " " * GAP,
                                    base))
    segments.append(Segment(" ", base))
    return segments
