"""A yes/no question for destructive actions; the safe answer is the default."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from kvmtui.keys import CONFIRM_BINDINGS
from kvmtui.screens.guarded import GuardedModal


class ConfirmScreen(GuardedModal[bool]):
    """Dismisses with True only on an explicit yes (`y` or the danger button), typed after the
    question was on screen."""

    BINDINGS = [*CONFIRM_BINDINGS]

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 100%; height: auto; border: thick $error; padding: 1 2;
        background: $surface;
    }
    ConfirmScreen #question { text-style: bold; margin-bottom: 1; }
    ConfirmScreen #risk { margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align: right middle; }
    ConfirmScreen Button { margin-left: 2; }
    """

    def __init__(self, question: str, risk: str, yes_label: str) -> None:
        super().__init__()
        self.question = question
        self.risk = risk
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question", markup=False)
            if self.risk:
                yield Static(self.risk, id="risk", markup=False)
            with Horizontal():
                yield Button("Cancel (n)", id="no", variant="primary")
                yield Button(f"{self.yes_label} (y)", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.answer(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.answer(yes)
