"""The footer: the screen's keys, the least important dropped first when the terminal is narrow.

Textual's Footer lays every shown binding out in a row and lets the ones that do not fit run off
the right edge, which at 80 columns on the list means `?` Help and `q` Quit, the two keys a new
user looks for. KeyFooter shows the same keys in the same order, rendered by Textual's own
FooterKey, but when they do not fit it hides the least important first:

  1. the command palette entry (`^p`, docked on the right): it is shown only when everything fits;
  2. keys of the focused widget and anything else that is not the screen's or the app's (the
     tree's open/close), from the right;
  3. the screen's own keys, from the right;
  4. never the app's keys (`?` Help, `q` Quit).

Widths are those of the keys as rendered (measured on the mounted FooterKeys), and the row is
fitted again on every resize and every time the bindings change (Footer recomposes then).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.geometry import Size
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # Textual exports it only from here

# Ranks: the higher, the sooner a key is hidden.
APP, SCREEN, OTHER, PALETTE = 0, 1, 2, 3


@dataclass
class _Placed:
    key: FooterKey
    rank: int
    width: int = 0  # its cells in the row, the margin to the next key included


class KeyFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True)
        self._placed: list[_Placed] = []

    def compose(self) -> ComposeResult:
        self._placed = []
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        seen: set[str] = set()
        for namespace, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue  # one key per action, as Footer shows it
            seen.add(binding.action)
            rank = APP if namespace is self.app else SCREEN if namespace is self.screen else OTHER
            yield self._key(binding, enabled, tooltip, rank)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _, binding, enabled, _ = palette
                yield self._key(binding, enabled, binding.tooltip or binding.description,
                                PALETTE, classes="-command-palette")

    def _key(self, binding: Binding, enabled: bool, tooltip: str, rank: int,
             classes: str = "") -> FooterKey:
        key = FooterKey(binding.key, self.app.get_key_display(binding), binding.description,
                        binding.action, disabled=not enabled, tooltip=tooltip, classes=classes)
        key.data_bind(compact=Footer.compact)
        self._placed.append(_Placed(key, rank))
        return key

    async def recompose(self) -> None:
        async with self.batch():  # the row is never drawn before it is fitted
            await super().recompose()
            if self.is_attached:  # not when its screen went away meanwhile
                self._measure(p for p in self._placed if p.key.is_attached)
                self.fit()

    def on_resize(self, event: Resize) -> None:
        self.fit()

    def _measure(self, placed: Iterable[_Placed]) -> None:
        viewport = self.app.size
        for p in placed:
            styles = p.key.styles
            content = p.key.get_content_width(Size(viewport.width, 1), viewport)
            p.width = content + styles.gutter.width + styles.margin.width

    def fit(self) -> None:
        """Show the keys that fit the footer's width, hiding the least important first."""
        placed = [p for p in self._placed if p.key.is_attached]
        if not placed:
            return
        room = self.size.width
        shown = {id(p) for p in placed}

        def used() -> int:
            keys = [p for p in placed if id(p) in shown]
            flow = [p for p in keys if p.rank != PALETTE]
            total = sum(p.width for p in keys)
            if flow:  # the last key's margin may run past the edge
                total -= flow[-1].key.styles.margin.right
            return total

        # the highest rank first, and within a rank the rightmost first
        for p in sorted(reversed(placed), key=lambda p: -p.rank):
            if used() <= room or p.rank == APP:
                break
            shown.discard(id(p))
        for p in placed:
            p.key.display = id(p) in shown

    def shown_keys(self) -> list[tuple[str, str]]:
        """(key as displayed, description) of every key the footer shows now, in order."""
        return [(p.key.key_display, p.key.description) for p in self._placed
                if p.key.is_attached and p.key.display]
