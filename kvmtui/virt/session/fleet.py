"""All connections of a session; a domain is identified by (uri, uuid)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import libvirt

from kvmtui.virt.models import Change, DomainKey, DomainSummary
from kvmtui.virt.session.connection import Connection


class ConnectFailed(Exception):
    """Opening one of the fleet's URIs failed; carries libvirt's own error."""

    def __init__(self, uri: str, error: libvirt.libvirtError) -> None:
        super().__init__(uri, error)
        self.uri = uri
        self.error = error


class Fleet:
    """The connections given on the command line, and the one place changes come out of.

    Changes that arrive before a sink is attached (between the first listing and the UI
    starting) are kept and handed over on attach, so no event is lost in that gap.
    """

    def __init__(self, uris: Iterable[str], *, readonly: bool = False) -> None:
        self.readonly = readonly
        self.connections: dict[str, Connection] = {}
        for uri in uris:
            if uri not in self.connections:
                self.connections[uri] = Connection(uri, readonly=readonly, on_change=self._deliver)
        self._sink: Callable[[Change], None] | None = None
        self._early: list[Change] = []
        self._lock = threading.Lock()

    @property
    def uris(self) -> list[str]:
        return list(self.connections)

    @property
    def multi_host(self) -> bool:
        return len(self.connections) > 1

    def open_all(self) -> None:
        """Open every connection, in order; the first failure raises ConnectFailed."""
        for uri, connection in self.connections.items():
            try:
                connection.open()
            except libvirt.libvirtError as err:
                self.close()
                raise ConnectFailed(uri or "libvirt's default URI", err) from None
        # a connection opened on libvirt's default URI now knows its real name
        self.connections = {c.uri: c for c in self.connections.values()}

    def list_summaries(self) -> list[DomainSummary]:
        summaries: list[DomainSummary] = []
        for connection in self.connections.values():
            summaries.extend(connection.list_summaries())
        return summaries

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
        for connection in self.connections.values():
            connection.close()
