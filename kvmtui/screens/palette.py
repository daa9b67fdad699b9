"""ctrl+p: the command palette lists every action that applies here, each with its key.

The commands are the keys of the screen the palette was opened on, as they stand at that moment
(`Screen.active_bindings`: the focused widget's, the screen's and the app's, each passed through
its `check_action`), so the palette offers exactly what a key would do now and names the key
that does it. Running one runs the key's own action, so questions and state rules are the keys'.
A few commands have no key of their own: "Sort by <column>" (what `o` then asks for) and
"Refresh every N s" (where `+` and `-` step).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.binding import ActiveBinding, Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape
from textual.screen import Screen

from kvmtui.keys import (
    ACTING,
    APP_BINDINGS,
    CHOICE_BINDINGS,
    CONFIRM_BINDINGS,
    CREATE_BINDINGS,
    DETAILS_TABS,
    HELP,
    LIST_BINDINGS,
    TABLE_BINDINGS,
    TREE_WIDGET_BINDINGS,
    key_text,
)
from kvmtui.screens.domain_list import DomainListScreen
from kvmtui.screens.vm_screen import VmScreen
from kvmtui.services import services

# Not commands: moving around, answering a question, the palette itself, and ctrl+c (the key to
# teach for quitting is q).
_SKIPPED = {b.id for b in (*TABLE_BINDINGS, *TREE_WIDGET_BINDINGS, *CONFIRM_BINDINGS,
                           *CHOICE_BINDINGS, *CREATE_BINDINGS)} | {
    "next_tab", "previous_tab", "palette", "quit_ctrl_c"}

# A command's title by binding id, as a user reads it; {vm} is the VM the screen is about (the
# list: the one under the cursor). Power keys are named "<label> <subject>" instead, and any id
# not here by its binding's label.
_TITLES = {
    "details": "Details of {vm}", "vm_details": "Details of {vm}",
    "snapshots": "Snapshot tree of {vm}", "vm_snapshots": "Snapshot tree of {vm}",
    "performance": "Performance of {vm}", "vm_performance": "Performance of {vm}",
    "hosts": "Hosts overview", "host_open": "Host view of the selected host",
    "host_add": "Add a host…", "host_remove": "Remove the selected host…",
    "host_retry": "Retry the selected host now",
    "console": "Console of {vm}", "vm_console": "Console of {vm}",
    "console_attach": "Attach to the console of {vm}",
    "console_take_over": "Take over the console of {vm}",
    "new_snapshot": "New snapshot of {vm}", "snapshot_create": "New snapshot of {vm}",
    "mark": "Mark or unmark {vm}", "mark_shown": "Mark every VM shown",
    "clear_marks": "Unmark all VMs",
    "filter": "Filter the list", "clear_filter": "Clear the filter",
    "sort": "Sort by a column…", "reverse_sort": "Reverse the order",
    "columns": "Choose the columns…",
    "slower": "Refresh less often", "faster": "Refresh more often",
    "action_log": "Action log", "help": "Help: every key", "quit": "Quit",
    "reload": "Read {vm} again", "reread": "Read the snapshots of {vm} again",
    "expand_all": "Open all branches", "collapse_all": "Close all branches",
    "snapshot_revert": "Revert {vm} to the selected snapshot",
    "snapshot_delete": "Delete the selected snapshot",
    "snapshot_xml": "Snapshot XML / facts",
    **{f"tab_{tab}": f"{label} tab" for tab, label in DETAILS_TABS},
    "close_help": "Close the help", "close_help_again": "Close the help",
    "close_help_q": "Close the help",
}
_VIEWS = {"details", "vm_details", "snapshots", "vm_snapshots", "performance", "vm_performance",
          "hosts", "console", "vm_console"}
# The order discover() lists them in: what the subject can be asked first.
POWER, VIEW, SCREEN, CHOICE, APP = range(5)


@dataclass
class PaletteCommand:
    title: str          # plain text: VM names may hold anything, markup included
    keys: list[str]     # what to press instead, as `?` writes it
    what: str           # the key's `?` description
    run: Callable[[], Any]
    rank: int

    @property
    def help(self) -> str:
        # Textual reads a hit's help as markup
        return escape(f"{' '.join(self.keys)}  {self.what}")


def _by_id(bindings: list[Binding], binding_id: str) -> Binding:
    return next(b for b in bindings if b.id == binding_id)


def _highlighted(matcher: Matcher, title: str) -> Content:
    # Matcher.highlight would read the title as markup; this marks the same letters on plain text
    content = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class KvmCommands(Provider):
    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(Content(command.title), command.run, text=command.title,
                               help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, _highlighted(matcher, command.title), command.run,
                          text=command.title, help=command.help)

    def commands(self) -> list[PaletteCommand]:
        """Every command the screen offers now, the most useful first; one per title, with all
        its keys (`D` and `del` both delete a snapshot)."""
        screen = self.screen
        generated: list[PaletteCommand] = [*self._refresh_commands()]
        if isinstance(screen, DomainListScreen):
            generated[:0] = self._sort_commands(screen)
        merged: dict[str, PaletteCommand] = {}
        for command in [*self._key_commands(screen), *generated]:
            known = merged.setdefault(command.title, command)
            if known is not command:
                known.keys.extend(k for k in command.keys if k not in known.keys)
        return sorted(merged.values(), key=lambda c: c.rank)

    def _key_commands(self, screen: Screen[Any]) -> Iterator[PaletteCommand]:
        readonly = services(self.app).fleet.all_readonly
        subject, vm = self._names(screen)
        for active in screen.active_bindings.values():
            binding = active.binding
            if (not active.enabled or binding.id not in HELP or binding.id in _SKIPPED
                    or (readonly and binding.id in ACTING) or self._refused(screen, binding)):
                continue
            title = self._title(binding, subject, vm)
            if title is not None:
                yield PaletteCommand(title, [key_text(binding)], HELP[binding.id][0],
                              partial(self.app.run_action, binding.action, active.node),
                              self._rank(active))

    @staticmethod
    def _names(screen: Screen[Any]) -> tuple[str | None, str | None]:
        """(what the power keys act on: a VM or the marks, the VM the screen shows)."""
        if isinstance(screen, VmScreen):
            return screen.palette_subject(), screen.summary.name
        if isinstance(screen, DomainListScreen):
            selected = screen.selected
            return screen.palette_subject(), selected.name if selected else None
        return None, None

    @staticmethod
    def _refused(screen: Screen[Any], binding: Binding) -> bool:
        # A VM's screen takes the key that opens itself, and does nothing with it.
        return isinstance(screen, VmScreen) and binding.action == f"show_vm('{screen.kind}')"

    @staticmethod
    def _title(binding: Binding, subject: str | None, vm: str | None) -> str | None:
        if binding.action.startswith("power("):
            return f"{binding.description} {subject}" if subject else None
        if binding.id == "new_snapshot":  # like the power keys, `n` acts on the marks
            vm = subject
        title = _TITLES.get(binding.id or "", binding.description)
        if "{vm}" not in title:
            return title
        return title.replace("{vm}", vm) if vm else None  # replace: a name may hold braces

    def _rank(self, active: ActiveBinding) -> int:
        if active.binding.action.startswith("power("):
            return POWER
        if active.binding.id in _VIEWS:
            return VIEW
        return APP if active.node is self.app else SCREEN

    def _sort_commands(self, screen: DomainListScreen) -> Iterator[PaletteCommand]:
        # Sorting by the column already sorted by would reverse it: "Reverse the order" says so.
        sort = _by_id(LIST_BINDINGS, "sort")
        for column, label in screen.sortable_columns():
            if column != screen.table.sort_column:
                yield PaletteCommand(f"Sort by {label}", [key_text(sort)], HELP["sort"][0],
                              partial(screen.sort_by, column), CHOICE)

    def _refresh_commands(self) -> Iterator[PaletteCommand]:
        app = services(self.app)
        keys = [key_text(_by_id(APP_BINDINGS, i)) for i in ("slower", "faster")]
        for seconds in app.refresh_steps:
            if seconds != app.sampler.interval:
                yield PaletteCommand(f"Refresh every {seconds:g} s", keys, HELP["slower"][0],
                              partial(app.set_refresh_interval, seconds), CHOICE)
