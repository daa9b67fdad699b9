"""A libvirt handle is never closed under a call in flight on it: Connection.using, on libvirt's
test driver. close() and the reconnect thread wait for the threads inside using() (the stats
lanes, the list's advice reader, workers), which finish their calls with their results; a call
that comes after gets the new handle or "not connected"."""

from __future__ import annotations

import threading
import time

import libvirt
import pytest

from kvmtui.virt.advice.reading import worst_of_domains
from kvmtui.virt.models import ConnectionStatus
from kvmtui.virt.perf.stats import StatsSampler
from kvmtui.virt.session import connection as connection_module
from kvmtui.virt.session.connection import Connection
from tests.helpers import write_fleet

UUID0 = "00000000-0000-4000-8000-000000000000"  # vm0000 of write_fleet


def opened(tmp_path, count: int = 2) -> Connection:
    connection = Connection(write_fleet(tmp_path / "fleet.xml", count))
    connection.open()
    return connection


class Holder(threading.Thread):
    """A thread inside using(), as a worker in the middle of a long call is: when told to, it
    makes its call on the handle it holds, then leaves."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(daemon=True)
        self.connection = connection
        self.inside, self.go = threading.Event(), threading.Event()
        self.handle: libvirt.virConnect | None = None
        self.result: str | None = None
        self.error: libvirt.libvirtError | None = None

    def run(self) -> None:
        try:
            with self.connection.using() as conn:
                self.handle = conn
                self.inside.set()
                self.go.wait(10)
                self.result = conn.lookupByUUIDString(UUID0).name()
        except libvirt.libvirtError as err:
            self.error = err

    def finish(self) -> str | None:
        self.go.set()
        self.join(5)
        assert self.error is None
        return self.result


def inside(connection: Connection) -> Holder:
    holder = Holder(connection)
    holder.start()
    assert holder.inside.wait(5)
    return holder


def in_background(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def is_closed(handle: libvirt.virConnect) -> bool:
    try:
        handle.getURI()
    except libvirt.libvirtError:
        return True
    return False


def test_close_waits_for_the_call_in_flight_which_gets_its_result(tmp_path):
    connection = opened(tmp_path)
    holder = inside(connection)
    closing = in_background(connection.close)
    closing.join(0.3)
    assert closing.is_alive()  # the handle stays open while the call is in flight
    with pytest.raises(libvirt.libvirtError, match="not connected"):
        with connection.using():
            pass  # but no new call starts on it
    assert holder.finish() == "vm0000"
    closing.join(5)
    assert not closing.is_alive()
    assert is_closed(holder.handle)  # closed once the call was done


def test_many_hold_the_handle_at_once_and_close_waits_for_the_last(tmp_path):
    connection = opened(tmp_path)
    first, second = inside(connection), inside(connection)
    assert first.handle is second.handle
    closing = in_background(connection.close)
    assert first.finish() == "vm0000"
    closing.join(0.3)
    assert closing.is_alive() and not is_closed(second.handle)
    assert second.finish() == "vm0000"
    closing.join(5)
    assert not closing.is_alive() and is_closed(second.handle)


def test_a_call_that_never_ends_holds_close_for_a_bounded_time_and_is_not_closed_under(
        tmp_path, monkeypatch):
    monkeypatch.setattr(connection_module, "RELEASE_WAIT_S", 0.3)
    connection = opened(tmp_path)
    holder = inside(connection)
    started = time.monotonic()
    connection.close()
    assert 0.3 <= time.monotonic() - started < 2
    assert not is_closed(holder.handle)  # left open while in use rather than closed under it
    assert holder.finish() == "vm0000"
    assert is_closed(holder.handle)  # the last call to leave closed it


def test_a_reconnect_replaces_the_handle_only_after_the_call_in_flight(tmp_path):
    """The race CI once hit: the reconnect thread closing the lost handle while another thread
    was inside lookupByUUIDString on it."""
    connection = opened(tmp_path)
    try:
        holder = inside(connection)
        # what libvirt's close callback does when the daemon goes away
        connection._on_close(holder.handle, libvirt.VIR_CONNECT_CLOSE_REASON_EOF, None)
        time.sleep(0.5)  # more than the first reconnect delay
        assert connection.status is ConnectionStatus.DISCONNECTED
        with pytest.raises(libvirt.libvirtError, match="not connected"):
            with connection.using():
                pass
        assert not is_closed(holder.handle)
        assert holder.finish() == "vm0000"
        deadline = time.monotonic() + 5
        while connection.status is not ConnectionStatus.CONNECTED:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with connection.using() as conn:
            assert conn is not holder.handle
            assert conn.lookupByUUIDString(UUID0).name() == "vm0000"
        assert is_closed(holder.handle)
    finally:
        connection.close()


def test_readers_on_other_threads_survive_reconnects(tmp_path):
    """The refresher's reads, a stats lane and the list's advice reader, each in a loop on its
    own thread while the handle is replaced again and again: every call gets its answer or
    "not connected", and none crashes the process."""
    connection = opened(tmp_path, count=20)
    uuids = [s.key.uuid for s in connection.list_summaries()]
    sampler = StatsSampler(lambda: [connection])
    stop = threading.Event()
    outcomes: list[str] = []

    def loop(read) -> None:
        while not stop.is_set():
            try:
                read()
                outcomes.append("answered")
            except libvirt.libvirtError as err:
                outcomes.append("not connected" if "not connected" in str(err) else str(err))

    readers = [
        lambda: connection.summary(UUID0),
        lambda: connection.lookup(UUID0).name(),
        lambda: sampler.sample_connection(connection),
        lambda: list(worst_of_domains(connection.using, connection.uri, uuids)),
    ]
    threads = [in_background(lambda read=read: loop(read)) for read in readers * 2]
    try:
        for _ in range(5):
            with connection.using() as conn:
                lost = conn
            connection._on_close(lost, libvirt.VIR_CONNECT_CLOSE_REASON_EOF, None)
            deadline = time.monotonic() + 5
            while not is_closed(lost) or connection.status is not ConnectionStatus.CONNECTED:
                assert time.monotonic() < deadline
                time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        connection.close()
    assert set(outcomes) == {"answered", "not connected"}
