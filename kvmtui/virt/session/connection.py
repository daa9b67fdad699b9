"""One libvirt connection: open (in the background, retrying), keepalive, close callback,
reconnect. Its events and domain reads are DomainSource's (domain_source.py).

Threads involved:
- a connect thread (`start`), until the host first answers: each failed attempt is reported
  (refused or unreachable, with libvirt's words and when the next try is), then retried;
- the libvirt event thread runs the callbacks; they only translate to small dataclasses;
- a per-connection refresher thread re-reads the domains that events named;
- a reconnect thread, only while the connection is lost.
Any thread may call libvirt on the handle meanwhile (Textual workers, the stats lanes): it holds
`using()` for the call, and a handle is closed only once no call on it is in flight.
A host that never answers blocks only its own connect thread: libvirt's remote driver waits
in the calling thread, and every other connection and the event loop go on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import libvirt

from kvmtui.virt.models import (
    Change,
    ConnectionChanged,
    ConnectionStatus,
    DomainsReloaded,
)
from kvmtui.virt.session import eventnames
from kvmtui.virt.session.domain_source import DomainSource
from kvmtui.virt.session.errors import failure_status, libvirt_message
from kvmtui.virt.session.eventloop import ensure_event_loop
from kvmtui.virt.session.uris import host_label, version_text

# Waits before each reconnect attempt; the last one repeats for as long as the host is away.
# A failed attempt is one refused connect (over SSH, one short-lived ssh), cheap enough to
# repeat every second for as long as it takes, while a longer gap is time a daemon that is back
# sits unnoticed.
RECONNECT_BACKOFF_S = (0.25, 0.5, 1.0)
# A host never reached yet is more likely down for a while (or mistyped) than restarting:
# retried less and less often, up to every 30 s ('r' in the hosts overview retries at once).
FIRST_CONNECT_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
# How long releasing a handle (close, reconnect) waits for the calls in flight on it to end.
# A healthy call ends well within it; a call still running after it is on a host that stopped
# answering, which keepalive ends in up to ~8 s (KEEPALIVE_INTERVAL_S * (KEEPALIVE_COUNT + 1)),
# and a reconnect or a host's removal should not wait for that. Closing a handle under a call
# aborts the process, so after the wait the handle is left open, and the last call to leave it
# closes it (_leave): the bound frees the releasing thread and costs no safety.
RELEASE_WAIT_S = 2.0


def reconnect_delay(attempt: int) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0 is the first)."""
    return RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)]


def first_connect_delay(failures: int) -> float:
    """Seconds to wait after the `failures`-th failed first connect (1 is the first)."""
    return FIRST_CONNECT_BACKOFF_S[min(failures, len(FIRST_CONNECT_BACKOFF_S)) - 1]


class Connection(DomainSource):
    """A libvirt connection to one URI, read-write or read-only, named as the user named it."""

    def __init__(self, uri: str, *, readonly: bool = False, name: str = "",
                 on_change: Callable[[Change], None] = lambda change: None,
                 prepare: Callable[[libvirt.virConnect], None] | None = None) -> None:
        self.uri = uri
        self.readonly = readonly
        self.named = bool(name)
        self.host = name or host_label(uri)
        self.status = ConnectionStatus.CONNECTING
        self.state = ConnectionChanged(uri, ConnectionStatus.CONNECTING, "", time.monotonic())
        self.versions: tuple[str, str] | None = None  # (libvirt, hypervisor), once connected
        # the last failure: libvirt's error, and whether it came from listing the domains of
        # a connection that opened (else from opening it); start-up words it in one line
        self.last_error: libvirt.libvirtError | None = None
        self.failed_listing = False
        self._on_change = on_change
        self._prepare = prepare  # run on each new connection before listing (the demo lab)
        self._conn: libvirt.virConnect | None = None
        self._init_source()
        self._closing = False
        # Who owns self._conn (close() or the reconnect thread) is decided under this lock,
        # so a connection is released exactly once.
        self._lock = threading.Lock()
        # Calls in flight on each handle (using), by id(handle); notified as a handle's last
        # call leaves it. A handle released while calls were still on it past RELEASE_WAIT_S
        # waits in _orphans for the last of them.
        self._users: dict[int, int] = {}
        self._unused = threading.Condition(self._lock)
        self._orphans: dict[int, libvirt.virConnect] = {}
        self._nudge = threading.Event()  # wakes a retry wait: close(), or "retry now"
        self._reconnecting = False
        self._lost: libvirt.virConnect | None = None  # closed under the running reconnect loop

    # -- lifetime -----------------------------------------------------------------------

    def open(self) -> None:
        """Open the connection now (raises libvirt.libvirtError) and subscribe to its events."""
        ensure_event_loop()
        conn = self._open_raw()
        self._adopt(conn)
        self._read_versions(conn)
        self.status = ConnectionStatus.CONNECTED
        # said to nobody: whoever called open() knows, and a UI attached later takes the state
        self.state = ConnectionChanged(self.uri, ConnectionStatus.CONNECTED, "connected",
                                       time.monotonic())
        self._start_refresher()

    def start(self) -> None:
        """Connect in the background, retrying until connected or closed; never raises."""
        ensure_event_loop()
        threading.Thread(target=self._first_connect, name=f"connect {self.host}",
                         daemon=True).start()

    def retry_now(self) -> None:
        """Cut a failed connection's wait short."""
        self._nudge.set()

    def _open_raw(self) -> libvirt.virConnect:
        uri = self.uri or None
        if self.readonly:
            return libvirt.openReadOnly(uri)
        return libvirt.open(uri)

    def _adopt(self, conn: libvirt.virConnect) -> bool:
        """Make `conn` this connection's, subscribed; False (and released) when closed meanwhile."""
        if not self.uri:  # libvirt chose its default: from now on we name it as libvirt does
            self.uri = conn.getURI()
            if not self.named:
                self.host = host_label(self.uri)
        self._subscribe(conn)
        with self._lock:
            closing = self._closing
            if not closing:
                self._conn = conn
        if closing:
            self._release(conn)
            return False
        return True

    def _set_state(self, status: ConnectionStatus, reason: str = "",
                   retry_at: float | None = None) -> None:
        self.status = status
        self.state = ConnectionChanged(self.uri, status, reason, time.monotonic(), retry_at)
        self._emit(self.state)

    def close(self) -> None:
        with self._lock:
            self._closing = True
            conn, self._conn = self._conn, None
        self._nudge.set()
        with self._wake:
            self._wake.notify_all()
        if conn is not None:
            self._release(conn)

    def _release(self, conn: libvirt.virConnect) -> None:
        """Deregister everything registered on `conn`, then close it once no call is in flight
        on it (using); errors are ignored. Call it only on a handle already taken out of
        self._conn (under the lock), so that no new call can start on it.

        Each event callback holds a reference on the connection, so closing without
        deregistering first leaves it, and its socket, alive for as long as the process runs.
        Deregistering beside calls in flight is safe (libvirt locks its handles); closing is
        not: libvirt aborts when the handle goes while another thread is inside a call on it.
        So the close waits for those calls, RELEASE_WAIT_S at the most; after that the last
        call to leave closes it. Never call this on the libvirt event thread (libvirt runs the
        close callback with its close-callback lock held, and unregistering takes that same
        lock), nor while this thread is inside using() on `conn`.
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
        deadline = time.monotonic() + RELEASE_WAIT_S
        with self._unused:
            while id(conn) in self._users:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._orphans[id(conn)] = conn  # for the last call in flight to close
                    return
                self._unused.wait(left)
        _close_handle(conn)

    # -- calls from other threads ---------------------------------------------------------

    @contextlib.contextmanager
    def using(self) -> Iterator[libvirt.virConnect]:
        """The libvirt handle, kept open for the block: `with connection.using() as conn:`.

        For any thread that calls libvirt on this connection. A reconnect or close() that
        comes meanwhile waits for the block to end before closing the handle (so keep the
        block to a call or a short batch of calls, never a sleep or a wait for another
        thread), and the next using() gets the new handle. Raises libvirt.libvirtError, as
        `conn` does, while not connected. Many threads may be inside at once, and blocks nest.
        Never `with` the handle itself: leaving that closes it (virConnect.__exit__).
        """
        with self._lock:
            conn = self._conn
            if conn is None or self.status is not ConnectionStatus.CONNECTED:
                raise libvirt.libvirtError(f"not connected to {self.uri}")
            self._users[id(conn)] = self._users.get(id(conn), 0) + 1
        try:
            yield conn
        finally:
            self._leave(conn)

    def _hold(self, conn: libvirt.virConnect) -> bool:
        """using() on `conn`, this connection's own even before it is announced (the connect
        threads list it first): False when it is no longer this connection's handle (closed,
        or lost, meanwhile: whoever took it releases it). Pair each True with _leave."""
        with self._lock:
            if self._conn is not conn:
                return False
            self._users[id(conn)] = self._users.get(id(conn), 0) + 1
        return True

    def _leave(self, conn: libvirt.virConnect) -> None:
        with self._lock:
            left = self._users.pop(id(conn)) - 1
            if left:
                self._users[id(conn)] = left
                return
            self._unused.notify_all()
            orphan = self._orphans.pop(id(conn), None)
        if orphan is not None:  # released while this call was in flight: closed now
            _close_handle(orphan)

    def _read_versions(self, conn: libvirt.virConnect) -> None:
        if self._hold(conn):
            try:
                self.versions = _versions(conn)
            finally:
                self._leave(conn)

    def _wait_retry(self, seconds: float) -> bool:
        """Wait before the next attempt; False when the connection was closed meanwhile."""
        self._nudge.wait(seconds)
        self._nudge.clear()
        return not self._closing

    # -- the first connect ----------------------------------------------------------------

    def _first_connect(self) -> None:
        failures = 0
        while not self._closing:
            self._set_state(ConnectionStatus.CONNECTING,
                            f"attempt {failures + 1}" if failures else "")
            try:
                conn = self._open_raw()
            except libvirt.libvirtError as err:
                self.last_error, self.failed_listing = err, False
                failures += 1
                delay = first_connect_delay(failures)
                if self._closing:
                    return
                self._set_state(failure_status(err), libvirt_message(err),
                                time.monotonic() + delay)
                if not self._wait_retry(delay):
                    return
                continue
            if not self._adopt(conn):
                return
            if self._list_and_announce(conn, "connected"):
                self._start_refresher()
                return
            failures += 1
            if not self._wait_retry(first_connect_delay(failures)):
                return

    def _list_and_announce(self, conn: libvirt.virConnect, words: str) -> bool:
        """List the new connection's domains and say it is up; False when that failed (the
        connection is then released) or the connection was closed or lost meanwhile."""
        if not self._hold(conn):  # close() or the reconnect thread took it: theirs to say
            return False
        try:
            try:
                if self._prepare is not None and not self.readonly:
                    self._prepare(conn)
                summaries = self.list_summaries(conn)
            finally:
                self._leave(conn)
        except libvirt.libvirtError as err:
            self.last_error, self.failed_listing = err, True
            with self._lock:
                mine = self._conn is conn
                if mine:
                    self._conn = None
            if mine:
                self._release(conn)  # lost again at once: its callbacks must not pile up
            self._set_state(ConnectionStatus.DISCONNECTED, libvirt_message(err))
            return False
        # connected only now, listed: whoever reads the status may use the connection and
        # finds its domains all there
        self._emit(DomainsReloaded(self.uri, tuple(summaries)))
        self._set_state(ConnectionStatus.CONNECTED, words)
        # after the VMs are shown: on a daemon that has not yet cached what its QEMU can do,
        # the hypervisor's version makes it probe every QEMU binary (4 s measured)
        self._read_versions(conn)
        return True

    # -- losing it and reconnecting -------------------------------------------------------

    def _on_close(self, conn, reason: int, _opaque) -> None:
        if self._closing or reason == libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT:
            return
        self._set_state(ConnectionStatus.DISCONNECTED,
                        eventnames.CLOSE_REASONS.get(reason, "closed"),
                        time.monotonic() + reconnect_delay(0))
        self._start_reconnect(conn)

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
            self._set_state(ConnectionStatus.DISCONNECTED, "closed",
                            time.monotonic() + reconnect_delay(0))

    def _reconnect(self) -> None:
        """Try until connected and listed, or closed."""
        attempt = 0
        while self._wait_retry(reconnect_delay(attempt)):
            attempt += 1
            try:
                conn = self._open_raw()
            except libvirt.libvirtError as err:
                self._set_state(ConnectionStatus.DISCONNECTED,
                                f"retry {attempt}: {libvirt_message(err)}",
                                time.monotonic() + reconnect_delay(attempt))
                continue
            if not self._adopt(conn):
                return
            if self._list_and_announce(conn, "reconnected"):
                return


def _close_handle(conn: libvirt.virConnect) -> None:
    try:
        conn.close()
    except libvirt.libvirtError:
        pass


def _versions(conn: libvirt.virConnect) -> tuple[str, str] | None:
    """(libvirt's version, the hypervisor and its version), as virsh version words them."""
    try:
        libvirt_version = version_text(conn.getLibVersion())
        kind = conn.getType()
        try:
            return libvirt_version, f"{kind} {version_text(conn.getVersion())}"
        except libvirt.libvirtError:
            return libvirt_version, kind  # the test driver has no version of its own
    except libvirt.libvirtError:
        return None
