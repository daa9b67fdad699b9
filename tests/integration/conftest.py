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
import time
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))

from build_test_guest import READY_LINE, build  # noqa: E402
from private_libvirtd import PrivateLibvirtd, Unavailable  # noqa: E402

_counter = itertools.count(1)


@contextlib.asynccontextmanager
async def running_kvmtui(uri: str, **options):
    """kvmtui on a URI, in a 100x30 headless terminal: yields (app, pilot)."""
    from tests.helpers import open_app

    app = open_app(uri, **options)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
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
        disk = self.work / f"{name}.qcow2"
        serial = self.work / f"{name}.serial"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
        serial.unlink(missing_ok=True)
        xml = f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{self.guest_dir / 'vmlinuz'}</kernel>
    <initrd>{self.guest_dir / 'initramfs.img'}</initrd>
    <cmdline>console=ttyS0 panic=-1</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='{disk}'/><target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='{serial}' append='on'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>"""
        return self._define(name, xml, serial)

    def define_firmware_guest(self, name: str, kind: str = "qemu") -> Guest:
        """No OS at all: the firmware runs (real VM exits under KVM) and ignores ACPI."""
        xml = f"""<domain type='{kind}'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator><memballoon model='none'/></devices>
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
