"""The shipped demo lab: a libvirt test-driver node file, opened in-process with no daemon."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from xml.etree import ElementTree as ET

import libvirt

DEMO_NS = "https://kvmtui.invalid/demo"


def demo_fleet_path() -> Path:
    return Path(str(resources.files("kvmtui") / "data" / "demo-fleet.xml"))


def demo_uri() -> str:
    return f"test://{demo_fleet_path()}"


def apply_demo_settings(conn: libvirt.virConnect) -> None:
    """Set what a node file cannot express (autostart), from the lab's own metadata."""
    for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT):
        try:
            meta = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, DEMO_NS)
        except libvirt.libvirtError:
            continue
        if ET.fromstring(meta).get("autostart") == "yes":
            dom.setAutostart(1)
