"""One libvirt connection: open, events, keepalive, close callback, reconnect, domain summaries.

Threads involved:
- the libvirt event thread runs our callbacks; they only translate to small dataclasses;
- a per-connection refresher thread re-reads the domains that events named (one summary each,
  coalesced, so a burst of events costs one read per domain, not one per event);
- a reconnect thread, only while the connection is lost.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import libvirt

from kvmtui.virt.models import (
    Change,
    ConnectionChanged,
    ConnectionStatus,
    DomainEvent,
    DomainKey,
    DomainRemoved,
    DomainsReloaded,
    DomainState,
    DomainSummary,
    DomainUpdated,
)
from kvmtui.virt.session import eventnames
from kvmtui.virt.session.errors import is_no_domain, libvirt_message
from kvmtui.virt.session.eventloop import ensure_event_loop
from kvmtui.virt.session.uris import host_label

KEEPALIVE_INTERVAL_S = 2
KEEPALIVE_COUNT = 3
# Waits before each reconnect attempt; the last one repeats for as long as the host is away.
# A failed attempt is one refused connect (over SSH, one short-lived ssh), cheap enough to
# repeat every second for as long as it takes, while a longer gap is time a daemon that is back
# sits unnoticed.
RECONNECT_BACKOFF_S = (0.25, 0.5, 1.0)


def reconnect_delay(attempt: int) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0 is the first)."""
    return RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)]


class Connection:
    """A libvirt connection to one URI, read-write or read-only."""

    def __init__(self, uri: str, *, readonly: bool = False,
                 on_change: Callable[[Change], None] = lambda change: None) -> None:
        self.uri = uri
        self.readonly = readonly
        self.host = host_label(uri)
        self.status = ConnectionStatus.CONNECTING
        self._on_change = on_change
        self._conn: libvirt.virConnect | None = None
        self._callback_ids: list[int] = []
        self._known: dict[str, DomainSummary] = {}
        self._pending: dict[str, None] = {}
        self._wake = threading.Condition()
        self._closing = False
        self._refresher: threading.Thread | None = None
        # Who owns self._conn (close() or the reconnect thread) is decided under this lock,
        # so a connection is released exactly once.
        self._lock = threading.Lock()
        self._closed = threading.Event()  # wakes a reconnect wait when close() is called
        self._reconnecting = False
        self._lost: libvirt.virConnect | None = None  # closed under the running reconnect loop

    # -- lifetime -----------------------------------------------------------------------

    def open(self) -> None:
        """Open the connection (raises libvirt.libvirtError) and subscribe to its events."""
        ensure_event_loop()
        self._conn = self._open_raw()
        if not self.uri:  # libvirt chose its default: from now on we name it as libvirt does
            self.uri = self._conn.getURI()
            self.host = host_label(self.uri)
        self._subscribe(self._conn)
        self.status = ConnectionStatus.CONNECTED
        if self._refresher is None:
            self._refresher = threading.Thread(
                target=self._refresh_loop, name=f"refresh {self.host}", daemon=True)
            self._refresher.start()

    def _open_raw(self) -> libvirt.virConnect:
        uri = self.uri or None
        if self.readonly:
            return libvirt.openReadOnly(uri)
        return libvirt.open(uri)

    def close(self) -> None:
        with self._lock:
            self._closing = True
            conn, self._conn = self._conn, None
        self._closed.set()
        with self._wake:
            self._wake.notify_all()
        if conn is not None:
            self._release(conn)

    def _release(self, conn: libvirt.virConnect) -> None:
        """Deregister everything registered on `conn`, then close it; errors are ignored.

        Each event callback holds a reference on the connection, so closing without
        deregistering first leaves it, and its socket, alive for as long as the process runs.
        Never call this on the libvirt event thread: libvirt runs the close callback with its
        close-callback lock held, and unregistering takes that same lock.
        """
        ids, self._callback_ids = self._callback_ids, []
        for cid in ids:
            try:
                conn.domainEventDeregisterAny(cid)
            except libvirt.libvirtError:
                pass  # a dead connection still drops the callback locally, then fails its RPC
        try:
            conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass  # libvirt already dropped it when it fired
        try:
            conn.close()
        except libvirt.libvirtError:
            pass

    @property
    def conn(self) -> libvirt.virConnect:
        if self._conn is None or self.status is not ConnectionStatus.CONNECTED:
            raise libvirt.libvirtError(f"not connected to {self.uri}")
        return self._conn

    # -- events -------------------------------------------------------------------------

    def _subscribe(self, conn: libvirt.virConnect) -> None:
        try:
            conn.setKeepAlive(KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT)
        except libvirt.libvirtError:
            pass  # local drivers (test://, qemu:/// with no daemon) have no keepalive
        try:
            conn.registerCloseCallback(self._on_close, None)
        except libvirt.libvirtError:
            pass  # drivers without a socket cannot be closed under us
        handlers = {
            libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE: self._on_lifecycle,
            libvirt.VIR_DOMAIN_EVENT_ID_REBOOT: self._on_reboot,
            libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED: self._on_device_added,
            libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED: self._on_device_removed,
            libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE: self._on_agent,
            libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED: self._on_job_completed,
            libvirt.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE: self._on_balloon,
        }
        for event_id, handler in handlers.items():
            try:
                self._callback_ids.append(conn.domainEventRegisterAny(None, event_id, handler, None))
            except libvirt.libvirtError:
                pass  # an older daemon may not know every event id; the rest still work

    def _key(self, dom: libvirt.virDomain) -> DomainKey:
        return DomainKey(self.uri, dom.UUIDString())

    def _emit(self, change: Change) -> None:
        try:
            self._on_change(change)
        except Exception:  # noqa: BLE001 - a receiver's bug must not kill libvirt's thread
            pass

    def _on_lifecycle(self, _conn, dom, event: int, detail: int, _opaque) -> None:
        key = self._key(dom)
        self._emit(DomainEvent(key, dom.name(), "lifecycle",
                               eventnames.lifecycle_words(event, detail), lifecycle=event))
        # The event already says the new state: show it now, then re-read the rest (the
        # re-read costs a few round trips, which on a busy link is what a user would wait for).
        known = self._known.get(key.uuid)
        state = eventnames.LIFECYCLE_STATES.get(event)
        if known is not None and state is not None:
            dom_id = dom.ID()  # carried by the event itself: no round trip
            implied = dataclasses.replace(
                known, state=DomainState(state), id=dom_id if dom_id >= 0 else None,
                managed_save=eventnames.leaves_managed_save(event, detail, known.managed_save))
            self._known[key.uuid] = implied
            self._emit(DomainUpdated(implied))
        self.request_refresh(key.uuid)

    def _on_reboot(self, _conn, dom, _opaque) -> None:
        key = self._key(dom)
        self._emit(DomainEvent(key, dom.name(), "reboot", "rebooted"))
        self.request_refresh(key.uuid)

    def _on_device_added(self, _conn, dom, alias: str, _opaque) -> None:
        self._emit(DomainEvent(self._key(dom), dom.name(), "device-added", alias))

    def _on_device_removed(self, _conn, dom, alias: str, _opaque) -> None:
        self._emit(DomainEvent(self._key(dom), dom.name(), "device-removed", alias))

    def _on_agent(self, _conn, dom, state: int, _reason: int, _opaque) -> None:
        self._emit(DomainEvent(self._key(dom), dom.name(), "agent",
                               eventnames.AGENT_STATES.get(state, str(state))))

    def _on_job_completed(self, _conn, dom, _params, _opaque) -> None:
        self._emit(DomainEvent(self._key(dom), dom.name(), "job", "completed"))

    def _on_balloon(self, _conn, dom, _actual: int, _opaque) -> None:
        self.request_refresh(dom.UUIDString())

    def _on_close(self, conn, reason: int, _opaque) -> None:
        if self._closing or reason == libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT:
            return
        self.status = ConnectionStatus.DISCONNECTED
        self._emit(ConnectionChanged(self.uri, ConnectionStatus.DISCONNECTED,
                                     eventnames.CLOSE_REASONS.get(reason, "closed")))
        self._start_reconnect(conn)

    # -- reconnect ----------------------------------------------------------------------

    def _start_reconnect(self, lost: libvirt.virConnect) -> None:
        with self._lock:
            if self._reconnecting:
                # a connection the running loop made is gone too; if it is the one the loop
                # ends up keeping, the loop must not stop there
                self._lost = lost
                return
            self._reconnecting = True
        threading.Thread(target=self._reconnect_loop, name=f"reconnect {self.host}",
                         daemon=True).start()

    def _reconnect_loop(self) -> None:
        while True:
            with self._lock:
                old, self._conn = self._conn, None
                self._lost = None
            if old is not None:
                self._release(old)
            self._reconnect()
            with self._lock:
                if self._closing or self._lost is not self._conn:
                    self._reconnecting = False
                    return
            self.status = ConnectionStatus.DISCONNECTED
            self._emit(ConnectionChanged(self.uri, ConnectionStatus.DISCONNECTED, "closed"))

    def _reconnect(self) -> None:
        """Try until connected and listed, or closed."""
        attempt = 0
        while not self._closed.wait(reconnect_delay(attempt)):
            attempt += 1
            try:
                conn = self._open_raw()
            except libvirt.libvirtError as err:
                self._emit(ConnectionChanged(self.uri, ConnectionStatus.DISCONNECTED,
                                             f"retry {attempt}: {libvirt_message(err)}"))
                continue
            self._subscribe(conn)
            with self._lock:
                closing = self._closing
                if not closing:
                    self._conn = conn
            if closing:  # close() ran while this attempt was connecting
                self._release(conn)
                return
            self.status = ConnectionStatus.CONNECTED
            try:
                summaries = self.list_summaries()
            except libvirt.libvirtError:
                self.status = ConnectionStatus.DISCONNECTED
                with self._lock:
                    mine = self._conn is conn
                    if mine:
                        self._conn = None
                if mine:
                    self._release(conn)  # lost again at once: its callbacks must not pile up
                continue
            self._emit(DomainsReloaded(self.uri, tuple(summaries)))
            self._emit(ConnectionChanged(self.uri, ConnectionStatus.CONNECTED, "reconnected"))
            return

    # -- reading domains ----------------------------------------------------------------

    def list_summaries(self) -> list[DomainSummary]:
        """Every domain of this connection, active and inactive, as `virsh list --all` sees them."""
        conn = self.conn
        domains = conn.listAllDomains(0)
        autostart = self._uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
        persistent = self._uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT)
        managed = self._uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE)
        summaries = []
        for dom in domains:
            uuid = dom.UUIDString()
            try:
                summaries.append(self._summarize(dom, uuid in autostart, uuid in persistent,
                                                 uuid in managed))
            except libvirt.libvirtError as err:
                if not is_no_domain(err):  # undefined between the list and the read: skip it
                    raise
        return summaries

    @staticmethod
    def _uuids(conn: libvirt.virConnect, flag: int) -> set[str]:
        # One filtered list per flag instead of one call per domain per property.
        return {dom.UUIDString() for dom in conn.listAllDomains(flag)}

    def summary(self, uuid: str) -> DomainSummary | None:
        """The domain's current summary, or None when it no longer exists."""
        try:
            dom = self.conn.lookupByUUIDString(uuid)
            return self._summarize(dom, bool(dom.autostart()), bool(dom.isPersistent()),
                                   bool(dom.hasManagedSaveImage(0)))
        except libvirt.libvirtError as err:
            if is_no_domain(err):
                return None
            raise

    def _summarize(self, dom: libvirt.virDomain, autostart: bool, persistent: bool,
                   managed_save: bool) -> DomainSummary:
        state, max_mem, mem, vcpus, _cpu_time = dom.info()
        dom_id = dom.ID()
        uuid = dom.UUIDString()
        summary = DomainSummary(
            key=DomainKey(self.uri, uuid), name=dom.name(),
            id=dom_id if dom_id >= 0 else None, state=DomainState.coerce(state),
            vcpus=vcpus, memory_kib=mem, max_memory_kib=max_mem, autostart=autostart,
            persistent=persistent, managed_save=managed_save, host=self.host)
        self._known[uuid] = summary
        return summary

    def lookup(self, uuid: str) -> libvirt.virDomain:
        return self.conn.lookupByUUIDString(uuid)

    # -- refresher ----------------------------------------------------------------------

    def request_refresh(self, uuid: str) -> None:
        """Ask for the domain to be re-read off the event thread; repeated asks coalesce."""
        with self._wake:
            self._pending[uuid] = None
            self._wake.notify()

    def _refresh_loop(self) -> None:
        while not self._closing:
            with self._wake:
                while not self._pending and not self._closing:
                    self._wake.wait()
                batch = list(self._pending)
                self._pending.clear()
            for uuid in batch:
                self._refresh_one(uuid)

    def _refresh_one(self, uuid: str) -> None:
        try:
            summary = self.summary(uuid)
        except libvirt.libvirtError:
            return  # lost connection: the close callback reports it and the reload fixes rows
        if summary is None:
            gone = self._known.pop(uuid, None)
            self._emit(DomainRemoved(DomainKey(self.uri, uuid), gone.name if gone else uuid))
        else:
            self._emit(DomainUpdated(summary))
