"""The list's column rules (widgets/table_layout.py, virt/columns.py) without a screen."""

from __future__ import annotations

import pytest

from kvmtui.virt.columns import BY_KEY, DEFAULT_COLUMNS, checked_columns
from kvmtui.virt.domain.filtering import exit_rate
from kvmtui.virt.models import (
    Counter,
    DomainKey,
    DomainState,
    DomainStats,
    ExitCounts,
    RawSample,
    VcpuRaw,
)
from kvmtui.virt.perf.rates import compute
from kvmtui.widgets.table_layout import (
    EDGES,
    GAP,
    NAME_CAP,
    NAME_FLOOR,
    figures_reported,
    lay_out,
    shorten,
)

ESSENTIALS = ["id", "name", "state", "cpu", "vcpus", "memory"]


def natural_widths(columns, name_width: int) -> list[int]:
    """Each column as wide as its label or its minimum, Name as wide as the longest name."""
    return [name_width if c.key == "name" else max(len(c.label), c.min_width) for c in columns]


def keys_on_screen(columns, layout) -> list[str]:
    return [columns[i].key for i in layout.on_screen]


def drawn_width(layout) -> int:
    return sum(layout.widths.values()) + GAP * (len(layout.widths) - 1) + EDGES


@pytest.mark.parametrize("longest_name", [10, 32, 60])
def test_at_80_columns_the_essentials_are_on_screen(longest_name):
    columns = [BY_KEY[k] for k in DEFAULT_COLUMNS if k != "host"]
    layout = lay_out(columns, natural_widths(columns, longest_name), 80, 0)
    shown = keys_on_screen(columns, layout)
    assert shown[:6] == ESSENTIALS
    assert drawn_width(layout) <= 80
    name = layout.widths[1]
    assert min(longest_name, NAME_FLOOR) <= name <= min(longest_name, NAME_CAP)
    assert layout.more_right and not layout.more_left


def test_name_gives_way_so_the_essentials_fit_with_a_host_column():
    columns = [BY_KEY[k] for k in DEFAULT_COLUMNS]
    natural = natural_widths(columns, 60)
    natural[2] = 12  # host names
    layout = lay_out(columns, natural, 80, 0)
    assert keys_on_screen(columns, layout)[:7] == ["id", "name", "host", "state", "cpu",
                                                   "vcpus", "memory"]
    assert NAME_FLOOR <= layout.widths[1] < NAME_CAP
    assert drawn_width(layout) <= 80


def test_a_wide_terminal_shows_every_column_and_cannot_scroll():
    columns = [BY_KEY[k] for k in DEFAULT_COLUMNS]
    layout = lay_out(columns, natural_widths(columns, 20), 400, 3)
    assert keys_on_screen(columns, layout) == list(DEFAULT_COLUMNS)
    assert layout.max_offset == 0 and not layout.more_left and not layout.more_right


def test_scrolling_keeps_id_and_name_and_stops_at_the_last_column():
    columns = [BY_KEY[k] for k in DEFAULT_COLUMNS if k != "host"]
    natural = natural_widths(columns, 30)
    first = lay_out(columns, natural, 80, 0)
    last = lay_out(columns, natural, 80, 999)  # asked for too far: the furthest useful
    assert last.max_offset == first.max_offset > 0
    assert keys_on_screen(columns, last)[:2] == ["id", "name"]
    assert keys_on_screen(columns, last)[-1] == "persistent"
    assert last.more_left and not last.more_right
    # one column less scrolled would hide the last column again
    before = lay_out(columns, natural, 80, last.max_offset - 1)
    assert keys_on_screen(columns, before)[-1] != "persistent"


def test_the_users_order_is_the_priority():
    columns = [BY_KEY[k] for k in ("name", "exits", "state", "memory")]
    layout = lay_out(columns, natural_widths(columns, 20), 40, 0)
    assert keys_on_screen(columns, layout) == ["name", "exits", "state"]


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("web-01", 10, "web-01"),
    ("production-database-replica-0001", 16, "producti…ca-0001"),
    ("abcdefghij", 5, "ab…ij"),
    ("数据库服务器", 7, "数…器"),  # wide characters are never cut in half
])
def test_shorten_keeps_both_ends_within_the_width(text, width, expected):
    from rich.cells import cell_len

    shown = shorten(text, width)
    assert shown == expected
    assert cell_len(shown) <= width


def test_figures_reported_by_a_driver_with_statistics_only():
    key = DomainKey("qemu:///system", "u1")
    state_only = DomainStats(key, "vm", DomainState.RUNNING, 1.0)
    assert figures_reported([state_only]) == set()
    qemu = DomainStats(key, "vm", DomainState.RUNNING, 1.0, memory_kib=1024,
                       memory_used_kib=512, exits={"total": Counter(10, None)})
    assert figures_reported([state_only, qemu]) == {
        "cpu", "history", "disk_read", "disk_write", "net_rx", "net_tx", "used", "exits"}


def test_the_lists_exit_rate_is_the_sum_over_vcpus():
    key = DomainKey("qemu:///system", "u1")

    def sample(at: float, per_vcpu: tuple[dict[str, int], ...]) -> RawSample:
        totals: dict[str, int] = {}
        for counts in per_vcpu:
            for name, value in counts.items():
                totals[name] = totals.get(name, 0) + value
        return RawSample(key, "vm", DomainState.RUNNING, 7, at,
                         vcpus=(VcpuRaw(0, 0, 0),) * len(per_vcpu),
                         exits=ExitCounts("libvirt", totals, per_vcpu))

    before = sample(10.0, ({"total": 1000, "io": 10}, {"total": 500, "io": 5}))
    after = sample(12.0, ({"total": 3000, "io": 30}, {"total": 900, "io": 9}))
    stats = compute(before, after)
    per_vcpu = sum(v["total"].rate for v in stats.exits_per_vcpu())
    assert exit_rate(stats) == pytest.approx(per_vcpu) == pytest.approx((2000 + 400) / 2)
    assert exit_rate(compute(None, after)) is None  # one sample: no rate yet


def test_checked_columns_names_what_is_wrong():
    assert checked_columns(["id", "state"]) == ("id", "name", "state")  # Name always there
    assert checked_columns(["cpu", "name"]) == ("cpu", "name")
    with pytest.raises(ValueError, match="unknown column 'cpu%'"):
        checked_columns(["name", "cpu%"])
    with pytest.raises(ValueError, match="column 'state' is listed twice"):
        checked_columns(["name", "state", "state"])
