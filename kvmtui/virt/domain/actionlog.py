"""What kvmtui was asked to do, how each request ended, and what libvirt reported meanwhile.

Every action that changes a VM or a snapshot is recorded here when it starts (after its
confirmation, if it needed one) and closed when libvirt's call returns. The random-key test tier
reads `records` to prove that nothing changed without a request, and nothing destructive without
a confirmed answer. Next to them the log keeps, bounded, the events libvirt sent (a VM paused
elsewhere, a connection lost), so that `entries()` answers "what just happened to db1?" for the
action log screen.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from kvmtui.virt.domain import snapshots as snaps
from kvmtui.virt.models import (
    Change,
    ConnectionChanged,
    ConnectionRemoved,
    ConnectionStatus,
    DomainEvent,
    DomainKey,
)
from kvmtui.virt.session.uris import display_uri, host_label

# Destructive actions: each must have been confirmed by an explicit answer.
DESTRUCTIVE = frozenset({"force_off", "reset", "managed_save", "snapshot-revert",
                         "snapshot-delete"})

UNDER_WAY, DONE, FAILED, EVENT = "under way…", "done", "failed", "event"

# How a snapshot operation's mode reads in the log: (action, detail) -> words.
_DETAIL_WORDS = {
    ("snapshot-delete", snaps.DELETE_THIS): "children kept",
    ("snapshot-delete", snaps.DELETE_SUBTREE): "and all below it",
    ("snapshot-delete", snaps.DELETE_METADATA): "metadata only",
    ("snapshot-revert", snaps.AFTER_RUNNING): "then running",
    ("snapshot-revert", snaps.AFTER_PAUSED): "then paused",
    ("snapshot-revert", snaps.AFTER_AS_TAKEN): "",
}

_ACTION_WORDS = {"wakeup": "wake up"}

# Event details that mean something went wrong with the VM: shown as problems.
_PROBLEM_WORDS = ("crashed", "failed", "I/O error", "API error", "panicked", "watchdog")


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
    at: float = 0.0              # wall-clock time it started, as the log screen shows it
    seq: int = 0                 # its place among everything the log holds

    @property
    def done(self) -> bool:
        return self.ended is not None

    @property
    def ok(self) -> bool:
        return self.ended is not None and self.error is None


@dataclass(frozen=True, slots=True)
class ObservedEvent:
    """Something libvirt reported, in the words the log shows."""

    seq: int
    at: float                    # wall-clock time kvmtui received it
    uri: str
    vm: str                      # "" when it is about the connection
    what: str
    message: str = ""
    problem: bool = False


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of the log, an action or an event."""

    seq: int
    at: float
    uri: str
    vm: str
    what: str                    # "pause", "snapshot-delete 's1' (children kept)", "suspended (paused)"
    result: str                  # UNDER_WAY, DONE, FAILED or EVENT
    message: str = ""            # libvirt's message on failure; an event's reason
    problem: bool = False        # a failed action, a crash, a lost connection
    host_name: str = ""          # as the user named the host; else the URI's host

    @property
    def is_action(self) -> bool:
        return self.result != EVENT

    @property
    def host(self) -> str:
        return self.host_name or host_label(self.uri)

    @property
    def where(self) -> str:
        return display_uri(self.uri)

    @property
    def time_text(self) -> str:
        return time.strftime("%H:%M:%S", time.localtime(self.at))

    @property
    def summary(self) -> str:
        """'pause: done', 'force off: failed', or an event's own words."""
        return self.what if self.result == EVENT else f"{self.what}: {self.result}"

    def matches(self, text: str) -> bool:
        """Whether a filter typed by the user finds it: in the VM, host, what or result."""
        wanted = text.strip().lower()
        return not wanted or any(wanted in part.lower() for part in (
            self.vm, self.host, self.what, self.result))


def action_words(record: ActionRecord) -> str:
    words = _ACTION_WORDS.get(record.action, record.action.replace("_", " "))
    if record.snapshot is not None:
        words += f" '{record.snapshot}'"
    mode = _DETAIL_WORDS.get((record.action, record.detail), record.detail)
    return f"{words} ({mode})" if mode else words


def record_entry(record: ActionRecord, host_name: str = "") -> LogEntry:
    result = UNDER_WAY if not record.done else FAILED if record.error is not None else DONE
    return LogEntry(record.seq, record.at, record.key.uri, record.vm, action_words(record),
                    result, record.error or "", problem=result == FAILED, host_name=host_name)


def event_entry(event: ObservedEvent, host_name: str = "") -> LogEntry:
    return LogEntry(event.seq, event.at, event.uri, event.vm, event.what, EVENT, event.message,
                    event.problem, host_name)


def _domain_event_words(change: DomainEvent) -> str:
    if change.kind == "lifecycle":
        name, _, detail = change.detail.partition(": ")
        return f"{name} ({detail})" if detail else name
    if change.kind == "agent":
        return f"guest agent {change.detail}"
    if change.kind in ("device-added", "device-removed"):
        return f"{change.kind.replace('-', ' ')}: {change.detail}"
    if change.kind == "reboot":
        return "rebooted"
    return f"{change.kind} {change.detail}".strip()


class ActionLog:
    """Bounded records of actions and events; used from the UI thread only."""

    def __init__(self, limit: int = 10_000, *, event_limit: int = 5_000,
                 clock: Callable[[], float] = time.time) -> None:
        self.records: deque[ActionRecord] = deque(maxlen=limit)
        self.events: deque[ObservedEvent] = deque(maxlen=event_limit)
        self.clock = clock       # wall-clock time for the screen; tests set a fixed one
        self.version = 0         # goes up with every change: a new entry or an action's end
        self._seq = itertools.count(1)
        self._listeners: list[Callable[[], None]] = []
        # a host that keeps failing the same way is logged once, not at every retry
        self._last_failure: dict[str, str] = {}
        # the app names hosts as the user configured them; a removed host keeps its last name
        self.name_of: Callable[[str], str | None] = lambda uri: None
        self._names: dict[str, str] = {}

    def start(self, key: DomainKey, vm: str, action: str, *, confirmed: bool,
              snapshot: str | None = None, detail: str = "") -> ActionRecord:
        record = ActionRecord(key, vm, action, confirmed, snapshot, detail,
                              at=self.clock(), seq=next(self._seq))
        self.records.append(record)
        self._changed()
        return record

    def finish(self, record: ActionRecord, error: str | None) -> None:
        record.ended = time.monotonic()
        record.error = error
        self._changed()

    def observe(self, change: Change) -> None:
        """A report from libvirt: events and connection changes are kept; re-reads
        (DomainUpdated, DomainRemoved, DomainsReloaded) only follow what an event said."""
        if isinstance(change, DomainEvent):
            words = _domain_event_words(change)
            problem = any(w in change.detail for w in _PROBLEM_WORDS)
            self._keep(change.key.uri, change.name, words, "", problem)
        elif isinstance(change, ConnectionChanged):
            self._connection(change)
        elif isinstance(change, ConnectionRemoved):
            self._last_failure.pop(change.uri, None)
            self._names[change.uri] = change.name
            self._keep(change.uri, "", "host removed", "by the user; nothing on it changed",
                       False)

    def _connection(self, change: ConnectionChanged) -> None:
        status = change.status
        if status is ConnectionStatus.CONNECTED:
            self._last_failure.pop(change.uri, None)
            what = "connected" if change.reason == "connected" else "connection back"
            self._keep(change.uri, "", what, change.reason, False)
        elif status is ConnectionStatus.DISCONNECTED:
            # the reconnect loop reports each failed attempt as "retry N: libvirt's words"
            what = "reconnect failed" if change.reason.startswith("retry ") else "connection lost"
            self._keep(change.uri, "", what, change.reason, True)
        elif status.failed and self._last_failure.get(change.uri) != change.reason:
            self._last_failure[change.uri] = change.reason
            self._keep(change.uri, "", f"connect {status.value}", change.reason, True)

    def entries(self) -> Iterator[LogEntry]:
        """Actions and events merged, newest first."""
        merged = heapq.merge(
            (record_entry(r, self._host(r.key.uri)) for r in reversed(self.records)),
            (event_entry(e, self._host(e.uri)) for e in reversed(self.events)),
            key=lambda entry: entry.seq, reverse=True)
        return iter(merged)

    def _host(self, uri: str) -> str:
        name = self.name_of(uri)
        if name:
            self._names[uri] = name
            return name
        return self._names.get(uri, "")

    def for_domain(self, key: DomainKey) -> list[ActionRecord]:
        return [r for r in self.records if r.key == key]

    # -- who is watching (the open log screen) ------------------------------------------------

    def listen(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def unlisten(self, callback: Callable[[], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _keep(self, uri: str, vm: str, what: str, message: str, problem: bool) -> None:
        self.events.append(ObservedEvent(next(self._seq), self.clock(), uri, vm, what, message,
                                         problem))
        self._changed()

    def _changed(self) -> None:
        self.version += 1
        for callback in list(self._listeners):
            callback()
