"""What kvmtui was asked to do, and how each request ended: the app's own record of its actions.

Every action that changes a VM or a snapshot is recorded here when it starts (after its
confirmation, if it needed one) and closed when libvirt's call returns. The random-key test tier
reads it to prove that nothing changed without a request, and nothing destructive without a
confirmed answer; it is also what an action log screen will show.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from kvmtui.virt.models import Change, DomainKey

# Destructive actions: each must have been confirmed by an explicit answer.
DESTRUCTIVE = frozenset({"force_off", "reset", "managed_save", "snapshot-revert",
                         "snapshot-delete"})


@dataclass
class ActionRecord:
    key: DomainKey
    vm: str                      # the VM's name when the action started
    action: str                  # a PowerAction value, or snapshot-create/-revert/-delete
    confirmed: bool              # an explicit "yes" was given to a question about it
    snapshot: str | None = None  # the snapshot it concerns, for snapshot actions
    detail: str = ""             # e.g. the delete mode
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    error: str | None = None     # libvirt's message (or kvmtui's refusal) when it failed

    @property
    def done(self) -> bool:
        return self.ended is not None

    @property
    def ok(self) -> bool:
        return self.ended is not None and self.error is None


class ActionLog:
    """A bounded, append-only list of records; used from the UI thread only."""

    def __init__(self, limit: int = 10_000) -> None:
        self.records: deque[ActionRecord] = deque(maxlen=limit)

    def start(self, key: DomainKey, vm: str, action: str, *, confirmed: bool,
              snapshot: str | None = None, detail: str = "") -> ActionRecord:
        record = ActionRecord(key, vm, action, confirmed, snapshot, detail)
        self.records.append(record)
        return record

    @staticmethod
    def finish(record: ActionRecord, error: str | None) -> None:
        record.ended = time.monotonic()
        record.error = error

    def observe(self, change: Change) -> None:
        """A report from libvirt (an event, a connection change): kept for the log screen."""

    def for_domain(self, key: DomainKey) -> list[ActionRecord]:
        return [r for r in self.records if r.key == key]
