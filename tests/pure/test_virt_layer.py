"""The virt layer alone: no Textual, events delivered as dataclasses, filters and sorts."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
from pathlib import Path

import libvirt
import pytest

from kvmtui.virt.domain.filtering import FilterError, parse_filter, sort_key
from kvmtui.virt.domain.power import PowerAction, available
from kvmtui.virt.models import (
    DomainEvent,
    DomainRemoved,
    DomainState,
    DomainUpdated,
)
from kvmtui.virt.session.errors import connect_hint
from kvmtui.virt.session.fleet import ConnectFailed, Fleet
from kvmtui.virt.session.uris import display_uri, host_label
from tests.pure.factories import summary

VIRT = Path(__file__).resolve().parents[2] / "kvmtui" / "virt"


def test_virt_package_never_imports_textual_in_source():
    for path in VIRT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("textual", "kvmtui.app", "kvmtui.screens",
                                            "kvmtui.widgets", "kvmtui.messages")), \
                    f"{path.name} imports {name}"


def test_virt_package_imports_without_textual_at_run_time():
    modules = sorted("kvmtui." + ".".join(p.relative_to(VIRT.parent).with_suffix("").parts)
                     for p in VIRT.rglob("*.py") if p.stem != "__init__")
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "bad = [m for m in sys.modules if m.split('.')[0] == 'textual']\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_filter_terms_combine():
    rows = [summary("win10", DomainState.RUNNING), summary("win7", DomainState.SHUTOFF, id=None),
            summary("db", DomainState.RUNNING)]
    def names(text: str) -> list[str]:
        return [s.name for s in rows if parse_filter(text)(s)]
    assert names("win") == ["win10", "win7"]
    assert names("WIN state:running") == ["win10"]
    assert names("state:shut-off") == ["win7"]
    assert names("state:off") == ["win7"]
    assert names("-win") == ["db"]
    assert names("state:run -db") == ["win10"]
    assert names("") == ["win10", "win7", "db"]


@pytest.mark.parametrize("text,message", [("state:bogus", "unknown state 'bogus'"),
                                          ("colour:red", "unknown filter field 'colour:'")])
def test_bad_filter_terms_raise_one_line(text, message):
    with pytest.raises(FilterError, match=message):
        parse_filter(text)


def test_sorts_are_total_and_stable():
    rows = [summary("b", DomainState.SHUTOFF, id=None), summary("a", DomainState.RUNNING, id=7),
            summary("c", DomainState.RUNNING, id=3)]
    assert [s.name for s in sorted(rows, key=sort_key("state"))] == ["a", "c", "b"]
    assert [s.name for s in sorted(rows, key=sort_key("id"))] == ["c", "a", "b"]


def test_actions_follow_the_state():
    assert available(summary("x", DomainState.SHUTOFF, id=None)) == {PowerAction.START}
    assert available(summary("x", DomainState.SHUTOFF, id=None, managed_save=True)) == {
        PowerAction.RESTORE}
    assert PowerAction.SHUTDOWN in available(summary("x", DomainState.BLOCKED))
    assert available(summary("x", DomainState.SHUTDOWN)) == {PowerAction.FORCE_OFF}


def test_state_words_are_virshs():
    assert [s.word for s in DomainState] == ["no state", "running", "idle", "paused",
                                             "in shutdown", "shut off", "crashed", "pmsuspended"]


def test_uri_labels():
    assert host_label("qemu+ssh://root@kvm1.lab/system") == "kvm1.lab"
    assert host_label("qemu:///system") == "localhost"
    assert host_label("test:///srv/fleets/lab.xml") == "lab"
    assert display_uri("test:///srv/fleets/lab.xml") == "test:///…/lab.xml"
    assert display_uri("qemu:///system") == "qemu:///system"


def test_connect_hints():
    def err(text: str) -> libvirt.libvirtError:
        e = libvirt.libvirtError(text)
        e.err = (libvirt.VIR_ERR_SYSTEM_ERROR, 0, text, 0, "", "", "", 0, 0)
        return e

    assert "qemu:///session" in connect_hint("qemu:///system", err(
        "Failed to connect socket to '/run/libvirt/libvirt-sock': Permission denied"))
    assert "systemctl start" in connect_hint("qemu:///system", err(
        "Failed to connect socket to '/run/libvirt/libvirt-sock': No such file or directory"))


def test_fleet_reports_events_as_dataclasses(tmp_path):
    from tests.helpers import write_fleet

    uri = write_fleet(tmp_path / "f.xml", 4)
    fleet = Fleet([uri])
    fleet.open_all()
    try:
        got: list = []
        done = threading.Event()

        def sink(change):
            got.append(change)
            if isinstance(change, (DomainUpdated, DomainRemoved)):
                done.set()

        fleet.attach(sink)
        summaries = {s.name: s for s in fleet.list_summaries()}
        assert summaries["vm0000"].state is DomainState.RUNNING
        assert summaries["vm0001"].state is DomainState.SHUTOFF
        fleet.domain(summaries["vm0000"].key).suspend()
        assert done.wait(5)
        events = [c for c in got if isinstance(c, DomainEvent)]
        assert events and events[0].detail == "suspended: paused"
        updated = [c for c in got if isinstance(c, DomainUpdated)]
        assert updated[-1].summary.state is DomainState.PAUSED
        assert updated[-1].summary.key == summaries["vm0000"].key
    finally:
        fleet.close()


def test_changes_before_attach_are_not_lost(tmp_path):
    from tests.helpers import write_fleet

    uri = write_fleet(tmp_path / "f.xml", 2)
    fleet = Fleet([uri])
    fleet.open_all()
    try:
        dom = fleet.connection(uri).conn.lookupByName("vm0000")
        dom.suspend()
        import time
        time.sleep(0.3)
        got: list = []
        fleet.attach(got.append)
        assert any(isinstance(c, DomainUpdated) and c.summary.state is DomainState.PAUSED
                   for c in got)
    finally:
        fleet.close()


def test_open_failure_names_the_uri(tmp_path):
    fleet = Fleet([f"test://{tmp_path}/missing.xml"])
    with pytest.raises(ConnectFailed) as info:
        fleet.open_all()
    assert info.value.uri.endswith("missing.xml")


def test_reconnect_attempts_are_never_more_than_a_second_apart():
    """A daemon that accepts again is reached at the next attempt: however long the host was
    away, that is at most a second later (a refused local connect costs nothing to retry)."""
    from kvmtui.virt.session import connection

    assert max(connection.RECONNECT_BACKOFF_S) <= 1.0
    assert connection.RECONNECT_BACKOFF_S[0] <= 0.25  # a daemon restarted at once is back at once
    delays = [connection.reconnect_delay(attempt) for attempt in range(500)]
    assert max(delays) <= 1.0  # the last wait repeats, it does not grow
    assert min(delays) > 0  # and a host that stays away is not hammered
