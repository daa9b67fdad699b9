"""`o`: pick the list's sort column by the name its header shows."""

from __future__ import annotations

from textual.screen import ModalScreen


class SortScreen(ModalScreen[str | None]):
    """Dismisses with the chosen column's key, or None."""

    def __init__(self, columns: list[tuple[str, str]], current: str, reverse: bool) -> None:
        super().__init__()
        self.columns = columns  # (column key, header label), in the list's order
        self.current = current
        self.reverse = reverse
