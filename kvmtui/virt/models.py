"""Typed, immutable facts about domains and connections, shared by every layer."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple


class DomainKey(NamedTuple):
    """A domain is identified by its connection and UUID, never by its name alone."""

    uri: str
    uuid: str


class DomainState(enum.IntEnum):
    """libvirt's virDomainState, named and worded as `virsh list` words them."""

    NOSTATE = 0
    RUNNING = 1
    BLOCKED = 2
    PAUSED = 3
    SHUTDOWN = 4
    SHUTOFF = 5
    CRASHED = 6
    PMSUSPENDED = 7

    @property
    def word(self) -> str:
        return _STATE_WORDS[self]

    @property
    def css_class(self) -> str:
        return "-" + self.word.replace(" ", "-")

    @classmethod
    def from_word(cls, word: str) -> "DomainState | None":
        wanted = word.strip().lower().replace("-", " ").replace("_", " ")
        aliases = {"shutoff": "shut off", "off": "shut off", "inshutdown": "in shutdown",
                   "shutdown": "in shutdown", "blocked": "idle", "suspended": "paused"}
        wanted = aliases.get(wanted.replace(" ", ""), wanted)
        for state, text in _STATE_WORDS.items():
            if text == wanted:
                return state
        return None

    @classmethod
    def coerce(cls, value: int) -> "DomainState":
        try:
            return cls(value)
        except ValueError:
            return cls.NOSTATE


_STATE_WORDS = {
    DomainState.NOSTATE: "no state",
    DomainState.RUNNING: "running",
    DomainState.BLOCKED: "idle",
    DomainState.PAUSED: "paused",
    DomainState.SHUTDOWN: "in shutdown",
    DomainState.SHUTOFF: "shut off",
    DomainState.CRASHED: "crashed",
    DomainState.PMSUSPENDED: "pmsuspended",
}


@dataclass(frozen=True, slots=True)
class DomainSummary:
    """One row of the domain list: what `virsh list --all` and `dominfo` say of a domain."""

    key: DomainKey
    name: str
    id: int | None
    state: DomainState
    vcpus: int
    memory_kib: int
    max_memory_kib: int
    autostart: bool
    persistent: bool
    managed_save: bool
    host: str

    @property
    def active(self) -> bool:
        return self.id is not None


class ConnectionStatus(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


# What a connection reports.  Each is small and built on the event thread or a worker thread;
# the receiver decides how to hand it to its own thread.

@dataclass(frozen=True, slots=True)
class DomainUpdated:
    summary: DomainSummary


@dataclass(frozen=True, slots=True)
class DomainRemoved:
    key: DomainKey
    name: str


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """A libvirt domain event, translated: kind is e.g. 'lifecycle', detail e.g. 'stopped: shutdown'."""

    key: DomainKey
    name: str
    kind: str
    detail: str
    lifecycle: int | None = None


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    uri: str
    status: ConnectionStatus
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DomainsReloaded:
    """The full list of one connection, read afresh (after a reconnect): rows not in it are stale."""

    uri: str
    summaries: tuple[DomainSummary, ...]


Change = DomainUpdated | DomainRemoved | DomainEvent | ConnectionChanged | DomainsReloaded
