"""Everything the tests share: fresh test-driver fleets, the app on them, and the ways a test
presses keys and reads the screen as a user would. Fixtures are in conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import libvirt

from kvmtui.app import KvmApp
from kvmtui.screens.snapshots import SnapshotScreen
from kvmtui.virt.session.demo import apply_demo_settings, demo_fleet_path
from kvmtui.virt.session.fleet import Fleet

# -- fleets ------------------------------------------------------------------------------------

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"


def copy_demo_fleet(directory: Path, name: str = "demo-fleet.xml") -> str:
    """A private copy of the shipped demo lab; returns its test:/// URI."""
    target = directory / name
    shutil.copyfile(demo_fleet_path(), target)
    return f"test://{target}"


def write_fleet(path: Path, count: int, *, running_every: int = 2, paused_every: int = 0) -> str:
    """A node file of `count` small domains named vm0000…; every `running_every`-th one runs."""
    ET.register_namespace("test", TEST_NS)
    node = ET.Element("node")
    for i in range(count):
        dom = ET.SubElement(node, "domain", {"type": "test"})
        ET.SubElement(dom, "name").text = f"vm{i:04d}"
        ET.SubElement(dom, "uuid").text = f"00000000-0000-4000-8000-{i:012d}"
        ET.SubElement(dom, "memory", {"unit": "MiB"}).text = str(512 * (1 + i % 8))
        ET.SubElement(dom, "vcpu").text = str(1 + i % 4)
        os_el = ET.SubElement(dom, "os")
        ET.SubElement(os_el, "type").text = "hvm"
        if paused_every and i % paused_every == 0:
            state = 3
        elif running_every and i % running_every == 0:
            state = 1
        else:
            state = 5
        ET.SubElement(dom, f"{{{TEST_NS}}}runstate").text = str(state)
    ET.ElementTree(node).write(path, encoding="unicode")
    return f"test://{path}"


# Strings a libvirt user may legally give a domain or snapshot, each of which Rich or Textual
# would read as markup if it were ever interpreted instead of shown.
# (no "/": libvirt refuses it in a name)
MARKUP_NAMES = ("db[link=a:b]storage", "[bold]web", "a[red]b", "x[@click=app.quit]y")


def write_markup_fleet(path: Path) -> str:
    """Running test-driver domains whose names are full of markup; returns the URI."""
    ET.register_namespace("test", TEST_NS)
    node = ET.Element("node")
    for i, name in enumerate(MARKUP_NAMES):
        dom = ET.SubElement(node, "domain", {"type": "test"})
        ET.SubElement(dom, "name").text = name
        ET.SubElement(dom, "uuid").text = f"00000000-0000-4000-9000-{i:012d}"
        ET.SubElement(dom, "description").text = "[red]not red[/red] \\[ $x"
        ET.SubElement(dom, "memory", {"unit": "MiB"}).text = "512"
        ET.SubElement(dom, "vcpu").text = "1"
        os_el = ET.SubElement(dom, "os")
        ET.SubElement(os_el, "type").text = "hvm"
        ET.SubElement(dom, f"{{{TEST_NS}}}runstate").text = "1"
    ET.ElementTree(node).write(path, encoding="unicode")
    return f"test://{path}"


# -- domain fixtures as test-driver nodes ------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "domains"


def fixture_node(directory: Path, *names: str) -> str:
    """A test:/// node holding the named fixtures (as running test-driver domains); its URI."""
    node = ET.Element("node")
    for name in names:
        dom = ET.fromstring((FIXTURES / name).read_text())
        # the test driver defines only its own domain type, and gives ids itself
        dom.set("type", "test")
        dom.attrib.pop("id", None)
        node.append(dom)
    path = directory / "fixture-node.xml"
    ET.ElementTree(node).write(path, encoding="unicode")
    return f"test://{path}"


# -- the app, keys and the screen --------------------------------------------------------------
def open_app(*uris: str, readonly: bool = False, shutdown_timeout: float = 60.0,
             **app_options) -> KvmApp:
    fleet = Fleet(uris, readonly=readonly)
    fleet.open_all()
    if not readonly:
        for connection in fleet.connections.values():
            apply_demo_settings(connection.conn)  # as --demo does; a no-op for other fleets
    return KvmApp(fleet, fleet.list_summaries(), shutdown_timeout=shutdown_timeout,
                  **app_options)




def libvirt_domain(app: KvmApp, name: str) -> libvirt.virDomain:
    """The domain as libvirt itself sees it, through the app's own driver instance.

    A test:///file URI gives every open its own in-memory copy, so asserting "through
    libvirt" means asking the very connection kvmtui changed, not a new one.
    """
    (connection,) = app.fleet.connections.values()
    return connection.conn.lookupByName(name)


def state_of(app: KvmApp, name: str) -> int:
    return libvirt_domain(app, name).state()[0]


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until condition() holds; fail with a clear message after timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.02)


async def select(pilot, name: str) -> None:
    """Put the list's cursor on the named VM, by pressing keys as a user would."""
    table = pilot.app.domain_list.table
    await pilot.press("home")
    for _ in range(table.row_count):
        summary = pilot.app.domain_list.selected
        if summary is not None and summary.name == name:
            return
        await pilot.press("down")
    raise AssertionError(f"{name} is not in the list")


async def open_from_list(pilot, name: str, key: str, screen_type, loaded, timeout: float = 5.0):
    """Select the VM, press the key that opens a screen of it, and wait until it has read libvirt."""
    await select(pilot, name)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen_type), timeout)
    screen = pilot.app.screen
    await wait_for(pilot, lambda: loaded(screen), timeout)
    await pilot.pause(0.05)
    return screen


def screen_text(app) -> str:
    """The characters on screen right now, line by line, as a user reads them."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def asking(app, screen_type) -> bool:
    """A question of this type is on screen and takes the keys typed from now on.

    Questions ignore keys typed before they were on screen (plus a short guard), as a person
    typing ahead would have; tests answer them as a person does, after seeing them.
    """
    screen = app.screen
    return isinstance(screen, screen_type) and screen.answerable


# -- the snapshot tree -------------------------------------------------------------------------

async def open_tree(pilot, vm: str) -> SnapshotScreen:
    return await open_from_list(pilot, vm, "t", SnapshotScreen,
                                lambda screen: screen.snap_tree is not None)


async def put_cursor_on(pilot, screen: SnapshotScreen, name: str) -> None:
    tree = screen.query_one("Tree")
    await pilot.press("home")
    for _ in range(60):
        if screen.selected == name:
            return
        node = tree.cursor_node
        if node is not None and node.allow_expand and not node.is_expanded:
            node.expand()
            await pilot.pause(0.02)
        await pilot.press("down")
    raise AssertionError(f"no node {name}")


def names(dom) -> set[str]:
    return {s.getName() for s in dom.listAllSnapshots(0)}


# -- several hosts, connecting in the background ------------------------------------------------

def header_text(app) -> str:
    """The list's two header lines: counts, then the hosts (and their states), sort, filter."""
    return str(app.domain_list.query_one("#header").render())


class SilentHost:
    """A unix socket that accepts every connection and never says a word: a host that hangs.

    Use it as `uri` (qemu+unix:///system?socket=<path>). Connections are held (`held`) until
    close(), which also ends the accept thread; a libvirt client still waiting on one then gets
    end-of-file and gives up. benchmarks/hosts_startup.py uses it too.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.held: list[socket.socket] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        self._thread = threading.Thread(target=self._accept, name="silent host", daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:  # close(): the listening socket was shut down
                return
            self.held.append(conn)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way
        self._server.close()
        self._thread.join(5)
        for conn in self.held:
            conn.close()


@contextlib.contextmanager
def silent_listener(path: Path):
    """A SilentHost for the block; yields its URI."""
    host = SilentHost(path)
    try:
        yield host.uri
    finally:
        host.close()


def start_app(*hosts, config_path: Path, readonly: bool = False, **app_options) -> KvmApp:
    """The app as `kvmtui` starts it on several hosts: each connects in the background and the
    list is drawn at once. hosts: URIs or config HostEntry's. The demo lab's settings are put
    on test-driver hosts, as --demo does. config_path: where adding and removing hosts saves
    (never the user's own file). Close app.fleet at the end."""
    from kvmtui.virt.session.config import HostEntry

    uris = [h.uri if isinstance(h, HostEntry) else h for h in hosts]
    prepare = {uri: apply_demo_settings for uri in uris if uri.startswith("test:")}
    fleet = Fleet(hosts, readonly=readonly, prepare=prepare)
    fleet.start()
    return KvmApp(fleet, fleet.summaries(), config_path=config_path, **app_options)
