"""The one question a bulk action asks: how many VMs, which ones, which are skipped and why.

The safe answer is the default (Cancel has the focus, escape and `n` cancel), and like every
question it ignores keys typed before it was on screen (GuardedModal).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.snapshot_dialogs import CreateRequest, ExactInput, NameForm
from kvmtui.virt.domain import snapshots as snaps
from kvmtui.virt.domain.bulk import BulkPlan

BULK_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 76; max-width: 100%; height: auto; max-height: 100%; border: thick {border};
    padding: 0 1; background: $surface;
}}
{name} .question {{ text-style: bold; }}
{name} .risk {{ margin-top: 1; }}
{name} .vms {{ height: auto; max-height: 10; margin-top: 1; }}
{name} .error {{ color: $text-error; height: auto; }}
{name} Input {{ margin-bottom: 1; }}
{name} Horizontal {{ height: auto; align: right middle; margin-top: 1; }}
{name} Button {{ margin-left: 2; }}
"""


def vm_word(count: int) -> str:
    return f"{count} VM{'' if count == 1 else 's'}"


def plan_text(plan: BulkPlan, multi_host: bool) -> Text:
    """The VMs it will touch, then those it will not, each with why: plain text, never markup
    (VM names may contain anything)."""
    out = Text()
    for target in plan.targets:
        s = target.summary
        out.append(f"  • {s.name}")
        if multi_host:
            out.append(f"  on {s.host}", style="dim")
        out.append("\n")
    if plan.skipped:
        out.append(f"Skipped ({len(plan.skipped)}):\n", style="bold")
        for s, why in plan.skipped:
            out.append(f"  – {s.name}")
            if multi_host:
                out.append(f" on {s.host}", style="dim")
            out.append(f" — {why}\n", style="dim")
    out.rstrip()
    return out


class BulkConfirmScreen(ConfirmScreen):
    """ConfirmScreen's answers and safe default, with the VMs listed."""
    DEFAULT_CSS = (BULK_CSS.format(name="BulkConfirmScreen", border="$primary")
                   + "BulkConfirmScreen.-destructive > Vertical { border: thick $error; }")

    def __init__(self, plan: BulkPlan, multi_host: bool) -> None:
        super().__init__(f"{plan.verb} {vm_word(len(plan.targets))}?", plan.risk, plan.verb)
        self.plan = plan
        self.multi_host = multi_host
        self.set_class(plan.destructive, "-destructive")

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical():
            yield Static(self.question, classes="question", markup=False)
            if plan.skipped:  # said at the top: a long list may hide them below its fold
                skipped = len(plan.skipped)
                yield Static(f"{skipped} other marked VM{'' if skipped == 1 else 's'} "
                             f"skipped: listed below, with why.", markup=False)
            if plan.risk:
                yield Static(f"Each one: {plan.risk}", classes="risk", markup=False)
            with VerticalScroll(classes="vms"):
                yield Static(plan_text(plan, self.multi_host), id="vms")
            with Horizontal():
                yield Button("Cancel (n)", id="no", variant="primary")
                yield Button(f"{plan.verb} {len(plan.targets)} (y)", id="yes",
                             variant="error" if plan.destructive else "warning")


class BulkSnapshotScreen(NameForm):
    """Name and description of one snapshot taken of each marked VM; kind as virsh chooses."""

    DEFAULT_CSS = BULK_CSS.format(name="BulkSnapshotScreen", border="$primary")

    def __init__(self, plan: BulkPlan, multi_host: bool) -> None:
        super().__init__()
        self.plan = plan
        self.multi_host = multi_host

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"New snapshot of {vm_word(len(self.plan.targets))}", classes="question",
                         markup=False)
            yield Static("Running VMs: disks and memory; shut-off VMs: their disks (internal "
                         "snapshots, as virsh takes them).", classes="risk")
            with VerticalScroll(classes="vms"):
                yield Static(plan_text(self.plan, self.multi_host), id="vms")
            yield Label("Name (the same for each VM)")
            yield ExactInput(snaps.default_name(), id="name", placeholder="name", compact=True)
            yield Label("Description")
            yield Input(id="description", placeholder="(optional)", compact=True)
            yield Static("", id="error", classes="error", markup=False)
            with Horizontal():
                yield Button("Cancel", id="no", compact=True)
                yield Button(f"Create {len(self.plan.targets)}", id="yes", variant="primary",
                             compact=True)

    def submit(self) -> None:
        name = self.query_one("#name", Input).value
        # each VM's own existing names are libvirt's to check: a clash is reported per VM
        problem = snaps.validate_name(name, set())
        if problem:
            self.refuse(problem)
            return
        self.answer(CreateRequest(name, self.query_one("#description", Input).value, "", False))
