"""One key map for every screen: what the footer shows and what `?` lists."""

from __future__ import annotations

from textual.binding import Binding

# Power keys act on the selected VM; each is shown only when it makes sense for its state.
POWER_BINDINGS = [
    Binding("s", "power('start')", "Start", id="start"),
    Binding("s", "power('restore')", "Restore", id="restore"),
    Binding("s", "power('wakeup')", "Wake up", id="wakeup"),
    Binding("d", "power('shutdown')", "Shutdown", id="shutdown"),
    Binding("r", "power('reboot')", "Reboot", id="reboot"),
    Binding("p", "power('pause')", "Pause", id="pause"),
    Binding("p", "power('resume')", "Resume", id="resume"),
    Binding("F", "power('force_off')", "Force off", id="force_off"),
    Binding("R", "power('reset')", "Reset", id="reset"),
    Binding("M", "power('managed_save')", "Save", id="managed_save"),
]

LIST_BINDINGS = [
    Binding("enter", "details", "Details", id="details", show=False),
    Binding("t", "snapshots", "Snapshots", id="snapshots", show=False),
    Binding("n", "new_snapshot", "New snapshot", id="new_snapshot", show=False),
    Binding("x", "performance", "Perf", id="performance"),
    Binding("H", "host", "Host", id="host"),
    Binding("slash", "filter", "Filter", id="filter"),
    Binding("o", "sort", "Sort", id="sort", show=False),
    Binding("O", "reverse_sort", "Reverse sort", id="reverse_sort", show=False),
    Binding("escape", "clear_filter", "Clear filter", id="clear_filter", show=False),
]

APP_BINDINGS = [
    Binding("plus", "refresh_interval(1)", "Slower refresh", id="slower", show=False),
    Binding("minus", "refresh_interval(-1)", "Faster refresh", id="faster", show=False),
    Binding("question_mark", "help", "Help", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
]

# The help screen's table: key, what it does, and (dim) when it applies.
HELP_ROWS = [
    ("↑ ↓ j k", "move; PgUp PgDn page; Home End first, last", ""),
    ("enter", "details: overview, CPU, memory, disks, NICs, XML…", ""),
    ("1-7 ← →", "in details: show a tab; escape goes back", ""),
    ("t", "snapshot tree: v revert, n new, D delete (each asks)", ""),
    ("space enter", "in the tree: open / close a branch; a / A all", ""),
    ("X  ctrl+r", "in the tree: the snapshot's XML / read again", ""),
    ("n", "new snapshot of the selected VM", ""),
    ("x", "performance: vCPUs, QEMU process, KVM VM exits", ""),
    ("H", "host: node, virtualization features, KVM exits", ""),
    ("+  -", "refresh the figures less / more often", ""),
    ("s", "start; restore a saved VM; wake a suspended one", "off"),
    ("d", "shutdown: ask the guest to power off (ACPI)", "running"),
    ("r", "reboot: ask the guest to restart", "running"),
    ("p", "pause / resume", "running"),
    ("F", "force off (destroy): cut the power now; asks", "active"),
    ("R", "reset: press the reset button; asks first", "running"),
    ("M", "managed save: memory to disk and stop; asks", "running"),
    ("/", "filter: name, state:running, host:kvm1, -term", ""),
    ("o  O", "next sort column / reverse the order", ""),
    ("escape", "clear the filter; close a dialog", ""),
    ("y  n", "answer a question (enter = the safe button)", ""),
    ("?  q", "this help / quit", ""),
]

# The help rows of keys that change something: not listed on a read-only connection.
ACTING_HELP_KEYS = {"s", "d", "r", "p", "F", "R", "M", "n"}


def help_rows(readonly: bool) -> list[tuple[str, str, str]]:
    if not readonly:
        return list(HELP_ROWS)
    rows = [row for row in HELP_ROWS if row[0] not in ACTING_HELP_KEYS]
    return [("t", "snapshot tree (browse only: read-only)", "") if key == "t" else (key, what, when)
            for key, what, when in rows]
