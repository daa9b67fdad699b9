"""Domain XML -> models, on realistic fixtures written as libvirt returns them."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from kvmtui.virt.domain.domxml import parse_domain
from kvmtui.widgets import details_view

FIXTURES = Path(__file__).parent.parent / "fixtures" / "domains"
ALL = sorted(FIXTURES.glob("*.xml"))


def load(name: str):
    return parse_domain((FIXTURES / name).read_text())


def rendered(renderable) -> str:
    """A details tab's body as the screen prints it, 100 columns wide."""
    console = Console(width=100, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def test_there_are_at_least_thirty_fixtures():
    assert len(ALL) >= 30


def test_uefi_secure_boot_and_tpm():
    d = load("01-uefi-secureboot.xml")
    fw = d.overview.firmware
    assert (fw.kind, fw.secure_boot, fw.loader_type, fw.loader_readonly) == ("uefi", True, "pflash", True)
    assert fw.loader == "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
    assert fw.nvram == "/var/lib/libvirt/qemu/nvram/win11_VARS.fd"
    assert d.overview.title == "Windows 11 desktop"
    assert d.overview.description.startswith("TPM 2.0")
    assert d.cpu.mode == "host-passthrough" and d.cpu.migratable == "on"
    assert [x.summary for x in d.devices if x.kind == "tpm"] == ["TPM tpm-crb, emulator 2.0"]
    assert d.disks[0].discard == "unmap"


def test_bios_boot_order_and_lifecycle_actions():
    d = load("02-bios-boot-order.xml")
    assert d.overview.firmware.kind == "bios"
    assert d.overview.boot_order == ("cdrom", "hd", "network")
    assert (d.overview.on_poweroff, d.overview.on_reboot, d.overview.on_crash) == (
        "destroy", "destroy", "restart")
    assert d.memory.current_kib == d.memory.max_kib == 2048 * 1024
    cdrom = d.disks[0]
    assert (cdrom.device, cdrom.bus, cdrom.readonly, cdrom.format) == ("cdrom", "ide", True, "raw")


def test_per_device_boot_order():
    assert load("03-per-device-boot.xml").overview.boot_order == (
        "52:54:00:aa:00:03 (network)", "vda (disk)")


def test_direct_kernel_boot():
    ov = load("04-direct-kernel.xml").overview
    assert ov.hypervisor == "qemu"
    assert (ov.kernel, ov.initrd, ov.cmdline) == (
        "/var/cache/kvmtui/vmlinuz", "/var/cache/kvmtui/initramfs.img", "console=ttyS0 panic=-1")
    assert ov.emulator == "/usr/bin/qemu-system-x86_64"


def test_other_lifecycle_actions_panic_and_watchdog():
    d = load("05-lifecycle-actions.xml")
    assert (d.overview.on_poweroff, d.overview.on_reboot, d.overview.on_crash) == (
        "preserve", "rename-restart", "coredump-restart")
    summaries = {x.kind: x.summary for x in d.devices}
    assert summaries["watchdog"] == "watchdog i6300esb, action poweroff"
    assert summaries["panic"] == "panic notifier isa"


def test_hugepages_locked_and_numa():
    d = load("06-hugepages.xml")
    m = d.memory
    assert m.uses_hugepages and m.locked
    assert [(p.size_kib, p.nodeset) for p in m.hugepages] == [(1024 * 1024, "0"), (2048, "1")]
    assert [(c.id, c.cpus, c.memory_kib, c.mem_access) for c in m.numa_cells] == [
        (0, "0-3", 8 * 1024 * 1024, "private"), (1, "4-7", 8 * 1024 * 1024, None)]
    assert m.balloon_model == "none"
    assert d.cpu.topology.total == 8 and not d.cpu.topology.implied


def test_shared_memfd_hotplug_and_virtiofs():
    d = load("07-shared-memfd.xml")
    m = d.memory
    assert (m.shared, m.backing_source, m.hotplug_max_kib, m.hotplug_slots) == (
        True, "memfd", 33554432, 16)
    assert (m.current_kib, m.max_kib, m.balloon_model) == (2097152, 4194304, "virtio")
    summaries = [x.summary for x in d.devices]
    assert "filesystem virtiofs: /srv/share → hostshare" in summaries
    assert "memory dimm 1024 MiB" in summaries


def test_numa_distances():
    cells = load("08-numa-distances.xml").cpu.numa_cells
    assert cells[0].distances == ((0, 10), (1, 21))
    assert cells[1].mem_access == "shared"


@pytest.mark.parametrize("name,mode,model,check", [
    ("09-host-passthrough.xml", "host-passthrough", None, "none"),
    ("10-host-model.xml", "host-model", None, "partial"),
    ("11-custom-cpu-features.xml", "custom", "EPYC-Rome", "full"),
    ("13-no-topology.xml", "default", None, None),
])
def test_cpu_modes(name, mode, model, check):
    cpu = load(name).cpu
    assert (cpu.mode, cpu.model, cpu.check) == (mode, model, check)


def test_custom_cpu_features_with_every_policy():
    cpu = load("11-custom-cpu-features.xml").cpu
    assert (cpu.fallback, cpu.vendor, cpu.match) == ("forbid", "AMD", "exact")
    assert [(f.policy, f.name) for f in cpu.features] == [
        ("require", "topoext"), ("disable", "svm"), ("force", "x2apic"),
        ("optional", "invtsc"), ("forbid", "hle")]


def test_topology_with_dies_and_clusters():
    topo = load("12-topology-dies-clusters.xml").cpu.topology
    assert (topo.sockets, topo.dies, topo.clusters, topo.cores, topo.threads) == (2, 2, 2, 2, 2)
    assert topo.total == 32 and not topo.implied


def test_absent_topology_is_what_libvirt_implies():
    cpu = load("13-no-topology.xml").cpu
    assert (cpu.topology.sockets, cpu.topology.cores, cpu.topology.threads) == (6, 1, 1)
    assert cpu.topology.implied and cpu.placement == "auto"


def test_vcpu_hotplug_slots():
    cpu = load("14-vcpu-hotplug.xml").cpu
    assert (cpu.current, cpu.maximum, cpu.cpuset) == (2, 4, "0-7")
    assert [(s.id, s.enabled, s.hotpluggable) for s in cpu.vcpu_slots] == [
        (0, True, False), (1, True, True), (2, False, True), (3, False, True)]


def test_cputune_pins_and_iothreads():
    cpu = load("15-cputune-pins.xml").cpu
    assert [(p.what, p.cpuset) for p in cpu.pins] == [
        ("vcpu 0", "2"), ("vcpu 1", "3"), ("vcpu 2", "4"), ("vcpu 3", "5"),
        ("emulator", "0-1"), ("iothread 1", "0"), ("iothread 2", "1")]
    assert cpu.iothreads == 2


def test_hyperv_enlightenments_with_values():
    cpu = load("16-hyperv-full.xml").cpu
    hv = {f.name: (f.on, f.value) for f in cpu.hyperv}
    assert hv["spinlocks"] == (True, "0x1fff")
    assert hv["vendor_id"] == (True, "KVM Hv")
    assert hv["stimer"] == (True, "direct")
    assert hv["reset"] == (False, None) and hv["evmcs"] == (False, None)
    assert hv["time"] == (True, None)  # hv_time comes from the hypervclock timer
    assert {"relaxed", "vapic", "vpindex", "runtime", "synic", "frequencies",
            "reenlightenment", "tlbflush", "ipi"} <= set(hv)
    assert cpu.hyperv_mode == "custom"
    assert [(f.name, f.on) for f in cpu.kvm_features] == [("hidden", True), ("hint-dedicated", True)]


def test_hyperv_passthrough_and_clock_off():
    cpu = load("17-hyperv-passthrough.xml").cpu
    assert cpu.hyperv_mode == "passthrough"
    assert [(f.name, f.on) for f in cpu.hyperv] == [("time", False)]


def test_backing_chain():
    disk = load("18-backing-chain.xml").disks[0]
    assert [(b.type, b.format, b.source) for b in disk.backing_chain] == [
        ("file", "qcow2", "/var/lib/libvirt/images/base-updated.qcow2"),
        ("file", "raw", "/var/lib/libvirt/images/golden.raw")]
    assert (disk.cache, disk.serial) == ("writeback", "clone-root")


def test_block_device_and_shareable():
    d = load("19-block-device.xml")
    root, shared = d.disks
    assert (root.type, root.path, root.cache, root.io, root.discard, root.boot_order) == (
        "block", "/dev/vg0/lvm-backed-root", "none", "native", "unmap", 1)
    assert shared.shareable and shared.io == "io_uring"


def test_network_disks():
    rbd, iscsi, https = load("20-network-disks.xml").disks
    assert (rbd.protocol, rbd.source_name) == ("rbd", "vms/ceph-client-root")
    assert rbd.hosts == ("mon1.lab:6789", "mon2.lab:6789", "mon3.lab:6789")
    assert rbd.source == "rbd://mon1.lab:6789,mon2.lab:6789,mon3.lab:6789/vms/ceph-client-root"
    assert (iscsi.device, iscsi.protocol, iscsi.bus) == ("lun", "iscsi", "scsi")
    assert https.source == "https://mirror.lab:443/isos/rescue.iso" and https.readonly


def test_volume_disk():
    disk = load("21-volume-disk.xml").disks[0]
    assert (disk.type, disk.pool, disk.volume, disk.source) == (
        "volume", "default", "pool-user.qcow2", "default/pool-user.qcow2")


def test_dir_disk_and_floppy():
    d = load("22-dir-and-floppy.xml")
    vvfat, floppy = d.disks
    assert (vvfat.type, vvfat.source, vvfat.format) == ("dir", "/srv/dos-games", "fat")
    assert (floppy.device, floppy.bus) == ("floppy", "fdc")
    assert d.overview.arch == "i686" and d.overview.boot_order == ("fd",)
    assert [x.summary for x in d.devices] == ["sound sb16"]


def test_nvme_disk():
    disk = load("23-nvme-disk.xml").disks[0]
    assert (disk.type, disk.source) == ("nvme", "nvme 0000:01:00.0 ns 1")


def test_lun_and_scsi_hostdev():
    d = load("24-lun-passthrough.xml")
    assert d.disks[0].device == "lun"
    assert any(x.kind == "hostdev" and x.summary.startswith("scsi passthrough") for x in d.devices)


def test_empty_cdrom_has_no_source():
    disk = load("25-empty-cdrom.xml").disks[0]
    assert (disk.device, disk.source, disk.readonly) == ("cdrom", None, True)


def test_every_kind_of_nic():
    nics = load("26-nics-every-kind.xml").nics
    got = [(n.type, n.source, n.mode, n.model) for n in nics]
    assert got == [
        ("network", "default", None, "virtio"),
        ("bridge", "ovsbr0", None, "e1000e"),
        ("direct", "eno1", "vepa", "virtio"),
        ("direct", "eno2", "passthrough", None),
        ("user", None, None, "rtl8139"),
        ("vhostuser", "/run/openvswitch/vhu0", "client", "virtio"),
        ("hostdev", "0000:03:10.1", None, None),
        ("ethernet", "tap-custom", None, "virtio"),
    ]
    assert [n.kind for n in nics][2:4] == ["macvtap (vepa)", "macvtap (passthrough)"]
    assert nics[0].portgroup == "web" and nics[0].queues == 4
    assert nics[1].link_state == "down" and nics[1].virtualport == "openvswitch"
    assert nics[7].boot_order == 1


def test_graphics_and_viewer_commands():
    d = load("27-graphics.xml")
    spice, vnc_socket, vnc_network = d.graphics
    assert (spice.port, spice.tls_port, spice.listen) == (5901, 5902, "0.0.0.0")
    assert spice.viewer("kvm1") == "remote-viewer spice://kvm1:5901"
    assert vnc_socket.viewer() == "remote-viewer vnc+unix:///run/libvirt/qemu/desktops.vnc"
    assert vnc_network.viewer() is None and vnc_network.autoport  # port chosen at start
    assert {x.summary for x in d.devices} >= {"tablet on usb", "keyboard on ps2",
                                              "video virtio, 2 heads", "audio backend spice"}
    assert [g.describe() for g in d.graphics] == [
        "SPICE, listen 0.0.0.0, port 5901, TLS port 5902",
        "VNC, socket /run/libvirt/qemu/desktops.vnc",
        "VNC, listen network mgmt, port auto (assigned at start)",
    ]


def test_displays_without_a_network_port_say_what_they_are():
    d = load("33-local-displays.xml")
    assert [g.describe() for g in d.graphics] == [
        "SDL (local window on display :0)",
        "SPICE, no network listener",
        "VNC, no network listener",
        "SPICE, listen default, TLS port 5902",
        "VNC, listen 2001:db8::5, port 5905",
        "EGL headless (OpenGL rendering for the other displays)",
        "RDP, listen default, port 3389",
    ]
    assert [g.viewer("kvm1") for g in d.graphics] == [
        None, None, None, "remote-viewer spice://kvm1?tls-port=5902",
        "remote-viewer vnc://[2001:db8::5]:5905", None, None]
    text = rendered(details_view.devices(d, "kvm1"))
    assert "SDL (local window on display :0)" in text
    assert "SPICE, no network listener" in text
    assert "None" not in text
    assert "video virtio, 1 head" in text and "head(s)" not in text


def test_ipv6_hosts_are_bracketed():
    d = load("34-ipv6-hosts.xml")
    rbd, iscsi, nbd, gluster = d.disks
    assert rbd.hosts == ("[2001:db8::1]:6789", "[2001:db8::2]")
    assert rbd.source == "rbd://[2001:db8::1]:6789,[2001:db8::2]/vms/v6-root"
    assert iscsi.source == "iscsi://[fd00:10::20]:3260/iqn.2013-06.com.example:v6/0"
    assert nbd.source == "nbd://[fd00:10::30]:10809/export1"
    assert gluster.source == "gluster://gluster1.lab:24007,[fd00:10::40]:24007/vol0/images/v6.qcow2"
    assert d.nics[0].source == "[2001:db8::10]:5555"
    assert d.consoles[0].source == "[2001:db8::20]:4555"
    assert "rbd://[2001:db8::1]:6789,[2001:db8::2]/vms/v6-root" in rendered(
        details_view.disks(d, None))


def test_topology_counts_are_singular_or_plural():
    text = rendered(details_view.cpu(load("12-topology-dies-clusters.xml"), None))
    assert "2 sockets × 2 dies × 2 clusters × 2 cores × 2 threads = 32 vCPU slots" in text
    text = rendered(details_view.cpu(load("32-minimal.xml"), None))
    assert "1 socket × 1 core × 1 thread = 1 vCPU slot, 1 online" in text
    text = rendered(details_view.cpu(load("14-vcpu-hotplug.xml"), None))
    assert "1 socket × 2 cores × 2 threads = 4 vCPU slots, 2 online" in text
    odd = parse_domain("<domain type='kvm'><name>odd</name><vcpu>3</vcpu><cpu>"
                       "<topology sockets='1' cores='1' threads='2'/></cpu></domain>")
    assert "(1 vCPU beyond the topology)" in rendered(details_view.cpu(odd, None))


def test_channels_by_purpose_with_agent_state():
    chans = load("28-channels.xml").channels
    assert [(c.purpose, c.state) for c in chans] == [
        ("guest agent", "connected"),
        ("clipboard (SPICE vdagent)", "disconnected"),
        ("file sharing (SPICE WebDAV)", None),
        ("guest forwarding to 10.0.2.1:4600", None),
    ]


def test_serial_consoles_and_parallel():
    cons = load("29-serial-consoles.xml").consoles
    assert [(c.kind, c.type, c.port, c.source) for c in cons] == [
        ("serial", "pty", 0, "/dev/pts/4"), ("serial", "tcp", 1, "127.0.0.1:4555"),
        ("console", "pty", 0, "/dev/pts/4"), ("parallel", "file", 0, "/var/log/headless-lp0.log")]


def test_device_zoo_and_unknown_elements_kept_as_other():
    d = load("30-device-zoo.xml")
    kinds = {x.kind for x in d.devices if x.known}
    assert kinds >= {"controller", "input", "sound", "video", "hostdev", "redirdev", "tpm",
                     "watchdog", "rng", "vsock", "memballoon", "iommu", "smartcard", "shmem",
                     "hub", "crypto"}
    summaries = [x.summary for x in d.devices]
    assert "pci passthrough 0000:41:00.0 (managed=yes)" in summaries
    assert "usb passthrough 0x046d:0xc52b (managed=yes)" in summaries
    assert "RNG virtio from /dev/urandom" in summaries
    assert "vsock cid 42" in summaries
    assert "usb controller 0 (qemu-xhci)" in summaries
    unknown = [x for x in d.devices if not x.known]
    assert [(x.kind, x.summary) for x in unknown] == [("teleporter", "teleporter flux=1.21")]
    assert d.other == ("futurefeature",)


def test_live_xml_of_a_running_domain():
    d = load("31-live-running.xml")
    assert d.nics[0].target == "vnet0"
    assert d.channels[0].state == "connected"
    assert d.graphics[0].viewer() == "remote-viewer vnc://127.0.0.1:5900"
    assert d.disks[0].backing_chain == ()  # <backingStore/> ends the chain
    assert d.other == ()  # metadata, resource, seclabel are all known


def test_minimal_domain_gets_defaults():
    d = load("32-minimal.xml")
    assert (d.overview.name, d.overview.uuid, d.cpu.current, d.cpu.maximum) == ("bare", "", 1, 1)
    assert d.memory.current_kib == 524288
    assert (d.disks, d.nics, d.graphics, d.devices) == ((), (), (), ())


# -- never raises -------------------------------------------------------------------------

def _mutations(root: ET.Element, seed: list[int]) -> ET.Element:
    """Remove elements and attributes chosen by `seed` from a copy of the tree."""
    tree = copy.deepcopy(root)
    nodes = list(tree.iter())
    for i, n in enumerate(seed):
        node = nodes[n % len(nodes)]
        if i % 3 == 0 and node is not tree:
            for parent in tree.iter():
                if node in list(parent):
                    parent.remove(node)
                    break
        elif node.attrib:
            keys = sorted(node.attrib)
            del node.attrib[keys[n % len(keys)]]
        else:
            node.text = None
        nodes = list(tree.iter())
    return tree


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fixture=st.sampled_from(ALL), seed=st.lists(st.integers(0, 10_000), min_size=1, max_size=25))
def test_parser_never_raises_with_parts_missing(fixture, seed):
    root = ET.fromstring(fixture.read_text())
    parse_domain(_mutations(root, seed))


@pytest.mark.parametrize("fixture", ALL, ids=lambda p: p.stem)
def test_parser_never_raises_with_every_attribute_gone(fixture):
    root = ET.fromstring(fixture.read_text())
    for node in root.iter():
        node.attrib.clear()
    parse_domain(root)
    for node in list(root.iter()):
        for child in list(node):
            child.text = "not-a-number" if child.text else None
    parse_domain(root)
