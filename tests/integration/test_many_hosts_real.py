"""Four hosts at once, for real: two private libvirt daemons, one host that accepts and never
answers, and one that refuses (a closed TCP port).

The two daemons' VMs are listed and usable while the other two are still `connecting` and
`refused`; the header and the hosts overview (`H`) say which is which; another client's change
on the second daemon reaches its row; and `q` leaves at once although one host never answered,
both in the test's app and in the real `kvmtui` process in a pseudo-terminal.
What really happened is checked on each daemon's own socket. The guests are firmware only
(nothing to boot), one per daemon, shared by the module: each test first puts them in the
state it needs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select as select_fds
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import libvirt
import pytest

from kvmtui.app import KvmApp
from kvmtui.screens.hosts import HostsScreen
from kvmtui.virt.models import ConnectionStatus, DomainState
from kvmtui.virt.session.fleet import Fleet
from kvmtui.widgets.counters import LiveTable
from tests.helpers import SilentHost, screen_text, select, wait_for
from tests.integration.conftest import Hypervisor

RUNNING, PAUSED, SHUTOFF = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED,
                            libvirt.VIR_DOMAIN_SHUTOFF)

# the names kvmtui gives the four URIs, in the order they are given (none is configured)
FIRST, SECOND, SILENT, REFUSED = "localhost", "localhost-2", "localhost-3", "127.0.0.1"
REFUSED_URI = "qemu+tcp://127.0.0.1:1/system"  # port 1: nothing listens, the kernel says no
SIZE = (200, 30)  # wide enough for the header's four hosts and every column of the overview
WAIT_S = 10  # a generous bound for anything the two local daemons do; never a measure


@pytest.fixture
def silent(tmp_path_factory):
    host = SilentHost(tmp_path_factory.mktemp("silent") / "sock")
    yield host
    host.close()


@pytest.fixture(scope="module")
def guests(hypervisor, second_hypervisor):
    """One firmware guest on each daemon (the first's name keeps the session daemon's
    'firmware' prefix, which test_private_daemon expects of every guest there)."""
    pair = (hypervisor.define_firmware_guest("firmware-many1"),
            second_hypervisor.define_firmware_guest("many2"))
    yield pair
    # side by side: destroying a running QEMU takes libvirt a second or two
    removals = [threading.Thread(target=guest.remove) for guest in pair]
    for thread in removals:
        thread.start()
    for thread in removals:
        thread.join(60)


@pytest.fixture
def uris(hypervisor, second_hypervisor, silent) -> list[str]:
    return [hypervisor.uri, second_hypervisor.uri, silent.uri, REFUSED_URI]


@contextlib.asynccontextmanager
async def running_fleet(uris: list[str], config_dir: Path, size: tuple[int, int] = SIZE):
    """kvmtui on several URIs as its command line starts it: every host connects on its own
    thread and the UI starts at once, with whatever has answered (usually nothing yet)."""
    fleet = Fleet(uris)
    fleet.start()
    app = KvmApp(fleet, fleet.summaries(), config_path=config_dir / "config.toml")
    try:
        async with app.run_test(size=size) as pilot:
            yield app, pilot
    finally:
        fleet.close()


def put(hv: Hypervisor, guest, state: int) -> None:
    """Put the guest in `state` through its daemon's own socket (not kvmtui's connection)."""
    now = guest.state()
    if now == state:
        return
    if state == SHUTOFF:
        hv.virsh("destroy", guest.name)
    elif now == SHUTOFF:
        hv.virsh("start", guest.name, *(["--paused"] if state == PAUSED else []))
    else:
        hv.virsh("suspend" if state == PAUSED else "resume", guest.name)
    assert guest.state() == state


def daemon_states(hv: Hypervisor, host: str) -> dict[tuple[str, str], str]:
    """(host, VM) -> state of every domain of the daemon, as its own socket tells them."""
    conn = hv.client()
    try:
        return {(host, d.name()): DomainState.coerce(d.state()[0]).word
                for d in conn.listAllDomains(0)}
    finally:
        conn.close()


def listed(app) -> dict[tuple[str, str], str]:
    """(host, VM) -> state of every row of the list; the host as the Host column names it."""
    table = app.domain_list.table
    return {(table.row_text(k)["host"], s.name): table.row_text(k)["state"]
            for k, s in app.domain_list.domains.items() if k in table.shown_keys()}


def row_state(app, name: str) -> str | None:
    table = app.domain_list.table
    for key, summary in app.domain_list.domains.items():
        if summary.name == name and key in table.shown_keys():
            return table.row_text(key)["state"]
    return None


def header(app) -> str:
    return str(app.domain_list.query_one("#header").render())


def virsh_versions(hv: Hypervisor) -> tuple[str, str]:
    """(the daemon's libvirt, its hypervisor), as `virsh version` on its own socket says them."""
    out = hv.virsh("version", "--daemon")
    daemon = re.search(r"Running against daemon: (\S+)", out)
    hypervisor = re.search(r"Running hypervisor: (.+)", out)
    assert daemon and hypervisor, out
    return daemon.group(1), hypervisor.group(1).strip()


SILENT_HEADER = re.compile(rf"{SILENT} connecting \d+ s")
REFUSED_HEADER = re.compile(rf"{REFUSED} refused · retrying (in \d+ s|now)")
CONNECTED_HEADER = f"2 of 4 connected: {FIRST}, {SECOND} (H)"


def header_says_who_is_missing(app) -> bool:
    text = header(app)
    return (bool(SILENT_HEADER.search(text)) and bool(REFUSED_HEADER.search(text))
            and CONNECTED_HEADER in text)


async def test_both_daemons_vms_are_listed_while_one_host_hangs_and_one_refuses(
        hypervisor, second_hypervisor, silent, uris, guests, tmp_path):
    one, two = guests
    put(hypervisor, one, SHUTOFF)
    put(second_hypervisor, two, RUNNING)
    expected = daemon_states(hypervisor, FIRST) | daemon_states(second_hypervisor, SECOND)
    assert expected[(FIRST, one.name)] == "shut off"
    assert expected[(SECOND, two.name)] == "running"
    async with running_fleet(uris, tmp_path) as (app, pilot):
        await wait_for(pilot, lambda: listed(app) == expected, WAIT_S)
        await wait_for(pilot, lambda: header_says_who_is_missing(app), WAIT_S)
        await pilot.pause(0.05)  # painted
        text = screen_text(app)
        assert one.name in text and two.name in text
        assert f"{len(expected)} domains" in text
        assert SILENT_HEADER.search(text) and REFUSED_HEADER.search(text)
        assert CONNECTED_HEADER in text
        # the silent host really was reached, and really never answered
        await wait_for(pilot, lambda: bool(silent.held), WAIT_S)
        assert app.fleet.connections[silent.uri].status is ConnectionStatus.CONNECTING
        # its clock runs: a second later the header still says connecting, for longer
        seconds = int(SILENT_HEADER.search(header(app)).group(0).split()[-2])
        await wait_for(pilot, lambda: int(SILENT_HEADER.search(header(app)).group(0)
                                          .split()[-2]) > seconds, WAIT_S)
        assert listed(app) == expected  # nothing from the missing hosts, nothing lost


async def test_power_keys_change_the_real_vm_on_each_daemon(
        hypervisor, second_hypervisor, uris, guests, tmp_path):
    one, two = guests
    put(hypervisor, one, SHUTOFF)
    put(second_hypervisor, two, RUNNING)
    async with running_fleet(uris, tmp_path) as (app, pilot):
        await wait_for(pilot, lambda: row_state(app, one.name) == "shut off"
                       and row_state(app, two.name) == "running", WAIT_S)
        await select(pilot, two.name)
        await pilot.press("p")
        await wait_for(pilot, lambda: row_state(app, two.name) == "paused", WAIT_S)
        assert two.state() == PAUSED  # on the second daemon, through its own socket
        await select(pilot, one.name)
        await pilot.press("s")
        await wait_for(pilot, lambda: row_state(app, one.name) == "running", WAIT_S)
        assert one.state() == RUNNING  # on the first daemon
        assert two.state() == PAUSED  # the other daemon's VM was left alone
        await select(pilot, two.name)
        await pilot.press("p")  # resumes it
        await wait_for(pilot, lambda: row_state(app, two.name) == "running", WAIT_S)
        assert two.state() == RUNNING
        assert one.state() == RUNNING and row_state(app, one.name) == "running"
        # meanwhile the hosts that never connected are still shown as such
        await wait_for(pilot, lambda: header_says_who_is_missing(app), WAIT_S)


async def test_another_clients_changes_on_the_second_daemon_reach_its_rows(
        second_hypervisor, uris, guests, tmp_path):
    _, two = guests
    put(second_hypervisor, two, RUNNING)
    async with running_fleet(uris, tmp_path) as (app, pilot):
        await wait_for(pilot, lambda: row_state(app, two.name) == "running", WAIT_S)
        second_hypervisor.virsh("suspend", two.name)
        await wait_for(pilot, lambda: row_state(app, two.name) == "paused", WAIT_S)
        second_hypervisor.virsh("resume", two.name)
        await wait_for(pilot, lambda: row_state(app, two.name) == "running", WAIT_S)
        visitor = second_hypervisor.define_firmware_guest("many-visitor")
        try:
            await wait_for(pilot, lambda: listed(app).get((SECOND, visitor.name))
                           == "shut off", WAIT_S)
            assert (FIRST, visitor.name) not in listed(app)  # on its own host only
            second_hypervisor.virsh("undefine", visitor.name)
            await wait_for(pilot, lambda: row_state(app, visitor.name) is None, WAIT_S)
        finally:
            visitor.remove()
        assert visitor.name not in screen_text(app)


async def test_hosts_overview_has_a_row_per_host_with_its_state_and_versions(
        hypervisor, second_hypervisor, silent, uris, guests, tmp_path):
    one, two = guests
    put(second_hypervisor, two, RUNNING)
    counts = {}
    for hv, host in ((hypervisor, FIRST), (second_hypervisor, SECOND)):
        states = daemon_states(hv, host).values()
        counts[host] = f"{sum(1 for s in states if s == 'running')}/{len(states)}"
    versions = {FIRST: virsh_versions(hypervisor), SECOND: virsh_versions(second_hypervisor)}
    async with running_fleet(uris, tmp_path) as (app, pilot):
        await wait_for(pilot, lambda: row_state(app, one.name) is not None
                       and row_state(app, two.name) == "running", WAIT_S)
        await pilot.press("H")
        await wait_for(pilot, lambda: isinstance(app.screen, HostsScreen), WAIT_S)
        table = app.screen.query_one(LiveTable)

        def rows() -> dict[str, dict[str, str]]:
            columns = [str(c.label) for c in table.ordered_columns]
            return {cells[0]: dict(zip(columns, cells, strict=True))
                    for cells in table.row_values().values()}

        seen: list[dict[str, dict[str, str]]] = []

        def settled() -> bool:  # both daemons listed, the refused host between its retries
            seen.append(rows())
            shown = seen[-1]
            return (len(shown) == 4 and shown.get(REFUSED, {}).get("State", "")
                    .startswith("refused")
                    and all(shown[h]["VMs"] == counts[h] for h in (FIRST, SECOND)))

        await wait_for(pilot, settled, WAIT_S)
        shown = seen[-1]
        assert list(shown) == [FIRST, SECOND, SILENT, REFUSED]  # in the order given
        assert [r["URI"] for r in shown.values()] == uris
        for host in (FIRST, SECOND):
            assert shown[host]["State"] == "connected"
            assert shown[host]["VMs"] == counts[host]
            assert (shown[host]["libvirt"], shown[host]["Hypervisor"]) == versions[host]
        assert re.fullmatch(r"connecting \d+ s", shown[SILENT]["State"])
        assert re.fullmatch(r"refused · retrying (in \d+ s|now)", shown[REFUSED]["State"])
        for host in (SILENT, REFUSED):  # nothing known of a host that never answered
            assert shown[host]["VMs"] == "-"
            assert shown[host]["libvirt"] == shown[host]["Hypervisor"] == ""
        await pilot.pause(0.05)
        text = screen_text(app)
        assert "Hosts · 2 of 4 connected" in text
        assert re.search(rf"{SILENT} +connecting \d+ s", text)
        assert re.search(rf"{REFUSED} +refused", text)
        assert versions[SECOND][1] in text


async def test_quit_ends_the_app_although_a_host_never_answered(silent, uris, tmp_path):
    async with running_fleet(uris, tmp_path) as (app, pilot):
        await wait_for(pilot, lambda: header_says_who_is_missing(app) and bool(silent.held),
                       WAIT_S)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code == 0 and not app.is_running, WAIT_S)
    assert silent.held  # it was still holding kvmtui's connection, unanswered, at the end
    assert app.fleet.connections[silent.uri].status is ConnectionStatus.CONNECTING


# a terminal's control sequences (CSI, OSC, charset and single-character escapes)
ESCAPES = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)"
                     rb"|[()][0-9A-Za-z]|.)")


def test_the_real_kvmtui_quits_at_once_although_a_host_never_answered(silent, uris):
    """The process a user runs: in a terminal, `q` gives the terminal back and exits 0."""
    kvmtui = Path(sys.executable).with_name("kvmtui")
    command = [str(kvmtui)] if kvmtui.exists() else [sys.executable, "-m", "kvmtui"]
    for uri in uris:
        command += ["-c", uri]
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(SIZE[0]),
           "LINES": str(SIZE[1])}
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    shown = bytearray()

    ended = False  # the terminal was closed by its last writer

    def read_until(done, timeout: float) -> bool:
        """Read what kvmtui writes until done() holds; False after timeout."""
        nonlocal ended
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if ended:  # nothing more to read: the process may still be finishing
                time.sleep(min(left, 0.02))
                continue
            ready, _, _ = select_fds.select([master], [], [], min(left, 0.2))
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every writer of the terminal has closed it
                    chunk = b""
                ended = not chunk
                shown.extend(chunk)
        return True

    def text() -> str:
        return ESCAPES.sub(b"", bytes(shown)).decode(errors="replace")

    try:
        painted = read_until(lambda: CONNECTED_HEADER in text() and "connecting" in text()
                             and "refused" in text(), WAIT_S)
        assert painted, f"kvmtui did not show the four hosts: {text()[-1500:]!r}"
        # it is waiting on the silent host right now
        assert read_until(lambda: bool(silent.held), WAIT_S)
        os.write(master, b"q")
        read_until(lambda: proc.poll() is not None, WAIT_S)
        assert proc.poll() is not None, "kvmtui was still running after q"
        assert proc.returncode == 0, text()[-1500:]
        assert b"\x1b[?1049l" in shown  # the terminal's own screen is back
        assert "Traceback" not in text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        os.close(master)
