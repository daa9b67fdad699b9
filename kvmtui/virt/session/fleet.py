"""All connections of a session; a domain is identified by (uri, uuid).

Hosts can be added and removed while kvmtui runs. Each connection opens on its own thread
(Connection.start), so a host that refuses or never answers delays no other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping

import libvirt

from kvmtui.virt.models import (
    Change,
    ConnectionChanged,
    ConnectionRemoved,
    ConnectionStatus,
    DomainKey,
    DomainSummary,
)
from kvmtui.virt.session.config import HostEntry
from kvmtui.virt.session.connection import Connection
from kvmtui.virt.session.uris import host_label

# How long leaving kvmtui waits for connections to close: a host that stopped answering
# must not hold the terminal (its keepalive would take seconds to give up).
CLOSE_WAIT_S = 2.0


class ConnectFailed(Exception):
    """Opening one of the fleet's URIs failed; carries libvirt's own error."""

    def __init__(self, uri: str, error: libvirt.libvirtError) -> None:
        super().__init__(uri, error)
        self.uri = uri
        self.error = error


Prepare = Callable[[libvirt.virConnect], None]


class Fleet:
    """The connections of this session, and the one place changes come out of.

    Changes that arrive before a sink is attached (between the first listing and the UI
    starting) are kept and handed over on attach, so no event is lost in that gap.
    `readonly` makes every connection read-only (--readonly); a configured host may be
    read-only on its own.
    """

    def __init__(self, hosts: Iterable[str | HostEntry], *, readonly: bool = False,
                 prepare: Mapping[str, Prepare] | None = None) -> None:
        self.readonly = readonly
        self._prepare = dict(prepare or {})
        self.connections: dict[str, Connection] = {}
        self._sink: Callable[[Change], None] | None = None
        self._early: list[Change] = []
        self._lock = threading.Lock()
        self._answered = threading.Condition()  # notified on each connection's state change
        for host in hosts:
            entry = host if isinstance(host, HostEntry) else HostEntry("", host)
            if entry.uri not in self.connections:
                self.connections[entry.uri] = self._connection(entry)

    def _connection(self, entry: HostEntry) -> Connection:
        this: list[Connection] = []  # the connection, for the callback it is built with
        connection = Connection(entry.uri, readonly=self.readonly or entry.readonly,
                                name=entry.name or self._free_name(host_label(entry.uri)),
                                on_change=lambda change: self._deliver_from(this[0], change),
                                prepare=self._prepare.get(entry.uri))
        this.append(connection)  # before start(): no report can come earlier
        return connection

    def _deliver_from(self, connection: Connection, change: Change) -> None:
        if isinstance(change, ConnectionChanged):  # its status was set before it was said
            with self._answered:
                self._answered.notify_all()
        # A removed host's last words (an event that came before its callbacks were
        # deregistered) must not bring its rows back.
        # (list(): one step, safe while the UI thread adds or removes a host)
        if any(c is connection for c in list(self.connections.values())):
            self._deliver(change)

    def _free_name(self, label: str) -> str:
        """The URI's host, told apart from hosts already named so (two local daemons are both
        'localhost': the second is 'localhost-2')."""
        taken = {c.host for c in self.connections.values()}
        name, n = label, 1
        while name in taken:
            n += 1
            name = f"{label}-{n}"
        return name

    @property
    def uris(self) -> list[str]:
        return list(self.connections)

    @property
    def multi_host(self) -> bool:
        return len(self.connections) > 1

    @property
    def all_readonly(self) -> bool:
        return bool(self.connections) and all(c.readonly for c in self.connections.values())

    def is_readonly(self, uri: str) -> bool:
        connection = self.connections.get(uri)
        return self.readonly or (connection is not None and connection.readonly)

    def readonly_reason(self, uri: str) -> str:
        """Why the host changes nothing, in words that end "…, so <what>"."""
        if self.readonly:
            return "kvmtui was started with --readonly"
        connection = self.connections.get(uri)
        return f"host {connection.host if connection else uri} is configured read-only"

    # -- opening ------------------------------------------------------------------------

    def open_all(self) -> None:
        """Open every connection now, in order; the first failure raises ConnectFailed."""
        for uri, connection in self.connections.items():
            try:
                connection.open()
                prepare = self._prepare.get(uri)
                if prepare is not None and not connection.readonly:
                    prepare(connection.conn)
            except libvirt.libvirtError as err:
                self.close()
                raise ConnectFailed(uri or "libvirt's default URI", err) from None
        self._rekey()

    def start(self) -> None:
        """Connect every host in the background, each on its own (see Connection.start)."""
        for connection in self.connections.values():
            connection.start()

    def wait_answered(self, timeout: float | None) -> bool:
        """Wait until every connection connected or failed once; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._answered:  # woken as soon as a state changes, not at the next poll
            while any(c.status is ConnectionStatus.CONNECTING
                      for c in self.connections.values()):
                left = 0.05 if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    return False
                self._answered.wait(min(left, 0.05))
        self._rekey()
        return True

    def _rekey(self) -> None:
        # a connection opened on libvirt's default URI now knows its real name
        self.connections = {c.uri: c for c in self.connections.values()}

    def summaries(self) -> list[DomainSummary]:
        """Every domain the connected hosts listed so far, with no call to libvirt."""
        return [s for c in self.connections.values() if c.status is ConnectionStatus.CONNECTED
                for s in c.known_summaries()]

    def list_summaries(self) -> list[DomainSummary]:
        summaries: list[DomainSummary] = []
        for connection in self.connections.values():
            summaries.extend(connection.list_summaries())
        return summaries

    def states(self) -> list[ConnectionChanged]:
        return [c.state for c in self.connections.values()]

    # -- adding and removing hosts ------------------------------------------------------

    def add(self, entry: HostEntry) -> Connection:
        """A new host, connecting in the background; ValueError when its URI or name is taken."""
        if entry.uri in self.connections:
            raise ValueError(f"{entry.uri} is already open as {self.connections[entry.uri].host}")
        connection = self._connection(entry)
        if any(c.host == connection.host for c in self.connections.values()):
            raise ValueError(f"a host is already named {connection.host}")
        self.connections[entry.uri] = connection
        self._deliver(connection.state)
        connection.start()
        return connection

    def remove(self, uri: str) -> None:
        """Forget the host: its domains leave every screen; nothing on the host changes."""
        connection = self.connections.pop(uri)
        self._deliver(ConnectionRemoved(uri, connection.host))
        # closing deregisters callbacks (round trips): never on the caller's thread
        threading.Thread(target=connection.close, name=f"close {connection.host}",
                         daemon=True).start()

    # -- changes ------------------------------------------------------------------------

    def attach(self, sink: Callable[[Change], None]) -> None:
        with self._lock:
            self._sink = sink
            early, self._early = self._early, []
        for change in early:
            sink(change)

    def _deliver(self, change: Change) -> None:
        with self._lock:
            sink = self._sink
            if sink is None:
                self._early.append(change)
                return
        sink(change)

    def connection(self, uri: str) -> Connection:
        return self.connections[uri]

    def domain(self, key: DomainKey) -> libvirt.virDomain:
        return self.connections[key.uri].lookup(key.uuid)

    def close(self) -> None:
        """Close every connection, side by side, waiting CLOSE_WAIT_S at the most."""
        threads = [threading.Thread(target=c.close, name=f"close {c.host}", daemon=True)
                   for c in self.connections.values()]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + CLOSE_WAIT_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
