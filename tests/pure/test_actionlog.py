"""The action log merges what kvmtui did and what libvirt reported, newest first, in words."""

from __future__ import annotations

import itertools

from kvmtui.virt.domain.actionlog import ActionLog
from kvmtui.virt.models import (
    ConnectionChanged,
    ConnectionStatus,
    DomainEvent,
    DomainKey,
    DomainRemoved,
)

URI = "test:///tmp/x/lab.xml"
DB1 = DomainKey(URI, "00000000-0000-4000-8000-000000000001")
WEB = DomainKey(URI, "00000000-0000-4000-8000-000000000002")


def ticking_log() -> ActionLog:
    """A log whose clock says 12:00:00, 12:00:01, … (UTC, set by conftest)."""
    seconds = itertools.count(1_700_049_600)
    return ActionLog(clock=lambda: float(next(seconds)))


def test_actions_and_events_merge_newest_first_in_words():
    log = ticking_log()
    pause = log.start(DB1, "db1", "pause", confirmed=False)
    log.observe(DomainEvent(DB1, "db1", "lifecycle", "suspended: paused", lifecycle=3))
    log.finish(pause, None)
    off = log.start(WEB, "web", "force_off", confirmed=True)
    log.finish(off, "Requested operation is not valid: domain is not running")
    delete = log.start(DB1, "db1", "snapshot-delete", confirmed=True, snapshot="s1",
                       detail="this")
    log.observe(ConnectionChanged(URI, ConnectionStatus.DISCONNECTED, "keepalive timeout"))

    rows = [(e.time_text, e.vm, e.host, e.summary, e.message) for e in log.entries()]
    assert rows == [
        ("12:00:04", "", "lab", "connection lost", "keepalive timeout"),
        ("12:00:03", "db1", "lab", "snapshot-delete 's1' (children kept): under way…", ""),
        ("12:00:02", "web", "lab", "force off: failed",
         "Requested operation is not valid: domain is not running"),
        ("12:00:01", "db1", "lab", "suspended (paused)", ""),
        ("12:00:00", "db1", "lab", "pause: done", ""),
    ]
    assert [e.problem for e in log.entries()] == [True, False, True, False, False]
    assert next(iter(log.entries())).where == "test:///…/lab.xml"
    log.finish(delete, None)
    assert [e.summary for e in log.entries()][1] == "snapshot-delete 's1' (children kept): done"


def test_rereads_are_not_events_and_the_connection_coming_back_is():
    log = ticking_log()
    log.observe(DomainRemoved(DB1, "db1"))  # follows the 'undefined' event: not one itself
    assert list(log.entries()) == []
    log.observe(ConnectionChanged(URI, ConnectionStatus.DISCONNECTED, "retry 2: no route"))
    log.observe(ConnectionChanged(URI, ConnectionStatus.CONNECTED, "reconnected"))
    assert [(e.summary, e.message) for e in log.entries()] == [
        ("connection back", "reconnected"), ("reconnect failed", "retry 2: no route")]


def test_the_filter_finds_a_vm_a_host_what_or_the_result():
    log = ticking_log()
    log.finish(log.start(DB1, "db1", "pause", confirmed=False), None)
    log.finish(log.start(WEB, "web", "reset", confirmed=True), "unsupported")
    log.observe(DomainEvent(WEB, "web", "agent", "connected"))

    def found(text: str) -> list[str]:
        return [f"{e.vm} {e.summary}" for e in log.entries() if e.matches(text)]

    assert found("DB1") == ["db1 pause: done"]
    assert found("failed") == ["web reset: failed"]
    assert found("agent") == ["web guest agent connected"]
    assert len(found("lab")) == 3 and len(found("")) == 3


def test_listeners_learn_of_every_entry_and_every_end_and_the_store_is_bounded():
    log = ActionLog(event_limit=3, clock=lambda: 0.0)
    heard: list[int] = []

    def listener() -> None:
        heard.append(log.version)

    log.listen(listener)
    record = log.start(DB1, "db1", "start", confirmed=False)
    log.finish(record, None)
    for i in range(5):
        log.observe(DomainEvent(DB1, "db1", "device-added", f"net{i}"))
    assert heard == [1, 2, 3, 4, 5, 6, 7]
    assert [e.what for e in log.entries()] == [
        "device added: net4", "device added: net3", "device added: net2", "start"]
    log.unlisten(listener)
    log.observe(DomainEvent(DB1, "db1", "reboot", "rebooted"))
    assert len(heard) == 7


def test_hosts_are_named_as_configured_and_a_removed_host_keeps_its_name():
    from kvmtui.virt.models import ConnectionRemoved

    names = {URI: "kvm-east"}
    log = ActionLog()
    log.name_of = names.get
    log.observe(ConnectionChanged(URI, ConnectionStatus.REFUSED, "Connection refused"))
    log.observe(ConnectionChanged(URI, ConnectionStatus.REFUSED, "Connection refused"))
    (entry,) = log.entries()  # the same failure, retried, is one line
    assert (entry.host, entry.what, entry.problem) == ("kvm-east", "connect refused", True)
    log.observe(ConnectionRemoved(URI, "kvm-east"))
    names.clear()  # gone from the fleet
    assert [e.host for e in log.entries()] == ["kvm-east", "kvm-east"]
    assert next(log.entries()).what == "host removed"
