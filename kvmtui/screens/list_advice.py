"""The list's advice marks: each VM's worst finding from its XML and its host, read off the UI
thread, host by host, and again for a VM whose definition or state changed.

Only what needs no live rates is read here (virt/advice/reading.py `worst_of_domains`): the
breakdown of exits by reason is sampled for the VM on `x` alone, and `x` gives the whole advice.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from kvmtui.virt.models import ConnectionChanged, ConnectionStatus, DomainKey

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer

    from kvmtui.virt.session.fleet import Fleet

# A burst of events (a host starting 50 VMs) is read again once, this long after its last one.
SETTLE_S = 1.0
BATCH = 50  # domains read before their marks are shown


@dataclass
class AdviceMarksRead(Message):
    """A batch of marks read by the worker (`last`: the reading of this host has ended)."""

    uri: str
    batch: dict[str, str | None]
    last: bool = False


class AdviceMarks:
    """The list screen's handler of the worker's batches (a base class of the screen: other
    threads reach the UI only by posting messages, see ARCHITECTURE.md)."""

    advice: ListAdvice

    def on_advice_marks_read(self, message: AdviceMarksRead) -> None:
        self.advice.arrived(message.uri, message.batch, message.last)


class ListAdvice:
    """Owned by the list screen: `worst` is what the table draws and `advice:` filters on."""

    def __init__(self, screen: Screen, fleet: Fleet, changed: Callable[[], None]) -> None:
        self.screen = screen
        self.fleet = fleet
        self.worst: dict[DomainKey, str] = {}
        self._changed = changed   # the screen redraws (a filter on advice may change)
        self._due: set[DomainKey] = set()
        self._timer: Timer | None = None
        self._whole_read: dict[str, float] = {}  # uri -> when all its VMs were last asked for
        self.asked = False   # the first reading was started
        self._busy = 0       # readings under way

    @property
    def settled(self) -> bool:
        """Every VM asked for has its mark (for tests and screenshots: what a user sees once
        the list has been on screen a moment)."""
        return self.asked and self._busy == 0 and not self._due

    def read_connected(self, states: dict[str, ConnectionChanged],
                       keys: Iterable[DomainKey]) -> None:
        """Every VM of every connected host (after the first paint)."""
        keys = list(keys)
        self.asked = True
        for uri, state in states.items():
            if state.status is ConnectionStatus.CONNECTED:
                self.read_host(uri, keys)

    def read_host(self, uri: str, keys: Iterable[DomainKey]) -> None:
        """Every VM of a host that (re)connected; not twice within SETTLE_S (at start-up the
        list asks, and the host's first report says it listed its VMs)."""
        now = time.monotonic()
        if now - self._whole_read.get(uri, -SETTLE_S) < SETTLE_S:
            return
        self._whole_read[uri] = now
        self._read_some(uri, keys)

    def _read_some(self, uri: str, keys: Iterable[DomainKey]) -> None:
        uuids = [k.uuid for k in keys if k.uri == uri]
        connection = self.fleet.connections.get(uri)
        if uuids and connection is not None:
            self._busy += 1
            # the connection, not its libvirt handle: a reconnect replaces (and closes) that
            self.screen.run_worker(functools.partial(self._work, uri, connection, uuids),
                                   thread=True, group="list-advice")

    def domain_changed(self, key: DomainKey) -> None:
        """A VM's row changed (an event): its XML may have (a device, a redefinition)."""
        self._due.add(key)
        if self._timer is None:
            self._timer = self.screen.set_timer(SETTLE_S, self._read_due)

    def forget_host(self, uri: str) -> None:
        self._whole_read.pop(uri, None)
        for key in [k for k in self.worst if k.uri == uri]:
            del self.worst[key]

    def _read_due(self) -> None:
        self._timer = None
        due, self._due = self._due, set()
        for uri in {k.uri for k in due}:
            self._read_some(uri, due)

    def _work(self, uri: str, connection, uuids: list[str]) -> None:
        from kvmtui.virt.advice.reading import worst_of_domains

        batch: dict[str, str | None] = {}
        try:
            for uuid, severity in worst_of_domains(connection.using, uri, uuids):
                batch[uuid] = severity
                if len(batch) >= BATCH:
                    self.screen.post_message(AdviceMarksRead(uri, batch))
                    batch = {}
        except Exception:  # noqa: BLE001 - a mark is a hint: a host gone away keeps its old ones
            pass
        # always posted (not dropped like a cancelled worker's reply): it ends this reading
        self.screen.post_message(AdviceMarksRead(uri, batch, True))

    def arrived(self, uri: str, batch: dict[str, str | None], last: bool = False) -> None:
        if last:
            self._busy -= 1
        if uri not in self.fleet.connections or not self.screen.is_mounted:
            return  # the host was removed meanwhile, or the app is closing
        for uuid, severity in batch.items():
            key = DomainKey(uri, uuid)
            if severity in ("problem", "warning"):
                self.worst[key] = severity
            else:
                self.worst.pop(key, None)
        self._changed()
