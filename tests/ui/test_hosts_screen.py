"""Several hosts: the list never waits for a slow one, `H` shows each host's state, and hosts
are added, removed and retried there (and saved to, or taken out of, the config file).

Hosts that fail are real: a unix socket that accepts and never answers (tests.helpers
.silent_listener) and a TCP port nobody listens on. Good hosts are libvirt's test driver.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import libvirt
import pytest
from textual import events
from textual.widgets import RadioButton

from kvmtui.screens.host import HostScreen
from kvmtui.screens.host_dialogs import AddHostScreen, RemoveHostScreen, shown_path
from kvmtui.screens.hosts import HostsScreen
from kvmtui.screens.performance import PerformanceScreen
from kvmtui.virt.models import ConnectionStatus
from kvmtui.virt.session import connection as connection_module
from kvmtui.virt.session.config import HostEntry, load_config
from kvmtui.virt.session.config_edit import append_host
from kvmtui.virt.session.demo import demo_fleet_path
from kvmtui.virt.session.uris import version_text
from kvmtui.widgets.counters import LiveTable
from tests.helpers import (
    asking,
    copy_demo_fleet,
    header_text,
    screen_text,
    silent_listener,
    start_app,
    wait_for,
    write_fleet,
)

# connection refused at once: nothing listens on port 1
REFUSED = "qemu+tcp://127.0.0.1:1/system"


@pytest.fixture
def config_file(tmp_path) -> Path:
    return tmp_path / "config.toml"


@pytest.fixture
def started(config_file):
    """start_app, with adding and removing hosts saving to a file of the test's own."""
    apps = []

    def factory(*hosts, **kwargs):
        kwargs.setdefault("config_path", config_file)
        app = start_app(*hosts, **kwargs)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.fleet.close()


@pytest.fixture
def silent_uri():
    # a short directory: a unix socket's path has at most 107 bytes
    directory = tempfile.mkdtemp(prefix="kvmtui-")
    try:
        with silent_listener(Path(directory) / "silent.sock") as uri:
            yield uri
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def labs(tmp_path) -> tuple[str, str]:
    """lab-a: the demo lab (17 VMs, 10 running); lab-b: vm0000..vm0002 (vm0000, vm0002 run)."""
    return copy_demo_fleet(tmp_path, "lab-a.xml"), write_fleet(tmp_path / "lab-b.xml", 3)


# -- reading the screen --------------------------------------------------------------------------

def rows_by_host(app) -> dict[str, set[str]]:
    """host -> names of its VMs in the list, as the Host and Name columns show them."""
    table = app.domain_list.table
    shown: dict[str, set[str]] = {}
    for key in table.shown_keys():
        row = table.row_text(key)
        shown.setdefault(row.get("host", ""), set()).add(row["name"])
    return shown


def host_rows(app) -> dict[str, list[str]]:
    """The hosts overview's rows, by URI: Host, State, VMs, CPU%, Memory, Exits/s, libvirt,
    Hypervisor, URI."""
    return app.screen.query_one("#hosts", LiveTable).row_values()


def texts(screen, selector: str) -> list[str]:
    """What the Static widgets matching selector say (whole, however the screen wraps them)."""
    return [str(w.render()) for w in screen.query(selector)]


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


def key_of(app, name: str, host: str):
    for summary in app.domain_list.domains.values():
        if summary.name == name and summary.host == host:
            return summary.key
    raise KeyError(f"{name} on {host}")


def vm_state(app, name: str, host: str) -> str:
    return app.domain_list.table.row_text(key_of(app, name, host))["state"]


async def select_on(pilot, name: str, host: str) -> None:
    """Put the list's cursor on the VM of that host, with the arrow keys."""
    app = pilot.app
    await pilot.press("home")
    for _ in range(app.domain_list.table.row_count):
        summary = app.domain_list.selected
        if summary is not None and (summary.name, summary.host) == (name, host):
            return
        await pilot.press("down")
    raise AssertionError(f"{name} on {host} is not in the list")


async def open_hosts(pilot) -> HostsScreen:
    await pilot.press("H")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HostsScreen))
    return pilot.app.screen


async def cursor_to_host(pilot, screen: HostsScreen, uri: str) -> None:
    await pilot.press(*["up"] * len(screen.fleet.connections))
    for _ in screen.fleet.connections:
        if screen.selected is not None and screen.selected.uri == uri:
            return
        await pilot.press("down")
    raise AssertionError(f"no row for {uri}")


async def paste(pilot, text: str) -> None:
    """Paste into the focused box, as a user pastes a long URI copied from elsewhere."""
    box = pilot.app.focused
    before = box.value
    pilot.app.post_message(events.Paste(text))
    await wait_for(pilot, lambda: box.value == before + text)


# -- the list does not wait ----------------------------------------------------------------------

async def test_good_hosts_are_usable_while_one_hangs_and_one_refuses(started, labs, silent_uri):
    a, b = labs
    app = started(a, silent_uri, b, REFUSED)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: set(rows_by_host(app)) == {"lab-a", "lab-b"}
                       and len(rows_by_host(app)["lab-a"]) == 17)
        assert rows_by_host(app)["lab-b"] == {"vm0000", "vm0001", "vm0002"}
        # drawn while the silent host is still connecting: the list never waited for it
        assert app.fleet.connection(silent_uri).status is ConnectionStatus.CONNECTING
        await wait_for(pilot, lambda: "127.0.0.1 refused" in header_text(app))
        header = header_text(app)
        assert re.search(r"localhost connecting \d+ s", header), header
        assert "2 of 4 connected: lab-a, lab-b (H)" in header
        assert header.startswith("20 domains · 12 running")
        # the header's clock runs while the host does not answer
        await wait_for(pilot, lambda: re.search(r"localhost connecting [1-9]\d* s",
                                                header_text(app)) is not None)

        await select_on(pilot, "vm0000", "lab-b")
        await pilot.press("p")
        await wait_for(pilot, lambda: vm_state(app, "vm0000", "lab-b") == "paused")
        conn = app.fleet.connection(b).conn
        assert conn.lookupByName("vm0000").state()[0] == libvirt.VIR_DOMAIN_PAUSED
        assert app.fleet.connection(silent_uri).status is ConnectionStatus.CONNECTING


async def test_with_no_host_answering_the_list_says_what_it_waits_for(started, silent_uri):
    app = started(silent_uri, REFUSED)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: "127.0.0.1 refused" in header_text(app))
        await wait_for(pilot, lambda: "no VMs yet: waiting for localhost, 127.0.0.1 (H shows why)"
                       in screen_text(app))
        assert "0 of 2 connected" in header_text(app)
        # H shows why: libvirt's words for the refused host
        hosts = await open_hosts(pilot)
        await cursor_to_host(pilot, hosts, REFUSED)
        await wait_for(pilot, lambda: "unable to connect to server at '127.0.0.1:1': Connection "
                       "refused" in screen_text(app))
        assert re.fullmatch(r"connecting \d+ s", host_rows(app)[silent_uri][1])


# -- the overview --------------------------------------------------------------------------------

async def test_hosts_overview_rows_cursor_and_host_view(started, labs):
    a, b = labs
    app = started(a, b, REFUSED)
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(pilot, lambda: set(rows_by_host(app)) == {"lab-a", "lab-b"}
                       and app.fleet.connection(REFUSED).status is ConnectionStatus.REFUSED)
        await select_on(pilot, "vm0001", "lab-b")
        screen = await open_hosts(pilot)
        await wait_for(pilot, lambda: len(host_rows(app)) == 3)
        rows = host_rows(app)
        libvirt_version = version_text(libvirt.getVersion())
        # VMs: running (as the header counts them) of all
        for uri, name in ((a, "lab-a"), (b, "lab-b")):
            conn = app.fleet.connection(uri).conn
            active = len(conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING))
            total = len(conn.listAllDomains(0))
            assert rows[uri][:3] == [name, "connected", f"{active}/{total}"]
        assert rows[b][2] == "2/3"
        for uri in (a, b):
            assert rows[uri][6] == libvirt_version  # '9.0.0', as virsh version says it
            assert rows[uri][7].startswith("TEST")  # the test driver's hypervisor
            assert rows[uri][8] == uri
        name, state, vms, *_, lib, hypervisor, uri = rows[REFUSED]
        assert name == "127.0.0.1" and uri == REFUSED
        assert re.fullmatch(r"refused · retrying (in \d+ s|now)", state), state
        assert (vms, lib, hypervisor) == ("-", "", "")
        assert "Hosts · 2 of 3 connected" in screen_text(app)
        # the cursor starts on the host of the VM selected in the list
        assert screen.selected.uri == b

        # enter: that host's view, titled with its name
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
        assert app.screen.uri == b
        assert f"Host lab-b · {b}" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)

        # the refused host: libvirt's own words below the table; enter says why it cannot open
        await cursor_to_host(pilot, screen, REFUSED)
        await wait_for(pilot, lambda: "Connection refused" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(m.startswith("127.0.0.1 is not connected: refused")
                                          for m in notifications(app)))
        assert app.screen is screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)


# -- adding --------------------------------------------------------------------------------------

async def open_add(pilot) -> AddHostScreen:
    await pilot.press("a")
    await wait_for(pilot, lambda: asking(pilot.app, AddHostScreen))
    return pilot.app.screen


async def test_add_a_host_and_save_it(started, labs, config_file):
    a, b = labs
    app = started(a)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: len(app.domain_list.domains) == 17)
        assert "Host" not in app.domain_list.table.column_labels()
        hosts = await open_hosts(pilot)
        dialog = await open_add(pilot)
        save = dialog.query_one("#save")
        assert str(save.label) == f"save it to {shown_path(config_file)}" and not save.value
        await paste(pilot, b)
        await pilot.press("tab", "tab", "tab", "space")  # name, read-only, save: checked
        await pilot.press("tab", "tab", "enter")  # Cancel, Add
        await wait_for(pilot, lambda: app.screen is hosts)
        await wait_for(pilot, lambda: host_rows(app).get(b, [""])[:3]
                       == ["lab-b", "connected", "2/3"])
        assert hosts.selected.uri == b  # the cursor is on the new host
        assert any(m.startswith("Added host lab-b") and str(config_file) in m
                   for m in notifications(app))
        assert load_config(config_file).hosts == (HostEntry("lab-b", b, False),)

        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        assert "Host" in app.domain_list.table.column_labels()
        assert rows_by_host(app)["lab-b"] == {"vm0000", "vm0001", "vm0002"}
        assert len(rows_by_host(app)["lab-a"]) == 17
        assert "hosts: lab-a, lab-b (H)" in header_text(app)


async def test_add_refuses_a_bad_or_taken_uri_and_saves_nothing_unasked(started, labs,
                                                                         config_file, tmp_path):
    a, _ = labs
    app = started(a)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: len(app.domain_list.domains) == 17)
        hosts = await open_hosts(pilot)
        dialog = await open_add(pilot)
        await pilot.press(*"kvm1")
        await pilot.press("enter")
        error = dialog.query_one("#error")
        await wait_for(pilot, lambda: str(error.render()) != "")
        assert str(error.render()) == \
            "'kvm1' is not a libvirt URI: e.g. qemu+ssh://root@kvm1/system or qemu:///system"
        assert "'kvm1' is not a libvirt URI" in screen_text(app)
        assert app.screen is dialog and list(app.fleet.connections) == [a]

        # the same host again, under another name
        await pilot.press("ctrl+u")  # clears the box
        await paste(pilot, a)
        await pilot.press("tab", *"again", "enter")
        await wait_for(pilot, lambda: str(error.render()) == f"{a} is already in the list")
        assert app.screen is dialog and list(app.fleet.connections) == [a]

        # a name taken by another host
        c = write_fleet(tmp_path / "lab-c.xml", 2)
        assert app.focused is dialog.query_one("#uri")  # back on the URI to correct it
        await pilot.press("ctrl+u")
        await paste(pilot, c)
        await pilot.press("tab", "ctrl+u", *"lab-a", "enter")
        await wait_for(pilot, lambda: "already named lab-a" in str(error.render()))
        assert list(app.fleet.connections) == [a]

        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is hosts)
        assert list(app.fleet.connections) == [a]
        assert len(host_rows(app)) == 1

        # save unchecked: added for this session only, the file is not written
        await open_add(pilot)
        await paste(pilot, c)
        await pilot.press("enter")
        await wait_for(pilot, lambda: host_rows(app).get(c, [""])[:2] == ["lab-c", "connected"])
        assert not config_file.exists()


# -- removing ------------------------------------------------------------------------------------

async def answer(pilot, question_type, *keys: str) -> None:
    """Wait until the question can be answered (typed after it was seen), then answer."""
    await wait_for(pilot, lambda: asking(pilot.app, question_type))
    await pilot.press(*keys)


async def test_remove_hosts_for_the_session_or_from_the_config_file(started, tmp_path,
                                                                    config_file):
    a = copy_demo_fleet(tmp_path, "lab-a.xml")
    b = write_fleet(tmp_path / "lab-b.xml", 3)
    c = write_fleet(tmp_path / "lab-c.xml", 2)
    for entry in (HostEntry("alpha", a), HostEntry("beta", b), HostEntry("gamma", c)):
        append_host(config_file, entry)
    app = started(*load_config(config_file).hosts)
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(pilot, lambda: set(rows_by_host(app)) == {"alpha", "beta", "gamma"})
        await select_on(pilot, "vm0001", "gamma")
        hosts = await open_hosts(pilot)
        assert hosts.selected.uri == c

        # n and escape change nothing
        for key in ("n", "escape"):
            await pilot.press("D")
            await answer(pilot, RemoveHostScreen, key)
            await wait_for(pilot, lambda: app.screen is hosts)
        assert list(app.fleet.connections) == [a, b, c]
        assert len(app.domain_list.domains) == 22

        # gamma, from the config file too (2)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, RemoveHostScreen))
        assert texts(app.screen, ".question") == [f"Remove host gamma ({c})?"]
        assert "its 2 VMs leave the list" in texts(app.screen, ".risk")[0]
        assert [str(r.label) for r in app.screen.query(RadioButton)] == [
            "1  for this session (it is back at the next start)",
            f"2  and from {shown_path(config_file)}"]
        await answer(pilot, RemoveHostScreen, "2", "y")
        await wait_for(pilot, lambda: app.screen is hosts)
        await wait_for(pilot, lambda: "gamma" not in rows_by_host(app))
        assert c not in app.fleet.connections and c not in host_rows(app)
        assert [h.name for h in load_config(config_file).hosts] == ["alpha", "beta"]
        assert any(m.startswith("Removed host gamma; nothing on it changed, and it is no "
                                "longer in") for m in notifications(app))
        assert not [s for s in app.domain_list.domains.values() if s.key.uri == c]

        # beta, for this session (1): the file keeps it; one host left, no Host column
        await cursor_to_host(pilot, hosts, b)
        await pilot.press("delete")
        await answer(pilot, RemoveHostScreen, "1", "y")
        await wait_for(pilot, lambda: app.screen is hosts)
        await wait_for(pilot, lambda: set(host_rows(app)) == {a})
        assert [h.name for h in load_config(config_file).hosts] == ["alpha", "beta"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        assert "Host" not in app.domain_list.table.column_labels()
        assert len(app.domain_list.domains) == 17
        assert {s.key.uri for s in app.domain_list.domains.values()} == {a}
        # the header names the one host left as it does when there was only ever one
        assert "test:///…/lab-a.xml" in header_text(app)
        assert "beta" not in header_text(app)
        # the hosts removed were left alone: the remaining host still acts
        await select_on(pilot, "win10", "alpha")
        await pilot.press("p")
        await wait_for(pilot, lambda: app.fleet.connection(a).conn.lookupByName("win10")
                       .state()[0] == libvirt.VIR_DOMAIN_PAUSED)


async def test_remove_a_host_not_in_the_config_file_asks_only_yes_or_no(started, labs,
                                                                        config_file):
    a, b = labs
    append_host(config_file, HostEntry("lab-a", a))
    app = started(a, b)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: set(rows_by_host(app)) == {"lab-a", "lab-b"})
        hosts = await open_hosts(pilot)
        await cursor_to_host(pilot, hosts, b)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, RemoveHostScreen))
        assert "its 3 VMs leave the list" in texts(app.screen, ".risk")[0]
        assert not app.screen.query(RadioButton)  # nothing to choose: it is not in the file
        await answer(pilot, RemoveHostScreen, "y")
        await wait_for(pilot, lambda: set(host_rows(app)) == {a})
        assert load_config(config_file).hosts == (HostEntry("lab-a", a),)


async def test_a_vm_screen_of_a_removed_host_goes_back_to_the_list(started, labs):
    # No key removes a host while a VM's screen is open (H is on the list); the fleet itself
    # is what the hosts overview calls.
    a, b = labs
    app = started(a, b)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: set(rows_by_host(app)) == {"lab-a", "lab-b"})
        await select_on(pilot, "vm0000", "lab-b")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, PerformanceScreen))
        app.fleet.remove(b)
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        assert any("Host lab-b was removed: vm0000 is no longer shown" in m
                   for m in notifications(app))
        await wait_for(pilot, lambda: set(rows_by_host(app)) == {""})  # one host: no column
        assert len(app.domain_list.domains) == 17


# -- retrying ------------------------------------------------------------------------------------

async def test_r_retries_a_refused_host_at_once(started, labs, monkeypatch):
    # the next attempt a minute away: only `r` can make one happen within the test
    monkeypatch.setattr(connection_module, "FIRST_CONNECT_BACKOFF_S", (60.0,))
    a, _ = labs
    app = started(a, REFUSED)
    refused = app.fleet.connection(REFUSED)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: refused.status is ConnectionStatus.REFUSED)
        first = refused.state
        assert first.retry_at is not None and first.retry_at - first.since >= 59
        hosts = await open_hosts(pilot)
        await cursor_to_host(pilot, hosts, REFUSED)
        await wait_for(pilot, lambda: "retrying in 60 s" in host_rows(app)[REFUSED][1]
                       or "retrying in 59 s" in host_rows(app)[REFUSED][1])
        await pilot.press("r")
        await wait_for(pilot, lambda: refused.state.since > first.since
                       and refused.status is ConnectionStatus.REFUSED)
        assert refused.state.retry_at > first.retry_at
        assert "Retrying 127.0.0.1 now…" in notifications(app)
        # r means nothing on a connected host
        await cursor_to_host(pilot, hosts, a)
        before = app.fleet.connection(a).state
        await pilot.press("r")
        await pilot.pause(0.1)
        assert app.fleet.connection(a).state is before
        assert notifications(app).count("Retrying 127.0.0.1 now…") == 1


# -- read-only per host --------------------------------------------------------------------------

async def test_a_host_configured_read_only_changes_nothing_while_the_other_acts(started, labs):
    a, b = labs
    app = started(HostEntry("ro-lab", a, readonly=True), HostEntry("rw-lab", b))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: set(rows_by_host(app)) == {"ro-lab", "rw-lab"})
        assert "read-only" not in header_text(app)  # not every host is
        await select_on(pilot, "win10", "ro-lab")
        for key in ("p", "d", "F"):
            await pilot.press(key)
        await wait_for(pilot, lambda: len([m for m in notifications(app)
                                           if "configured read-only" in m]) == 3)
        assert "Read-only: host ro-lab is configured read-only, so it cannot pause win10." \
            in notifications(app)
        assert app.screen is app.domain_list  # F asked nothing
        ro = app.fleet.connection(a).conn
        assert ro.lookupByName("win10").state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert not app.action_log.records

        await select_on(pilot, "vm0000", "rw-lab")
        await pilot.press("p")
        await wait_for(pilot, lambda: vm_state(app, "vm0000", "rw-lab") == "paused")
        assert app.fleet.connection(b).conn.lookupByName("vm0000").state()[0] == \
            libvirt.VIR_DOMAIN_PAUSED

        # the overview says which host is read-only
        hosts = await open_hosts(pilot)
        await cursor_to_host(pilot, hosts, a)
        await wait_for(pilot, lambda: "ro-lab · " in screen_text(app)
                       and " · read-only" in screen_text(app))


# -- a picture -----------------------------------------------------------------------------------

# URIs are on screen: the files live at a fixed path, so the picture is the same on every run
SNAPSHOT_DIR = Path("/tmp/kvmtui-hosts-snapshot")


def _fixed_fleet(name: str, write) -> str:
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    target = SNAPSHOT_DIR / name
    fd, temp = tempfile.mkstemp(dir=SNAPSHOT_DIR, suffix=".tmp")
    os.close(fd)
    write(Path(temp))
    os.replace(temp, target)  # whole, even with another run writing the same file
    return f"test://{target}"


@pytest.fixture
def overview_app(tmp_path):
    a = _fixed_fleet("lab-a.xml", lambda path: shutil.copyfile(demo_fleet_path(), path))
    b = _fixed_fleet("lab-b.xml", lambda path: write_fleet(path, 3))
    app = start_app(a, b, config_path=tmp_path / "config.toml")
    yield app
    app.fleet.close()


@pytest.mark.parametrize("size", [(80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_hosts_overview(snap_compare, overview_app, size):
    app = overview_app

    async def open_overview(pilot):
        await wait_for(pilot, lambda: len(app.domain_list.domains) == 20)
        await pilot.press("home")  # the first VM by name, lab-a's, whichever host answered first
        await pilot.press("H")
        await wait_for(pilot, lambda: isinstance(app.screen, HostsScreen)
                       and len(host_rows(app)) == 2)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=open_overview)


def test_a_long_config_path_is_cut_in_the_middle_never_its_file_name(tmp_path):
    deep = tmp_path.joinpath(*["a-rather-long-directory"] * 6) / "kvmtui.toml"
    shown = shown_path(deep)
    assert len(shown) <= 52 and shown.endswith("…/kvmtui.toml")
    assert shown_path(Path.home() / ".config" / "kvmtui" / "config.toml") == \
        "~/.config/kvmtui/config.toml"
