"""`kvmtui inspect --json`: the parsed models, agreeing with libvirt's own XML."""

from __future__ import annotations

import json
import subprocess
import sys
from xml.etree import ElementTree as ET

import libvirt
import pytest

from tests.helpers import copy_demo_fleet, fixture_node, write_fleet

REQUIRED = {"uri", "name", "uuid", "state", "vcpu", "cpu", "memory_kib", "disks", "interfaces",
            "hyperv", "graphics", "channels"}


def inspect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kvmtui", "inspect", *args], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def as_json(*args: str) -> list[dict]:
    result = inspect(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_named_domain_has_the_documented_schema(tmp_path):
    uri = copy_demo_fleet(tmp_path)
    (win10,) = as_json("win10", "-c", uri)
    assert REQUIRED <= set(win10)
    assert (win10["uri"], win10["name"], win10["state"]) == (uri, "win10", "running")
    assert win10["vcpu"]["current"] == win10["vcpu"]["max"] == 4
    assert set(win10["vcpu"]["topology"]) >= {"sockets", "cores", "threads"}
    assert win10["cpu"]["mode"] == "host-passthrough"
    assert win10["memory_kib"] == 8 * 1024 * 1024
    assert win10["hyperv"] == {"relaxed": True, "vapic": True, "spinlocks": "0x1fff", "time": True}
    disk, cdrom = win10["disks"]
    assert {k: disk[k] for k in ("device", "type", "bus", "target", "format", "readonly")} == {
        "device": "disk", "type": "file", "bus": "sata", "target": "sda", "format": "qcow2",
        "readonly": False}
    assert cdrom["device"] == "cdrom" and cdrom["readonly"] and cdrom["source"].endswith(".iso")
    (nic,) = win10["interfaces"]
    assert (nic["type"], nic["source"], nic["model"], nic["mac"]) == (
        "bridge", "virbr0", "e1000e", "52:54:00:6b:3c:01")
    assert [g["type"] for g in win10["graphics"]] == ["spice"]
    assert [c["name"] for c in win10["channels"]] == ["com.redhat.spice.0", "org.spice-space.webdav.0"]


def test_all_domains_when_none_is_named(tmp_path):
    uri = copy_demo_fleet(tmp_path)
    names = [d["name"] for d in as_json("-c", uri)]
    assert len(names) == 17 and names == sorted(names)


def test_unknown_domain_exits_1_with_a_clear_message(tmp_path):
    uri = copy_demo_fleet(tmp_path)
    result = inspect("win10", "nosuchvm", "-c", uri, "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line == f"kvmtui inspect: no domain named 'nosuchvm' on {uri}"


def test_connection_failure_is_one_line(tmp_path):
    result = inspect("-c", f"test://{tmp_path}/missing.xml", "--json")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_several_uris_name_their_domains(tmp_path):
    a = copy_demo_fleet(tmp_path, "a.xml")
    b = write_fleet(tmp_path / "b.xml", 3)
    got = as_json("-c", a, "-c", b)
    assert {d["uri"] for d in got} == {a, b}
    assert len(got) == 20


@pytest.mark.parametrize("fleet", ["demo", "generated"])
def test_json_agrees_with_libvirts_own_xml(tmp_path, fleet):
    uri = copy_demo_fleet(tmp_path) if fleet == "demo" else write_fleet(tmp_path / "f.xml", 20,
                                                                        paused_every=7)
    got = {d["uuid"]: d for d in as_json("-c", uri)}
    conn = libvirt.openReadOnly(uri)
    try:
        doms = conn.listAllDomains(0)
        assert set(got) == {d.UUIDString() for d in doms}
        for dom in doms:
            root = ET.fromstring(dom.XMLDesc(0))
            item = got[dom.UUIDString()]
            assert item["name"] == root.findtext("name")
            assert item["vcpu"]["max"] == int(root.findtext("vcpu"))
            assert item["vcpu"]["current"] == int(root.find("vcpu").get("current", root.findtext("vcpu")))
            assert item["memory_kib"] == int(root.findtext("currentMemory"))
            assert item["max_memory_kib"] == int(root.findtext("memory"))
            assert item["state"] == ["no state", "running", "idle", "paused", "in shutdown",
                                     "shut off", "crashed", "pmsuspended"][dom.state()[0]]
            disks = root.findall("devices/disk")
            assert [d["target"] for d in item["disks"]] == [d.find("target").get("dev") for d in disks]
            assert [d["format"] for d in item["disks"]] == [
                d.find("driver").get("type") if d.find("driver") is not None else None for d in disks]
            assert [d["source"] for d in item["disks"]] == [
                (d.find("source").get("file") if d.find("source") is not None else None) for d in disks]
            nics = root.findall("devices/interface")
            assert [n["mac"] for n in item["interfaces"]] == [n.find("mac").get("address") for n in nics]
            assert [n["type"] for n in item["interfaces"]] == [n.get("type") for n in nics]
            topo = root.find("cpu/topology")
            if topo is not None:
                assert item["vcpu"]["topology"]["sockets"] == int(topo.get("sockets"))
                assert item["vcpu"]["topology"]["threads"] == int(topo.get("threads"))
            assert [g["type"] for g in item["graphics"]] == [
                g.get("type") for g in root.findall("devices/graphics")]
            assert [c["name"] for c in item["channels"]] == [
                c.find("target").get("name") for c in root.findall("devices/channel")]
    finally:
        conn.close()


def test_text_output_without_json(tmp_path):
    result = inspect("build-smp", "-c", copy_demo_fleet(tmp_path))
    assert result.returncode == 0
    assert result.stdout.startswith("build-smp (running)")
    assert "disk vda disk virtio qcow2 /var/lib/libvirt/images/build.qcow2" in result.stdout


def test_displays_say_what_they_are_never_a_null_port(tmp_path):
    uri = fixture_node(tmp_path, "33-local-displays.xml", "27-graphics.xml")
    desktops, displays = as_json("local-displays", "desktops", "-c", uri)  # sorted by name
    assert [g["summary"] for g in displays["graphics"]] == [
        "SDL (local window on display :0)",
        "SPICE, no network listener",
        "VNC, no network listener",
        "SPICE, listen default, TLS port 5902",
        "VNC, listen 2001:db8::5, port 5905",
        "EGL headless (OpenGL rendering for the other displays)",
        "RDP, listen default, port 3389",
    ]
    sdl, spice_none = displays["graphics"][:2]
    assert (sdl["type"], sdl["display"], sdl["port"], sdl["listen_type"]) == ("sdl", ":0", None, None)
    assert (spice_none["listen_type"], spice_none["port"], spice_none["viewer"]) == ("none", None, None)
    assert displays["graphics"][4]["viewer"] == "remote-viewer vnc://[2001:db8::5]:5905"
    vnc_socket = desktops["graphics"][1]
    assert (vnc_socket["listen_type"], vnc_socket["socket"], vnc_socket["summary"]) == (
        "socket", "/run/libvirt/qemu/desktops.vnc", "VNC, socket /run/libvirt/qemu/desktops.vnc")


def test_ipv6_disk_hosts_in_brackets(tmp_path):
    (v6,) = as_json("v6-storage", "-c", fixture_node(tmp_path, "34-ipv6-hosts.xml"))
    assert [d["source"] for d in v6["disks"]] == [
        "rbd://[2001:db8::1]:6789,[2001:db8::2]/vms/v6-root",
        "nbd://[fd00:10::30]:10809/export1",
        "gluster://gluster1.lab:24007,[fd00:10::40]:24007/vol0/images/v6.qcow2",
        "iscsi://[fd00:10::20]:3260/iqn.2013-06.com.example:v6/0",
    ]
    assert v6["interfaces"][0]["source"] == "[2001:db8::10]:5555"
