"""The footer: the screen's keys, the least important dropped first when the terminal is narrow."""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True)
