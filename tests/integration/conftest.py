"""The integration tier: a private libvirtd running real QEMU guests, driven through the TUI.

The daemon has its own directories and socket (scripts/private_libvirtd.py), so the host's own
VMs, networks and configuration are never seen. Guests are built from Debian packages at test
time and cached (scripts/build_test_guest.py). Where the daemon cannot run, these tests skip
with the exact reason — except under CI=true, where that is a failure: CI must run them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))

from build_test_guest import READY_LINE, SHELL_WORD, build  # noqa: E402
from private_libvirtd import PrivateLibvirtd, Unavailable  # noqa: E402

_counter = itertools.count(1)


@contextlib.asynccontextmanager
async def running_kvmtui(uri: str, size: tuple[int, int] = (100, 30), **options):
    """kvmtui on a URI, in a headless terminal (100x30 unless told): yields (app, pilot)."""
    from tests.helpers import open_app

    app = open_app(uri, **options)
    try:
        async with app.run_test(size=size) as pilot:
            yield app, pilot
    finally:
        app.fleet.close()


def _cannot_run(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"integration tests must run in CI, but cannot: {reason}", pytrace=False)
    pytest.skip(f"integration tests skipped: {reason}")


@dataclass
class Hypervisor:
    daemon: PrivateLibvirtd
    guest_dir: Path
    work: Path

    @property
    def uri(self) -> str:
        return self.daemon.uri

    def client(self) -> libvirt.virConnect:
        """Another client, as virsh would be: not kvmtui's connection."""
        return libvirt.open(self.uri)

    def virsh(self, *args: str) -> str:
        result = subprocess.run(["virsh", "-q", "-c", self.uri, *args], capture_output=True,
                                text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def define_linux_guest(self, name: str) -> Guest:
        serial = self.work / f"{name}.serial"
        devices = f"<serial type='file'><source path='{serial}' append='on'/><target port='0'/></serial>"
        return self._define(name, self._kernel_guest_xml(name, "console=ttyS0 panic=-1", devices),
                            serial)

    def define_shell_guest(self, name: str, consoles: int = 1) -> Guest:
        """The Linux guest with an interactive shell (prompt SHELL_PROMPT) on its ttyS0.

        ttyS0 is a pty serial port and the domain's first console (what virDomainOpenConsole
        with no device name attaches to: alias serial0). The kernel console, ready line and
        power-button message go to ttyS1, backed by the file guest.serial, so boots() and
        wait_booted() work as for linux_guest. consoles=2 adds a virtio console (alias
        console1; the guest's hvc0, running another shell, prompt HVC_PROMPT).
        """
        serial = self.work / f"{name}.serial"
        devices = ("<serial type='pty'><target port='0'/></serial>\n"
                   f"    <serial type='file'><source path='{serial}' append='on'/>"
                   "<target port='1'/></serial>\n"
                   "    <console type='pty'><target type='serial' port='0'/></console>")
        for port in range(1, consoles):
            devices += f"\n    <console type='pty'><target type='virtio' port='{port}'/></console>"
        cmdline = f"console=ttyS1 {SHELL_WORD} panic=-1"
        return self._define(name, self._kernel_guest_xml(name, cmdline, devices), serial)

    def _kernel_guest_xml(self, name: str, cmdline: str, devices: str) -> str:
        """The test guest's kernel and initramfs, ACPI, a 16 MiB disk, the given char devices."""
        disk = self.work / f"{name}.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
        (self.work / f"{name}.serial").unlink(missing_ok=True)
        return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{self.guest_dir / 'vmlinuz'}</kernel>
    <initrd>{self.guest_dir / 'initramfs.img'}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='{disk}'/><target dev='vda' bus='virtio'/>
    </disk>
    {devices}
    <memballoon model='none'/>
  </devices>
</domain>"""

    def define_firmware_guest(self, name: str, kind: str = "qemu", devices: str = "") -> Guest:
        """No OS at all: the firmware runs (real VM exits under KVM) and ignores ACPI.
        `devices`: more device elements (disks, NICs) for the firmware to probe."""
        xml = f"""<domain type='{kind}'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>{devices}<memballoon model='none'/>
  </devices>
</domain>"""
        return self._define(name, xml, None)

    def _define(self, name: str, xml: str, serial: Path | None) -> Guest:
        conn = self.client()
        try:
            conn.defineXML(xml)
        finally:
            conn.close()
        return Guest(self, name, serial)


@dataclass
class Guest:
    hv: Hypervisor
    name: str
    serial: Path | None

    def state(self) -> int:
        conn = self.hv.client()
        try:
            return conn.lookupByName(self.name).state()[0]
        finally:
            conn.close()

    def boots(self) -> int:
        """How many times the guest has finished booting (ready lines on its serial console)."""
        if self.serial is None or not self.serial.exists():
            return 0
        return self.serial.read_text(errors="replace").count(READY_LINE)

    def wait_booted(self, count: int = 1, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.boots() < count:
            if time.monotonic() > deadline:
                tail = self.serial.read_text(errors="replace")[-800:] if self.serial else ""
                raise AssertionError(f"{self.name} did not boot {count}x in {timeout} s: {tail}")
            time.sleep(0.1)

    def remove(self) -> None:
        conn = self.hv.client()
        try:
            dom = conn.lookupByName(self.name)
            if dom.isActive():
                dom.destroy()
            for snap in dom.listAllSnapshots(0):
                snap.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                              | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                              | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()


CONSOLE_EVENTS = (libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_ERROR
                  | libvirt.VIR_STREAM_EVENT_HANGUP)


class RawConsole:
    """A domain's console opened as kvmtui opens it, without any UI.

    Its own connection (opened after libvirt's event loop is running), a non-blocking stream
    attached with virDomainOpenConsole, read in a stream callback on the event loop until recv
    says -2 (nothing more now). Everything received is in `data`; `ended` becomes "eof" when the
    stream ends, or the libvirtError that ended it. Raises libvirtError when it cannot attach.
    """

    def __init__(self, uri: str, name: str, dev: str | None = None, flags: int = 0) -> None:
        from kvmtui.virt.session.eventloop import ensure_event_loop

        ensure_event_loop()
        self.conn = libvirt.open(uri)
        self.data = bytearray()
        self.ended: str | libvirt.libvirtError | None = None
        self._cond = threading.Condition()
        self._watching = False
        try:
            self.stream = self.conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
            self.conn.lookupByName(name).openConsole(dev, self.stream, flags)
        except libvirt.libvirtError:
            self.conn.close()
            raise
        self.stream.eventAddCallback(CONSOLE_EVENTS, self._on_event, None)
        self._watching = True

    def _on_event(self, stream: libvirt.virStream, events: int, _opaque: object) -> None:
        while True:
            try:
                chunk = stream.recv(65536)
            except libvirt.libvirtError as err:
                self._end(err)
                return
            if chunk == -2:  # drained for now
                break
            if not chunk:
                self._end("eof")
                return
            with self._cond:
                self.data += chunk
                self._cond.notify_all()
        if events & (libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP):
            self._end(f"event {events}")

    def _end(self, why: str | libvirt.libvirtError) -> None:
        if self._watching:
            self._watching = False
            self.stream.eventRemoveCallback()
        with self._cond:
            self.ended = why
            self._cond.notify_all()

    def send(self, data: bytes) -> None:
        while data:
            sent = self.stream.send(data)
            if sent == -2:  # the stream's buffer is full: try again in a moment
                time.sleep(0.01)
                continue
            data = data[sent:]

    def wait_for(self, marker: bytes, timeout: float = 10.0, start: int = 0) -> int:
        """Wait until marker appears in data at or after start: the index just after it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (at := self.data.find(marker, start)) < 0:
                start = max(start, len(self.data) - len(marker) + 1)  # scan new data only
                left = deadline - time.monotonic()
                if left <= 0 or self.ended is not None:
                    raise AssertionError(f"no {marker!r} on the console in {timeout} s "
                                         f"(ended: {self.ended}): {bytes(self.data[-400:])!r}")
                self._cond.wait(left)
            return at + len(marker)

    def wait_ended(self, timeout: float = 10.0) -> str | libvirt.libvirtError:
        with self._cond:
            self._cond.wait_for(lambda: self.ended is not None, timeout)
            assert self.ended is not None, "the console stream did not end"
            return self.ended

    def close(self) -> None:
        if self._watching:
            self._watching = False
            with contextlib.suppress(libvirt.libvirtError):
                self.stream.eventRemoveCallback()
        with contextlib.suppress(libvirt.libvirtError):
            self.stream.abort()
        with contextlib.suppress(libvirt.libvirtError):
            self.conn.close()


HOST_PLACES = ("/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt")


def host_libvirt_snapshot() -> dict[str, list[str]]:
    """What the host's own libvirt directories hold: the private daemon must never change it."""
    seen = {}
    for place in HOST_PLACES:
        entries = []
        for root, dirs, files in os.walk(place):
            entries += [os.path.join(root, name) for name in dirs + files]
        seen[place] = sorted(entries)
    return seen


@pytest.fixture(scope="session")
def host_before():
    return host_libvirt_snapshot()


@pytest.fixture(scope="session")
def hypervisor(tmp_path_factory, host_before):
    daemon = PrivateLibvirtd(tmp_path_factory.mktemp("hv"))
    try:
        daemon.check()
        guest_dir = build(Path(os.environ.get("KVMTUI_CACHE", Path.home() / ".cache" / "kvmtui"))
                          / "test-guest")
        daemon.start()
    except (Unavailable, RuntimeError, OSError, subprocess.CalledProcessError) as err:
        _cannot_run(str(err))
    work = daemon.dir / "guests"
    work.mkdir(exist_ok=True)
    yield Hypervisor(daemon, guest_dir, work)
    daemon.stop()


@pytest.fixture
def linux_guest(hypervisor):
    guest = hypervisor.define_linux_guest(f"linux{next(_counter)}")
    yield guest
    guest.remove()


@pytest.fixture
def shell_guest(hypervisor):
    """Defined, not started: a shell on its console (serial0 = ttyS0), see define_shell_guest."""
    guest = hypervisor.define_shell_guest(f"shell{next(_counter)}")
    yield guest
    guest.remove()


@pytest.fixture
def firmware_guest(hypervisor):
    guest = hypervisor.define_firmware_guest(f"firmware{next(_counter)}")
    yield guest
    guest.remove()


def kvm_usable() -> str | None:
    """None when /dev/kvm can be used, else why not."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError as err:
        return f"/dev/kvm: {err.strerror}"
    os.close(fd)
    return None


@pytest.fixture
def kvm_guest(hypervisor):
    reason = kvm_usable()
    if reason:
        pytest.skip(f"no KVM here ({reason}): the KVM guest needs /dev/kvm")
    guest = hypervisor.define_firmware_guest(f"kvm{next(_counter)}", kind="kvm")
    yield guest
    guest.remove()


@pytest.fixture(scope="session")
def ssh_uri(hypervisor, tmp_path_factory):
    """The private daemon as a remote host: qemu+ssh through a throwaway sshd on 127.0.0.1."""
    from tests.integration.sshd import LocalSshd, SshdUnavailable

    sshd = LocalSshd(tmp_path_factory.mktemp("sshd"))
    try:
        sshd.start()
    except (SshdUnavailable, RuntimeError, OSError, subprocess.CalledProcessError) as err:
        sshd.stop()
        _cannot_run(f"libvirt over ssh: {err}")
    path = "system" if hypervisor.daemon.root else "session"
    yield sshd.uri(str(hypervisor.daemon.socket), path)
    sshd.stop()


@pytest.fixture(scope="module")
def second_hypervisor(hypervisor, tmp_path_factory):
    """A second private libvirtd beside `hypervisor`, in its own directory, socket and mount
    namespace: two hosts at once. Guests use the same built kernel (hypervisor.guest_dir)."""
    daemon = PrivateLibvirtd(tmp_path_factory.mktemp("hv2"))
    try:
        _share_qemu_capabilities(hypervisor.daemon, daemon)
        daemon.start()
    except (Unavailable, RuntimeError, OSError, subprocess.CalledProcessError) as err:
        daemon.stop()
        _cannot_run(f"a second private libvirtd: {err}")
    work = daemon.dir / "guests"
    work.mkdir(exist_ok=True)
    try:
        yield Hypervisor(daemon, hypervisor.guest_dir, work)
    finally:
        daemon.stop()


def _share_qemu_capabilities(probed: PrivateLibvirtd, fresh: PrivateLibvirtd) -> None:
    """Give a new daemon the QEMU capabilities the first one probed (same binaries, same
    host), instead of probing every qemu-system-* again on its first define and its first
    virConnectGetVersion (~4 s each). libvirt still checks the cache against the binaries'
    times and its own version, and probes again if it is stale."""
    import shutil

    try:
        conn = libvirt.open(probed.uri)
        try:
            conn.getCapabilities()  # probes every QEMU binary now, if not done yet
        finally:
            conn.close()
    except libvirt.libvirtError:
        return  # nothing to share: the new daemon probes for itself
    sub = "cache" if probed.root else "xdg-cache"
    source = probed.dir / sub
    if (source / "qemu").is_dir() or (source / "libvirt" / "qemu").is_dir():
        shutil.copytree(source, fresh.dir / sub, dirs_exist_ok=True)
