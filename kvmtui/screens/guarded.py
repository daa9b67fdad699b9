"""The base of every question kvmtui asks: answered once, and never by keys typed before it.

Over SSH a fast typist's keys arrive several in one write, and a question pushed by one key would
otherwise take the keys typed after it — `F y` in one burst would force a VM off before the user
ever saw "Force off?". So a question ignores every key and paste whose event is older than the
moment it was first painted plus a short guard (the time a person needs to see it at all), and it
answers once: a second answer (a key and a button press racing) is dropped, not a second
dismiss.
"""

from __future__ import annotations

from typing import TypeVar

from textual import _time
from textual.screen import ModalScreen

ResultType = TypeVar("ResultType")

# Long enough to cover keys in flight over a laggy link, short enough not to be noticed by a
# person reading the question.
GUARD_S = 0.4


class GuardedModal(ModalScreen[ResultType]):
    DEFAULT_CSS = """
    /* Nothing covers a question: notifications wait (they are kept, and shown again on the
       screen below when the question closes, unless they expired). */
    GuardedModal ToastRack Toast { visibility: hidden; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown_at: float | None = None
        self._answered = False
        self.dropped_keys = 0  # keys that arrived before the question could be seen

    def on_mount(self) -> None:
        # The guard starts when the question is on screen, not when it was created.
        self.call_after_refresh(self._mark_shown)

    def _mark_shown(self) -> None:
        self._shown_at = _time.get_time()

    def accepts_input(self, at: float) -> bool:
        """Whether a key or paste made at `at` (Textual's clock) may answer this question."""
        if self._answered:
            return False
        return self._shown_at is not None and at >= self._shown_at + GUARD_S

    @property
    def answerable(self) -> bool:
        return self.accepts_input(_time.get_time())

    def drop_input(self) -> None:
        self.dropped_keys += 1

    def answer(self, result: ResultType) -> None:
        """Dismiss with this result, once; a later answer is ignored."""
        if self._answered:
            return
        self._answered = True
        self.dismiss(result)
