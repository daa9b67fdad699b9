"""The VMs the user marked for a bulk action, keyed by (uri, uuid) so that a mark survives
filtering, sorting, renames and reconnects, and never moves to another VM of the same name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kvmtui.virt.models import DomainKey


class Marks:
    def __init__(self) -> None:
        self._keys: set[DomainKey] = set()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[DomainKey]:
        return iter(self._keys)

    def toggle(self, key: DomainKey) -> bool:
        """Mark or unmark one VM; True when it is marked now."""
        if key in self._keys:
            self._keys.discard(key)
            return False
        self._keys.add(key)
        return True

    def toggle_all(self, keys: Iterable[DomainKey]) -> bool:
        """Mark every one of these VMs, or, when all of them are marked already, unmark them
        (the other marks stay). True when they are marked now."""
        keys = list(keys)
        if keys and all(k in self._keys for k in keys):
            self._keys.difference_update(keys)
            return False
        self._keys.update(keys)
        return bool(keys)

    def clear(self) -> int:
        """Unmark all; how many were marked."""
        count = len(self._keys)
        self._keys.clear()
        return count

    def forget(self, key: DomainKey) -> None:
        """The VM is gone: its mark goes with it."""
        self._keys.discard(key)

    def keep_only(self, uri: str, present: Iterable[DomainKey]) -> None:
        """A connection's domains were read again (a reconnect): marks of its VMs that are no
        longer there go."""
        present = set(present)
        self._keys = {k for k in self._keys if k.uri != uri or k in present}
