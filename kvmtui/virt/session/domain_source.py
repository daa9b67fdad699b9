"""What every libvirt connection does once open: translate its events and read its domains.

The libvirt event thread runs the callbacks here; they only translate to the small dataclasses
of kvmtui.virt.models. A per-connection refresher thread re-reads the domains that events named
(one summary each, coalesced, so a burst of events costs one read per domain, not one per event).
Every read off the thread that owns the handle holds it through Connection.using, so a reconnect
cannot close it under the read.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

import libvirt

from kvmtui.virt.models import (
    Change,
    ConnectionStatus,
    DomainEvent,
    DomainKey,
    DomainRemoved,
    DomainState,
    DomainSummary,
    DomainUpdated,
)
from kvmtui.virt.session import eventnames
from kvmtui.virt.session.errors import is_no_domain

KEEPALIVE_INTERVAL_S = 2
KEEPALIVE_COUNT = 3


class DomainSource:
    """The events and domain reads of one connection; Connection adds opening and reopening."""

    uri: str
    host: str
    status: ConnectionStatus
    _on_change: Callable[[Change], None]
    _conn: libvirt.virConnect | None
    _closing: bool

    def _init_source(self) -> None:
        self._callback_ids: list[int] = []
        self._known: dict[str, DomainSummary] = {}
        self._pending: dict[str, None] = {}
        self._wake = threading.Condition()
        self._refresher: threading.Thread | None = None

    @property
    def conn(self) -> libvirt.virConnect:
        """The handle as it is now, held by nobody: a reconnect or close() on another thread
        may close it under a call made on it. Call libvirt inside `using()` instead."""
        if self._conn is None or self.status is not ConnectionStatus.CONNECTED:
            raise libvirt.libvirtError(f"not connected to {self.uri}")
        return self._conn

    def using(self) -> AbstractContextManager[libvirt.virConnect]:
        """The handle, kept open for a `with` block (Connection.using)."""
        raise NotImplementedError

    def _on_close(self, conn, reason: int, _opaque) -> None:
        raise NotImplementedError

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

    # -- reading domains ----------------------------------------------------------------

    def list_summaries(self, conn: libvirt.virConnect | None = None) -> list[DomainSummary]:
        """Every domain of this connection, active and inactive, as `virsh list --all` sees them
        (`conn`: a connection just opened, not yet announced as connected, which the caller
        holds; else the connected one, held for the listing).

        Calls: four listAllDomains (all, then filtered by autostart, transient and managed save:
        one list per property instead of one call per domain per property) and one info() per
        domain; name, UUID and Id travel with the domain object (no round trip). Transient is
        listed rather than persistent, as a domain is one or the other and transient domains
        are few: fewer UUIDs to read. Each libvirt call releases the GIL, and at start-up this
        runs while the UI thread imports Textual, so every call saved is also a wait saved.
        """
        if conn is None:
            with self.using() as held:
                return self._list_summaries(held)
        return self._list_summaries(conn)

    def _list_summaries(self, conn: libvirt.virConnect) -> list[DomainSummary]:
        domains = conn.listAllDomains(0)
        autostart = self._uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
        transient = self._uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)
        managed = self._uuids(conn, libvirt.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE)
        summaries = []
        for dom in domains:
            uuid = dom.UUIDString()
            try:
                summaries.append(self._summarize(dom, uuid in autostart, uuid not in transient,
                                                 uuid in managed, uuid))
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
            with self.using() as conn:
                dom = conn.lookupByUUIDString(uuid)
                return self._summarize(dom, bool(dom.autostart()), bool(dom.isPersistent()),
                                       bool(dom.hasManagedSaveImage(0)), uuid)
        except libvirt.libvirtError as err:
            if is_no_domain(err):
                return None
            raise

    def _summarize(self, dom: libvirt.virDomain, autostart: bool, persistent: bool,
                   managed_save: bool, uuid: str) -> DomainSummary:
        state, max_mem, mem, vcpus, _cpu_time = dom.info()
        dom_id = dom.ID()
        summary = DomainSummary(
            key=DomainKey(self.uri, uuid), name=dom.name(),
            id=dom_id if dom_id >= 0 else None, state=DomainState.coerce(state),
            vcpus=vcpus, memory_kib=mem, max_memory_kib=max_mem, autostart=autostart,
            persistent=persistent, managed_save=managed_save, host=self.host)
        self._known[uuid] = summary
        return summary

    def lookup(self, uuid: str) -> libvirt.virDomain:
        """The domain (libvirtError when it is gone, or not connected). Calls on it are safe
        after the handle is closed: a libvirt domain keeps its connection alive."""
        with self.using() as conn:
            return conn.lookupByUUIDString(uuid)

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

    def _start_refresher(self) -> None:
        if self._refresher is None:
            self._refresher = threading.Thread(
                target=self._refresh_loop, name=f"refresh {self.host}", daemon=True)
            self._refresher.start()

    def known_summaries(self) -> list[DomainSummary]:
        """What the last listing and events said, with no call to libvirt."""
        return list(self._known.values())
