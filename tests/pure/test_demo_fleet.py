"""The shipped demo lab is current and holds what the study notes describe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import libvirt

from kvmtui.virt.session.demo import apply_demo_settings, demo_uri

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_file_matches_its_generator():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_fleet.py"), "--check"])
    assert result.returncode == 0, "run scripts/make_demo_fleet.py and commit the result"


def test_demo_lab_contents():
    conn = libvirt.open(demo_uri())
    try:
        apply_demo_settings(conn)
        doms = {d.name(): d for d in conn.listAllDomains(0)}
        assert 10 <= len(doms) <= 14
        states = {d.state()[0] for d in doms.values()}
        assert states == {1, 2, 3, 4, 5, 6, 7}  # every state a domain can be in
        assert any(d.hasManagedSaveImage(0) for d in doms.values())

        win10 = ET.fromstring(doms["win10"].XMLDesc(0))
        assert doms["win10"].state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert win10.findtext("vcpu") == "4" and win10.findtext("memory") == str(8 * 1024 * 1024)
        hv = win10.find("features/hyperv")
        assert {e.tag for e in hv} >= {"relaxed", "vapic", "spinlocks"}
        assert hv.find("spinlocks").get("retries") == str(0x1FFF)
        assert win10.find("clock/timer[@name='hypervclock']") is not None  # hv_time
        assert win10.find("devices/disk[@device='cdrom']/source").get("file").endswith(".iso")
        assert win10.find("devices/disk[@device='disk']/driver").get("type") == "qcow2"
        assert win10.find("devices/interface[@type='bridge']/source").get("bridge") == "virbr0"
        channels = {c.get("name") for c in win10.iter("target") if c.get("name")}
        assert {"com.redhat.spice.0", "org.spice-space.webdav.0"} <= channels
        assert win10.find("devices/graphics").get("type") == "spice"
        assert doms["win10"].autostart() == 1

        assert doms["vm1"].state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        xmls = {n: ET.fromstring(d.XMLDesc(0)) for n, d in doms.items()}
        assert any(x.find("devices/interface[@type='direct']") is not None for x in xmls.values())
        assert any(x.find(".//target[@name='org.qemu.guest_agent.0']") is not None
                   for x in xmls.values())
        assert any({d.find("driver").get("type") for d in x.findall("devices/disk")} >= {"raw", "qcow2"}
                   and x.find("devices/disk[@device='cdrom']") is not None for x in xmls.values())
        topo = [x.find("cpu/topology") for x in xmls.values() if x.find("cpu/topology") is not None]
        assert any((t.get("sockets"), t.get("cores"), t.get("threads")) == ("2", "2", "2") for t in topo)

        deepest, branching = 0, False
        for dom in doms.values():
            snaps = dom.listAllSnapshots(0)
            parents = {s.getName(): (s.getParent().getName() if _has_parent(s) else None)
                       for s in snaps}
            for name in parents:
                depth, p = 1, parents[name]
                while p:
                    depth, p = depth + 1, parents[p]
                deepest = max(deepest, depth)
            children = [p for p in parents.values() if p]
            if any(children.count(p) > 1 for p in set(children)):
                branching = True
        assert deepest >= 3 and branching
    finally:
        conn.close()


def _has_parent(snap) -> bool:
    try:
        snap.getParent()
        return True
    except libvirt.libvirtError:
        return False


def test_every_snapshot_names_the_disks_its_domain_has():
    """libvirt records every disk of the domain in a snapshot, by its target: the snapshot tree
    shows them ("disks: sda internal, sdb no"), so a name the domain lacks is a made-up disk."""
    conn = libvirt.open(demo_uri())
    try:
        checked = 0
        for dom in conn.listAllDomains(0):
            targets = [t.get("dev") for t in
                       ET.fromstring(dom.XMLDesc(0)).findall("devices/disk/target")]
            for snap in dom.listAllSnapshots(0):
                root = ET.fromstring(snap.getXMLDesc(0))
                named = [d.get("name") for d in root.findall("disks/disk")]
                assert named == targets, f"{dom.name()} snapshot {snap.getName()}"
                recorded = [t.get("dev") for t in root.findall("domain/devices/disk/target")]
                assert recorded == targets, f"{dom.name()} snapshot {snap.getName()}"
                checked += 1
        assert checked >= 10
    finally:
        conn.close()
