#!/usr/bin/env python3
"""Write kvmtui/data/demo-fleet.xml: the lab that `kvmtui --demo` opens with libvirt's test driver.

The lab follows the KVM study notes in shared/seeds: a Windows 10 guest with Hyper-V
enlightenments and SPICE clipboard/file-sharing channels, bridged and macvtap networking, qcow2
and raw disks, an SMP topology, every domain state, and snapshot trees.  Snapshots are embedded
with a copy of their domain, as libvirt stores them, so the test driver loads them silently.

The last five VMs are for the advice (kvmtui/virt/advice): each shows findings its XML and the
test driver's host truly give (domain type 'kvm' or 'qemu', which the test driver keeps), and
nextcloud is the well-configured one with none to act on.  Rate findings (exits, steal) need a
real KVM guest: the test driver has no exit counters, and none are faked here.

Run it after changing the lab; tests/pure/test_demo_fleet.py fails when the shipped file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree import ElementTree as ET

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
DEMO_NS = "https://kvmtui.invalid/demo"
OUT = Path(__file__).resolve().parent.parent / "kvmtui" / "data" / "demo-fleet.xml"

# libvirt's runstate numbers (virDomainState)
RUNNING, BLOCKED, PAUSED, SHUTDOWN, SHUTOFF, CRASHED, PMSUSPENDED = 1, 2, 3, 4, 5, 6, 7
BASE_TIME = 1_700_000_000  # 2023-11-14: a fixed clock, so screenshots never change


def disk(src: str, dev: str, bus: str = "virtio", fmt: str = "qcow2", device: str = "disk",
         kind: str = "file", driver: str = "") -> str:
    """driver: more <driver> attributes, as written (" cache='none' io='native'")."""
    source = f"<source {'dev' if kind == 'block' else 'file'}='{src}'/>"
    ro = "<readonly/>" if device == "cdrom" else ""
    return (f"<disk type='{kind}' device='{device}'><driver name='qemu' type='{fmt}'{driver}/>"
            f"{source}<target dev='{dev}' bus='{bus}'/>{ro}</disk>")


def nic(mac: str, kind: str, source: str, model: str = "virtio", mode: str = "",
        driver: str = "") -> str:
    """driver: the backend, <driver name='vhost'> (in the host kernel) or 'qemu'."""
    attr = {"bridge": "bridge", "network": "network", "direct": "dev"}[kind]
    mode_attr = f" mode='{mode}'" if mode else ""
    driver_el = f"<driver name='{driver}'/>" if driver else ""
    return (f"<interface type='{kind}'><mac address='{mac}'/>"
            f"<source {attr}='{source}'{mode_attr}/><model type='{model}'/>{driver_el}</interface>")


SPICE = ("<graphics type='spice' autoport='yes' listen='127.0.0.1'><listen type='address' "
         "address='127.0.0.1'/></graphics><video><model type='qxl' vram='65536' heads='1'/></video>")
SPICE_CHANNELS = ("<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>"
                  "<channel type='spiceport'><source channel='org.spice-space.webdav.0'/>"
                  "<target type='virtio' name='org.spice-space.webdav.0'/></channel>")
AGENT = ("<channel type='unix'><source mode='bind'/>"
         "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>")
SERIAL = ("<serial type='pty'><target port='0'/></serial>"
          "<console type='pty'><target type='serial' port='0'/></console>")
IMG = "/var/lib/libvirt/images"
ISO = "/var/lib/libvirt/iso"
LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"
# cache='none' bypasses the host's page cache, io='native' submits with Linux AIO
TUNED_DISK = " cache='none' io='native' discard='unmap'"

# name, uuid, state, vcpu, memory MiB, extra domain XML (features/cpu/clock), devices,
# flags: transient, managed save, autostart; kind: the domain type (default 'test');
# os_id: libosinfo's id, as virt-install and virt-manager write it in <metadata>
DOMAINS = [
    dict(name="win10", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000001", state=RUNNING, vcpu=4,
         mib=8192, autostart=True,
         extra="<features><acpi/><apic/><hyperv mode='custom'><relaxed state='on'/>"
               "<vapic state='on'/><spinlocks state='on' retries='8191'/></hyperv></features>"
               "<cpu mode='host-passthrough' check='none'/>"
               "<clock offset='localtime'><timer name='hypervclock' present='yes'/></clock>",
         devices=disk(f"{IMG}/win10.qcow2", "sda", "sata")
         + disk(f"{ISO}/cn_windows_10_consumer_editions_version_1909_updated_jan_2020_x64_dvd_47161f17.iso",
                "sdb", "sata", "raw", "cdrom")
         + nic("52:54:00:6b:3c:01", "bridge", "virbr0", "e1000e") + SPICE + SPICE_CHANNELS
         + "<input type='tablet' bus='usb'/>"),
    dict(name="vm1", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000002", state=SHUTOFF, vcpu=2, mib=2048,
         devices=disk(f"{IMG}/vm1.qcow2", "vda") + nic("52:54:00:6b:3c:02", "network", "default")
         + SERIAL),
    dict(name="web-macvtap", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000003", state=RUNNING, vcpu=2,
         mib=4096, autostart=True,
         devices=disk(f"{IMG}/web.qcow2", "vda")
         + nic("52:54:00:6b:3c:03", "direct", "eno1", mode="bridge") + SERIAL + AGENT),
    dict(name="db-storage", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000004", state=RUNNING, vcpu=4,
         mib=16384,
         devices=disk(f"{IMG}/db-os.qcow2", "vda") + disk(f"{IMG}/db-data.raw", "vdb", fmt="raw")
         + disk(f"{ISO}/debian-12.5.0-amd64-netinst.iso", "sda", "sata", "raw", "cdrom")
         + nic("52:54:00:6b:3c:04", "network", "default") + SERIAL + AGENT),
    dict(name="build-smp", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000005", state=RUNNING, vcpu=8,
         mib=12288,
         extra="<cpu mode='custom' match='exact'><model fallback='allow'>EPYC</model>"
               "<topology sockets='2' dies='1' cores='2' threads='2'/></cpu>",
         devices=disk(f"{IMG}/build.qcow2", "vda") + nic("52:54:00:6b:3c:05", "network", "default")
         + SERIAL + AGENT + SPICE + SPICE_CHANNELS),
    dict(name="fedora-paused", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000006", state=PAUSED, vcpu=2,
         mib=4096, devices=disk(f"{IMG}/fedora.qcow2", "vda")
         + nic("52:54:00:6b:3c:06", "network", "default")),
    dict(name="legacy-crashed", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000007", state=CRASHED, vcpu=1,
         mib=1024, devices=disk(f"{IMG}/legacy.img", "hda", "ide", "raw")
         + nic("52:54:00:6b:3c:07", "network", "default", "rtl8139")),
    dict(name="laptop-sleep", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000008", state=PMSUSPENDED,
         vcpu=2, mib=2048, devices=disk(f"{IMG}/laptop.qcow2", "vda") + AGENT),
    dict(name="ci-runner", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000009", state=SHUTOFF, vcpu=4,
         mib=8192, managed_save=True, devices=disk(f"{IMG}/ci.qcow2", "vda")
         + nic("52:54:00:6b:3c:09", "network", "default")),
    dict(name="router", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa0000000a", state=BLOCKED, vcpu=1, mib=512,
         autostart=True, devices=disk(f"{IMG}/router.qcow2", "vda")
         + nic("52:54:00:6b:3c:0a", "bridge", "virbr0") + nic("52:54:00:6b:3c:1a", "direct", "eno2",
                                                              mode="vepa") + SERIAL),
    dict(name="scratch-transient", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa0000000b", state=RUNNING,
         vcpu=1, mib=1024, transient=True, devices=disk(f"{IMG}/scratch.qcow2", "vda")),
    dict(name="kiosk-shutdown", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa0000000c", state=SHUTDOWN,
         vcpu=2, mib=2048, devices=disk(f"{IMG}/kiosk.qcow2", "vda") + SPICE),
    # -- for the advice: real domain types, so the rules on KVM and TCG guests apply --
    # Windows 11 in XML written by hand (libosinfo's id kept): no Hyper-V enlightenments, no
    # hypervclock, and 4 vCPUs with no <topology> (4 sockets: Windows 11 uses 2)
    dict(name="office-win11", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa0000000d", state=RUNNING, vcpu=4,
         mib=8192, kind="kvm", os_id="http://microsoft.com/win/11",
         extra="<features><acpi/><apic/></features>"
               "<cpu mode='host-passthrough' check='none' migratable='on'/>"
               "<clock offset='localtime'><timer name='rtc' tickpolicy='catchup'/>"
               "<timer name='pit' tickpolicy='delay'/><timer name='hpet' present='no'/></clock>",
         devices=disk(f"{IMG}/office-win11.qcow2", "vda")
         + nic("52:54:00:6b:3c:0d", "bridge", "virbr0") + SPICE + SPICE_CHANNELS + AGENT
         + "<input type='tablet' bus='usb'/>"),
    # defined where /dev/kvm was missing: QEMU's translator (TCG) runs it
    dict(name="tcg-sandbox", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa0000000e", state=RUNNING, vcpu=2,
         mib=2048, kind="qemu", extra="<cpu mode='maximum' check='none'/>",
         devices=disk(f"{IMG}/sandbox.qcow2", "vda")
         + nic("52:54:00:6b:3c:0e", "network", "default") + SERIAL + AGENT),
    # carried over from an old host: a generic CPU model, no guest agent, a write-through
    # disk cache and a virtio NIC served by QEMU instead of vhost-net
    dict(name="erp-centos7", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa0000000f", state=RUNNING, vcpu=2,
         mib=4096, kind="kvm",
         extra="<cpu mode='custom' match='exact' check='none'>"
               "<model fallback='allow'>qemu64</model></cpu>",
         devices=disk(f"{IMG}/erp-centos7.qcow2", "vda", driver=" cache='writethrough'")
         + nic("52:54:00:6b:3c:0f", "network", "default", driver="qemu") + SERIAL),
    # sized for a 32-thread workstation: more vCPUs than this host's 16 CPUs, over both of
    # its NUMA nodes, with no pinning
    dict(name="render-node", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000010", state=RUNNING, vcpu=32,
         mib=32768, kind="kvm",
         extra="<cpu mode='host-passthrough' check='none' migratable='on'>"
               "<topology sockets='2' dies='1' cores='8' threads='2'/></cpu>",
         devices=disk(f"{IMG}/render.qcow2", "vda", driver=TUNED_DISK)
         + nic("52:54:00:6b:3c:10", "network", "default") + SERIAL + AGENT),
    # the well-configured one: KVM, host-model CPU in one socket, virtio disks with cache='none'
    # and io='native', a virtio NIC on vhost-net, the guest agent
    dict(name="nextcloud", uuid="5f0a3a4e-0c1d-4b5e-9a61-10aa00000011", state=RUNNING, vcpu=4,
         mib=8192, kind="kvm", autostart=True,
         extra="<cpu mode='host-model' check='partial'>"
               "<topology sockets='1' dies='1' cores='4' threads='1'/></cpu>",
         devices=disk(f"{IMG}/nextcloud.qcow2", "vda", driver=TUNED_DISK)
         + disk(f"{IMG}/nextcloud-data.raw", "vdb", fmt="raw", driver=TUNED_DISK)
         + nic("52:54:00:6b:3c:11", "bridge", "virbr0", driver="vhost") + SERIAL + AGENT),
]

# Snapshot trees: (name, parent, minutes after BASE_TIME, captured state, description, kind)
SNAPSHOTS = {
    "win10": ([
        ("fresh-install", None, 0, "shutoff", "Windows 10 1909 right after setup", "internal"),
        ("virtio-drivers", "fresh-install", 60, "running", "virtio + QXL drivers installed", "internal"),
        ("spice-tools", "virtio-drivers", 120, "running", "spice-guest-tools and webdavd", "internal"),
        ("office", "spice-tools", 300, "running", "Office 2019, activated", "internal"),
        ("updates-2020-01", "virtio-drivers", 200, "running", "January 2020 cumulative update", "internal"),
        ("sysprep", "fresh-install", 30, "shutoff", "Generalized image for cloning", "internal"),
    ], "spice-tools"),
    "build-smp": ([
        ("base", None, 0, "shutoff", "Debian 12 minimal", "internal"),
        ("toolchain", "base", 45, "shutoff", "gcc, clang, rust", "internal"),
        ("ccache-warm", "toolchain", 90, "running", "ccache primed with a kernel build", "internal"),
        ("pre-upgrade", "toolchain", 150, "shutoff", "before the bookworm point release", "external"),
        ("post-upgrade", "pre-upgrade", 160, "shutoff", "after the point release", "external"),
    ], "ccache-warm"),
    "vm1": ([
        ("clean", None, 0, "shutoff", "", "internal"),
        ("configured", "clean", 20, "shutoff", "network and users set up", "internal"),
        ("hardened", "configured", 40, "shutoff", "CIS baseline applied", "internal"),
    ], "hardened"),
}


def domain_xml(spec: dict, for_snapshot: bool = False) -> str:
    kib = spec["mib"] * 1024
    meta = []
    if spec.get("os_id"):
        meta.append(f"<libosinfo:libosinfo xmlns:libosinfo='{LIBOSINFO_NS}'>"
                    f"<libosinfo:os id='{spec['os_id']}'/></libosinfo:libosinfo>")
    if spec.get("autostart") and not for_snapshot:
        meta.append(f"<demo:lab xmlns:demo='{DEMO_NS}' autostart='yes'/>")
    metadata = f"<metadata>{''.join(meta)}</metadata>" if meta else ""
    return (f"<domain type='{spec.get('kind', 'test')}'><name>{spec['name']}</name>"
            f"<uuid>{spec['uuid']}</uuid>{metadata}"
            f"<memory unit='KiB'>{kib}</memory><currentMemory unit='KiB'>{kib}</currentMemory>"
            f"<vcpu placement='static'>{spec['vcpu']}</vcpu>"
            "<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><boot dev='hd'/></os>"
            f"{spec.get('extra', '')}<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>"
            f"<on_crash>destroy</on_crash><devices>{spec['devices']}</devices></domain>")


def snapshot_disks(spec: dict, snap_name: str, kind: str) -> str:
    """Every disk of the domain, by its target, as libvirt records them in a snapshot: a
    read-only one (a CD-ROM) is not snapshotted, and an external overlay is named after its
    image with the snapshot's name for the extension (libvirt's default)."""
    devices = ET.fromstring(f"<devices>{spec['devices']}</devices>")
    disks = []
    for dev in devices.findall("disk"):
        target = dev.find("target").get("dev")
        if dev.find("readonly") is not None:
            disks.append(f"<disk name='{target}' snapshot='no'/>")
        elif kind == "external":
            image = Path(dev.find("source").get("file") or dev.find("source").get("dev"))
            disks.append(f"<disk name='{target}' snapshot='external' type='file'>"
                         f"<driver type='qcow2'/><source file='{image.with_suffix('.' + snap_name)}'/>"
                         "</disk>")
        else:
            disks.append(f"<disk name='{target}' snapshot='internal'/>")
    return f"<disks>{''.join(disks)}</disks>"


def snapshot_xml(spec: dict, snap: tuple, current: str) -> str:
    name, parent, minutes, state, description, kind = snap
    with_memory = state == "running" and kind == "internal"
    memory = "<memory snapshot='internal'/>" if with_memory else "<memory snapshot='no'/>"
    disks = snapshot_disks(spec, name, kind)
    parent_xml = f"<parent><name>{parent}</name></parent>" if parent else ""
    desc = f"<description>{description}</description>" if description else ""
    return (f"<test:domainsnapshot><name>{name}</name>{desc}<state>{state}</state>{parent_xml}"
            f"<creationTime>{BASE_TIME + minutes * 60}</creationTime>{memory}{disks}"
            f"{domain_xml(spec, for_snapshot=True)}<active>{int(name == current)}</active>"
            "</test:domainsnapshot>")


def build() -> str:
    parts = [f"<node xmlns:test='{TEST_NS}'>"]
    for spec in DOMAINS:
        dom = domain_xml(spec)
        test_bits = f"<test:runstate>{spec['state']}</test:runstate>"
        if spec.get("transient"):
            test_bits += "<test:transient/>"
        if spec.get("managed_save"):
            test_bits += "<test:hasmanagedsave/>"
        snaps, current = SNAPSHOTS.get(spec["name"], ([], None))
        test_bits += "".join(snapshot_xml(spec, s, current) for s in snaps)
        kind = spec.get("kind", "test")
        parts.append(dom.replace(f"<domain type='{kind}'>",
                                 f"<domain type='{kind}' xmlns:test='{TEST_NS}'>", 1)
                     .replace("</domain>", test_bits + "</domain>"))
    parts.append("<network><name>default</name><uuid>5f0a3a4e-0c1d-4b5e-9a61-10aa000000f0</uuid>"
                 "<forward mode='nat'/><bridge name='virbr0'/><ip address='192.168.122.1' "
                 "netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/>"
                 "</dhcp></ip></network>")
    parts.append("</node>")
    ET.register_namespace("test", TEST_NS)
    ET.register_namespace("demo", DEMO_NS)
    ET.register_namespace("libosinfo", LIBOSINFO_NS)
    root = ET.fromstring("".join(parts))  # proves it is well-formed before it is written
    ET.indent(root, "  ")
    body = ET.tostring(root, encoding="unicode")
    return "<!-- generated by scripts/make_demo_fleet.py: edit that, not this -->\n" + body + "\n"


def main() -> int:
    text = build()
    if "--check" in sys.argv[1:]:
        return 0 if OUT.exists() and OUT.read_text() == text else 1
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
