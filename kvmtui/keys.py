"""Every key kvmtui has, one map for all screens: the footer shows it, `?` lists it from here.

Each binding has an id, and HELP says what it does by id: the help screen is built from these
lists alone, so it cannot drift from what the keys do (a test checks that every binding has its
row).
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding

# -- the list ------------------------------------------------------------------------------

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
    Binding("c", "console", "Console", id="console", show=False),
    Binding("H", "hosts", "Hosts", id="hosts"),
    Binding("slash", "filter", "Filter", id="filter"),
    Binding("o", "sort", "Sort…", id="sort", show=False),
    Binding("O", "reverse_sort", "Reverse sort", id="reverse_sort", show=False),
    Binding("C", "columns", "Columns…", id="columns", show=False),
    Binding("escape", "clear_filter", "Clear filter", id="clear_filter", show=False),
    Binding("space", "mark", "Mark", id="mark"),
    Binding("asterisk", "mark_shown", "Mark shown", id="mark_shown", show=False),
    Binding("U", "clear_marks", "Unmark all", id="clear_marks", show=False),
]

TABLE_BINDINGS = [
    Binding("up,k", "cursor(-1)", "Up", id="cursor_up", show=False),
    Binding("down,j", "cursor(1)", "Down", id="cursor_down", show=False),
    Binding("pageup", "page(-1)", "Page up", id="page_up", show=False),
    Binding("pagedown", "page(1)", "Page down", id="page_down", show=False),
    Binding("home", "first", "First", id="first", show=False),
    Binding("end", "last", "Last", id="last", show=False),
    Binding("left", "scroll_left", "Left", id="scroll_left", show=False),
    Binding("right", "scroll_right", "Right", id="scroll_right", show=False),
]

APP_BINDINGS = [
    Binding("plus", "refresh_interval(1)", "Slower refresh", id="slower", show=False),
    Binding("minus", "refresh_interval(-1)", "Faster refresh", id="faster", show=False),
    Binding("L", "action_log", "Log", id="action_log", show=False),
    Binding("ctrl+p", "command_palette", "Palette", id="palette", show=False),
    Binding("question_mark", "help", "Help", id="help"),
    Binding("q", "quit", "Quit", id="quit"),
    Binding("ctrl+c", "quit", "Quit", id="quit_ctrl_c", show=False, priority=True),
]

# -- a VM's screens ------------------------------------------------------------------------

BACK_BINDINGS = [Binding("escape", "back", "Back", id="back")]

# On every screen about one VM: the power keys (as on the list; not in the footer, which keeps
# the screen's own keys at 80 columns, but in `?`) and the way to its other screens.
VM_BINDINGS = [
    *(replace(b, show=False) for b in POWER_BINDINGS),
    Binding("enter", "show_vm('details')", "Details", id="vm_details", show=False),
    Binding("t", "show_vm('snapshots')", "Snapshots", id="vm_snapshots", show=False),
    Binding("x", "show_vm('performance')", "Perf", id="vm_performance", show=False),
    Binding("c", "show_vm('console')", "Console", id="vm_console", show=False),
]

# The console screen while it is not attached (attached, every key but ctrl+] goes to the guest).
CONSOLE_BINDINGS = [
    *BACK_BINDINGS,
    Binding("a", "attach", "Attach", id="console_attach"),
    Binding("o", "take_over", "Take over", id="console_take_over"),
]

# `H`: one row per host (connection).
HOSTS_BINDINGS = [
    *BACK_BINDINGS,
    Binding("enter", "open_host", "Host view", id="host_open"),
    Binding("a", "add_host", "Add host", id="host_add"),
    Binding("D,delete", "remove_host", "Remove", id="host_remove"),
    Binding("r", "retry_host", "Retry now", id="host_retry", show=False),
]

DETAILS_TABS = [("overview", "Overview"), ("cpu", "CPU"), ("memory", "Memory"),
                ("disks", "Disks"), ("nics", "NICs"), ("devices", "Devices"), ("xml", "XML"),
                ("advice", "Advice")]
DETAILS_BINDINGS = [
    *BACK_BINDINGS,
    *[Binding(str(i), f"show_tab('{tab}')", label, id=f"tab_{tab}", show=False)
      for i, (tab, label) in enumerate(DETAILS_TABS, 1)],
    Binding("right,l", "next_tab(1)", "Next tab", id="next_tab", show=False),
    Binding("left,h", "next_tab(-1)", "Previous tab", id="previous_tab", show=False),
    Binding("ctrl+r", "reload", "Reload", id="reload", show=False),
]

TREE_WIDGET_BINDINGS = [Binding("space", "toggle_node", "Open/close", id="toggle_node")]
SNAPSHOT_BINDINGS = [
    *BACK_BINDINGS,
    Binding("a", "expand_all(True)", "Open all", id="expand_all"),
    Binding("A", "expand_all(False)", "Close all", id="collapse_all", show=False),
    Binding("n", "create", "New", id="snapshot_create"),
    Binding("v", "revert", "Revert", id="snapshot_revert"),
    Binding("D,delete", "delete", "Delete", id="snapshot_delete"),
    Binding("X", "toggle_xml", "XML", id="snapshot_xml"),
    Binding("ctrl+r", "reread", "Re-read", id="reread", show=False),
]

# -- questions and help --------------------------------------------------------------------

CONFIRM_BINDINGS = [
    Binding("y", "answer(True)", "Yes", id="yes", show=False),
    Binding("n", "answer(False)", "No", id="no", show=False),
    Binding("escape", "answer(False)", "Cancel", id="cancel", show=False),
]
CHOICE_BINDINGS = [
    Binding("escape", "cancel", "Cancel", id="cancel", show=False),
    Binding("n", "cancel", "Cancel", id="no", show=False),
    Binding("y", "accept", "Yes", id="yes", show=False),
    Binding("1", "pick(0)", id="choice_1", show=False),
    Binding("2", "pick(1)", id="choice_2", show=False),
    Binding("3", "pick(2)", id="choice_3", show=False),
]
CREATE_BINDINGS = [
    Binding("escape", "cancel", "Cancel", id="cancel_create", show=False, priority=True),
]
# `o` on the list: a letter also moves to the next column whose name starts with it.
SORT_BINDINGS = [
    Binding("enter", "pick", "Sort", id="sort_pick", show=False, priority=True),
    Binding("escape", "cancel", "Cancel", id="sort_cancel", show=False),
]
COLUMNS_BINDINGS = [
    Binding("space", "toggle_column", "Show/hide", id="columns_toggle"),
    Binding("K,shift+up", "move_column(-1)", "Move up", id="columns_up"),
    Binding("J,shift+down", "move_column(1)", "Move down", id="columns_down"),
    Binding("enter", "apply", "Apply", id="columns_apply", priority=True),
    Binding("S", "save", "Apply and save", id="columns_save"),
    Binding("D", "defaults", "Defaults", id="columns_defaults"),
    Binding("escape", "cancel", "Cancel", id="columns_cancel"),
]
HELP_BINDINGS = [
    Binding("escape", "close", "Close", id="close_help"),
    Binding("question_mark", "close", "Close", id="close_help_again", show=False),
    Binding("q", "close", "Close", id="close_help_q", show=False),
]
ACTION_LOG_BINDINGS = [
    Binding("slash", "filter", "Filter", id="log_filter"),
    Binding("escape", "close", "Back", id="close_log"),
    Binding("L", "back", "Back", id="close_log_again", show=False),
]

# -- what `?` says ---------------------------------------------------------------------------

# binding id -> (what it does, when it applies). Bindings with the same text are one row, their
# keys listed together.
HELP: dict[str, tuple[str, str]] = {
    "help": ("this help", ""), "quit": ("quit", ""), "quit_ctrl_c": ("quit", ""),
    "action_log": ("action log: what kvmtui did and what libvirt reported", ""),
    "palette": ("command palette: every action here, by name, with its key", ""),
    "mark": ("mark / unmark the VM, move down; power keys and n then act on the marks",
             ""),
    "mark_shown": ("mark every VM shown (again: unmark them)", ""),
    "clear_marks": ("unmark all VMs", ""),
    "slower": ("refresh the figures less / more often", ""),
    "faster": ("refresh the figures less / more often", ""),
    **{i: ("move; page; first, last; scroll sideways", "") for i in (
        "cursor_up", "cursor_down", "page_up", "page_down", "first", "last", "scroll_left",
        "scroll_right")},
    "details": ("details: overview, CPU, memory, disks, NICs, XML…", ""),
    "snapshots": ("snapshot tree of the selected VM", ""),
    "new_snapshot": ("new snapshot of the selected VM, or of each marked one", ""),
    "performance": ("performance: vCPUs, QEMU process, KVM VM exits", ""),
    "hosts": ("hosts: each connection's state, versions, VMs, CPU, memory, exits/s", ""),
    "host_open": ("the host's view: node, virtualization features, KVM exits", "connected"),
    "host_add": ("add a host by its libvirt URI (and save it to the config file)", ""),
    "host_remove": ("remove the host from kvmtui; asks (nothing on the host changes)", ""),
    "host_retry": ("retry a host that failed, now", "not connected"),
    "filter": ("filter: name, state:running, host:kvm1, -term", ""),
    "sort": ("sort by a column, picked by its name", ""),
    "reverse_sort": ("reverse the order", ""),
    "columns": ("columns: which the list shows, and their order", ""),
    "columns_toggle": ("show / hide the highlighted column (Name always shows)", ""),
    "columns_up": ("move the highlighted column left / right (earlier: kept at 80 columns)",
                   ""),
    "columns_down": ("move the highlighted column left / right (earlier: kept at 80 columns)",
                     ""),
    "columns_apply": ("use these columns now", ""),
    "columns_save": ("use these columns now and save them to the config file", ""),
    "columns_defaults": ("back to the default columns", ""),
    "columns_cancel": ("close, the columns unchanged", ""),
    "clear_filter": ("clear the filter", ""),
    "start": ("start; restore a saved VM; wake a suspended one", "off"),
    "restore": ("start; restore a saved VM; wake a suspended one", "off"),
    "wakeup": ("start; restore a saved VM; wake a suspended one", "off"),
    "shutdown": ("shutdown: ask the guest to power off (ACPI)", "running"),
    "reboot": ("reboot: ask the guest to restart", "running"),
    "pause": ("pause / resume", "running"),
    "resume": ("pause / resume", "running"),
    "force_off": ("force off (destroy): cut the power now; asks", "active"),
    "reset": ("reset: press the reset button; asks first", "running"),
    "managed_save": ("managed save: memory to disk and stop; asks", "running"),
    "back": ("back to where you came from", ""),
    "vm_details": ("this VM's details / snapshot tree / performance", ""),
    "vm_snapshots": ("this VM's details / snapshot tree / performance", ""),
    "vm_performance": ("this VM's details / snapshot tree / performance", ""),
    "console": ("serial console of the selected VM (ctrl+] leaves)", "running"),
    "vm_console": ("this VM's serial console (ctrl+] leaves)", "running"),
    "console_attach": ("attach to the console (again)", ""),
    "console_take_over": ("take the console over from another client; asks", ""),
    **{f"tab_{tab}": ("show a tab", "") for tab, _ in DETAILS_TABS},
    "next_tab": ("next / previous tab", ""), "previous_tab": ("next / previous tab", ""),
    "reload": ("read the VM again", ""),
    "toggle_node": ("open / close a branch (enter too)", ""),
    "expand_all": ("open all branches / close all", ""),
    "collapse_all": ("open all branches / close all", ""),
    "snapshot_create": ("new snapshot", ""),
    "snapshot_revert": ("revert to the selected snapshot; asks", ""),
    "snapshot_delete": ("delete the selected snapshot; asks how", ""),
    "snapshot_xml": ("the snapshot's XML / its facts", ""),
    "reread": ("read the snapshots again", ""),
    "yes": ("yes: do it (typed after the question appeared)", ""),
    "no": ("no / cancel (enter takes the highlighted, safe button)", ""),
    "cancel": ("no / cancel (enter takes the highlighted, safe button)", ""),
    **{f"choice_{i}": ("pick a choice", "") for i in (1, 2, 3)},
    "cancel_create": ("new snapshot: cancel (enter in a field creates)", ""),
    "sort_pick": ("sort by the highlighted column (the current one: reverse); a letter "
                  "moves to the next column starting with it", ""),
    "sort_cancel": ("close, the order unchanged", ""),
    "close_help": ("close this help", ""), "close_help_again": ("close this help", ""),
    "close_help_q": ("close this help", ""),
    "log_filter": ("filter: text in the VM, host, what or result (\"db1\", \"failed\")", ""),
    "close_log": ("clear the filter; without one, back", ""),
    "close_log_again": ("back to where you came from", ""),
}

# Bindings that change a VM or a snapshot: not listed on a read-only connection.
ACTING = {"start", "restore", "wakeup", "shutdown", "reboot", "pause", "resume", "force_off",
          "reset", "managed_save", "new_snapshot", "snapshot_create", "snapshot_revert",
          "snapshot_delete",
          # libvirt opens no console on a read-only connection
          "console", "vm_console", "console_attach", "console_take_over"}

HELP_SECTIONS: list[tuple[str, list[Binding]]] = [
    ("Everywhere", APP_BINDINGS),
    ("The list", [*TABLE_BINDINGS, *LIST_BINDINGS, *POWER_BINDINGS]),
    ("Details (enter)", DETAILS_BINDINGS),
    ("Snapshot tree (t)", [*TREE_WIDGET_BINDINGS, *SNAPSHOT_BINDINGS]),
    ("A VM's screens (power keys as on the list)", VM_BINDINGS[-4:]),
    ("Console (c): every key goes to the guest; ctrl+] leaves", CONSOLE_BINDINGS),
    ("Hosts (H)", HOSTS_BINDINGS[1:]),
    ("Performance (x), a host's view (enter in H)", BACK_BINDINGS),
    ("Action log (L)", ACTION_LOG_BINDINGS),
    ("Sort by (o)", SORT_BINDINGS),
    ("Columns (C)", COLUMNS_BINDINGS),
    ("Questions", [*CONFIRM_BINDINGS, *CHOICE_BINDINGS, *CREATE_BINDINGS]),
]

_KEY_NAMES = {"up": "↑", "down": "↓", "left": "←", "right": "→", "pageup": "PgUp",
              "pagedown": "PgDn", "home": "Home", "end": "End", "question_mark": "?",
              "slash": "/", "plus": "+", "minus": "-", "delete": "del",
              "asterisk": "*"}


def key_text(binding: Binding) -> str:
    return " ".join(_KEY_NAMES.get(k, k) for k in binding.key.split(","))


def help_rows(readonly: bool) -> list[tuple[str, str, str]]:
    """(keys, what, when) rows, a section title as a row of its own (what and when empty)."""
    rows: list[tuple[str, str, str]] = []
    for title, bindings in HELP_SECTIONS:
        merged: dict[tuple[str, str], list[str]] = {}
        for binding in bindings:
            if readonly and binding.id in ACTING:
                continue
            text = HELP[binding.id or ""]
            keys = merged.setdefault(text, [])
            for key in key_text(binding).split():
                if key not in keys:
                    keys.append(key)
        rows.append((title, "", ""))
        rows.extend((" ".join(keys), what, when) for (what, when), keys in merged.items())
    return rows
