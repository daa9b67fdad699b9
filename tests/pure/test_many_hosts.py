"""Several hosts, none waiting for another: connection states in words, failures told apart
with libvirt's own errors, retries, names, and sampling lanes that a slow host cannot hold up.

Everything here talks to real libvirt: the test driver, and ports or sockets where nothing
answers as a real unreachable host would."""

from __future__ import annotations

import threading
import time

import libvirt
import pytest

from kvmtui.virt.models import ConnectionChanged, ConnectionRemoved, ConnectionStatus
from kvmtui.virt.perf.stats import StatsSampler
from kvmtui.virt.session.config import HostEntry
from kvmtui.virt.session.connection import Connection, first_connect_delay
from kvmtui.virt.session.errors import failure_status
from kvmtui.virt.session.fleet import Fleet
from kvmtui.virt.session.hoststate import state_words
from tests.helpers import copy_demo_fleet

REFUSED = "qemu+tcp://127.0.0.1:1/system"  # nothing listens on port 1: refused at once


def test_state_words_say_how_long_and_when_next():
    uri = "qemu+ssh://root@kvm1/system"
    now = 1000.0
    assert state_words(ConnectionChanged(uri, ConnectionStatus.CONNECTED, "connected", 990.0),
                       now) == "connected"
    assert state_words(ConnectionChanged(uri, ConnectionStatus.CONNECTING, "", 988.4),
                       now) == "connecting 11 s (no answer yet)"
    refused = ConnectionChanged(uri, ConnectionStatus.REFUSED, "Connection refused", 999.0,
                                retry_at=1003.2)
    assert state_words(refused, now) == "refused: Connection refused · retrying in 4 s"
    assert state_words(refused, now, reason=False) == "refused · retrying in 4 s"
    assert state_words(refused, 1004.0, reason=False) == "refused · retrying now"
    lost = ConnectionChanged(uri, ConnectionStatus.DISCONNECTED, "keepalive timeout", 999.0,
                             retry_at=1000.5)
    assert state_words(lost, now) == "lost: keepalive timeout · reconnecting in 1 s"


def _error(uri: str) -> libvirt.libvirtError:
    with pytest.raises(libvirt.libvirtError) as caught:
        libvirt.open(uri)
    return caught.value


def test_a_closed_port_and_a_missing_socket_are_refused(tmp_path):
    assert failure_status(_error(REFUSED)) is ConnectionStatus.REFUSED
    missing = f"qemu+unix:///system?socket={tmp_path}/no-daemon-here"
    assert failure_status(_error(missing)) is ConnectionStatus.REFUSED


def test_a_name_that_does_not_resolve_is_unreachable():
    err = _error("qemu+tcp://no-such-host.invalid/system")
    assert failure_status(err) is ConnectionStatus.UNREACHABLE


def _recorder():
    seen: list = []
    arrived = threading.Condition()

    def on_change(change):
        with arrived:
            seen.append(change)
            arrived.notify_all()
    return seen, arrived, on_change


def test_a_refused_host_says_so_with_libvirts_words_and_when_it_retries():
    seen, arrived, on_change = _recorder()
    connection = Connection(REFUSED, on_change=on_change)
    connection.start()
    try:
        with arrived:
            assert arrived.wait_for(lambda: any(c.status is ConnectionStatus.REFUSED
                                                for c in seen), 10)
        failed = next(c for c in seen if c.status is ConnectionStatus.REFUSED)
        assert seen[0].status is ConnectionStatus.CONNECTING
        assert "Connection refused" in failed.reason
        assert failed.retry_at is not None
        assert failed.retry_at - failed.since == pytest.approx(first_connect_delay(1), abs=0.05)
        # 'r' in the hosts overview: the next attempt comes now, not after the back-off
        connection.retry_now()
        with arrived:
            assert arrived.wait_for(lambda: sum(c.status is ConnectionStatus.REFUSED
                                                for c in seen) >= 2, 0.9)
        assert connection.last_error is not None and not connection.failed_listing
    finally:
        connection.close()


def test_the_back_off_grows_to_thirty_seconds():
    assert [first_connect_delay(n) for n in range(1, 8)] == [1, 2, 5, 10, 30, 30, 30]


def test_hosts_are_named_as_configured_or_after_their_uri_told_apart(tmp_path):
    a = copy_demo_fleet(tmp_path, "a.xml")
    fleet = Fleet([HostEntry("east", a), "qemu+unix:///system?socket=/x/1",
                   "qemu+unix:///system?socket=/x/2"])
    assert [c.host for c in fleet.connections.values()] == ["east", "localhost", "localhost-2"]


def test_adding_and_removing_a_host_at_run_time(tmp_path):
    a, b = copy_demo_fleet(tmp_path, "a.xml"), copy_demo_fleet(tmp_path, "b.xml")
    seen, arrived, on_change = _recorder()
    fleet = Fleet([a])
    fleet.attach(on_change)
    try:
        fleet.start()
        added = fleet.add(HostEntry("lab-b", b))
        with pytest.raises(ValueError, match="already open as lab-b"):
            fleet.add(HostEntry("other", b))
        with pytest.raises(ValueError, match="already named lab-b"):
            fleet.add(HostEntry("lab-b", "test:///default"))
        with arrived:
            assert arrived.wait_for(lambda: added.status is ConnectionStatus.CONNECTED, 10)
        assert fleet.wait_answered(10)
        assert len(fleet.summaries()) == 34  # both labs listed, from what they said
        fleet.remove(b)
        with arrived:
            assert arrived.wait_for(lambda: ConnectionRemoved(b, "lab-b") in seen, 5)
        assert fleet.uris == [a]
    finally:
        fleet.close()


class SlowConnection:
    """A real test-driver connection whose stats call takes `delay` s: a slow remote host."""

    def __init__(self, uri: str, delay: float) -> None:
        self.uri = uri
        self._conn = libvirt.openReadOnly(uri)
        self.delay = delay

    @property
    def conn(self):
        return self

    def getAllDomainStats(self, *args):
        time.sleep(self.delay)
        return self._conn.getAllDomainStats(*args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_slow_host_does_not_stretch_a_fast_hosts_ticks(tmp_path):
    fast = SlowConnection(copy_demo_fleet(tmp_path, "fast.xml"), 0.0)
    slow = SlowConnection(copy_demo_fleet(tmp_path, "slow.xml"), 5.0)
    ticks: list = []
    arrived = threading.Condition()

    def on_tick(tick):
        with arrived:
            ticks.append(tick.uri)
            arrived.notify_all()

    sampler = StatsSampler(lambda: [fast, slow], interval=0.2, on_tick=on_tick)
    sampler.start()
    try:
        # five fast ticks come while the slow host is still inside its first call
        with arrived:
            assert arrived.wait_for(lambda: ticks.count(fast.uri) >= 5, 4)
        assert slow.uri not in ticks
    finally:
        sampler.stop(wait=True)
