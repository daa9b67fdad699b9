"""Domain XML -> typed models (pure functions, no libvirt calls).

Never raises on XML libvirt produced, nor on XML with parts missing: every value is optional, an
element kvmtui has no reader for is kept as "other" with its tag, and a malformed number is
None. The readers follow libvirt's formatdomain documentation.
"""


from __future__ import annotations

from xml.etree import ElementTree as ET

from kvmtui.virt.domain.details import DomainDetails
from kvmtui.virt.domain.domxml.devices import (
    parse_channel,
    parse_console,
    parse_device,
    parse_graphics,
    parse_nic,
)
from kvmtui.virt.domain.domxml.machine import parse_cpu, parse_memory, parse_overview
from kvmtui.virt.domain.domxml.storage import parse_disk

# Top-level elements read somewhere below; anything else is reported as "other".
_KNOWN_TOP = {
    "name", "uuid", "title", "description", "metadata", "memory", "currentMemory", "maxMemory",
    "memoryBacking", "vcpu", "vcpus", "iothreads", "cputune", "cpu", "numatune", "os", "features",
    "clock", "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "devices",
    "resource", "seclabel", "blkiotune", "memtune", "genid", "sysinfo", "idmap", "keywrap",
    "launchSecurity", "perf", "bootloader", "bootloader_args", "throttlegroups", "iothreadids",
    "defaultiothread",
}

# Device elements with readers of their own (not listed again under Devices).
_OWN_READERS = {"disk", "interface", "graphics", "channel", "serial", "console", "parallel",
                "emulator"}


# -- the whole domain --------------------------------------------------------------------

def parse_domain(xml: str | ET.Element) -> DomainDetails:
    """Parse a domain's XML (as virDomainGetXMLDesc returns it)."""
    root = ET.fromstring(xml) if isinstance(xml, str) else xml
    devices = root.find("devices")
    children = list(devices) if devices is not None else []
    return DomainDetails(
        overview=parse_overview(root),
        memory=parse_memory(root),
        cpu=parse_cpu(root),
        disks=tuple(parse_disk(el) for el in children if el.tag == "disk"),
        nics=tuple(parse_nic(el) for el in children if el.tag == "interface"),
        graphics=tuple(parse_graphics(el) for el in children if el.tag == "graphics"),
        channels=tuple(parse_channel(el) for el in children if el.tag == "channel"),
        consoles=tuple(parse_console(el) for el in children
                       if el.tag in ("serial", "console", "parallel")),
        devices=tuple(parse_device(el) for el in children if el.tag not in _OWN_READERS),
        other=tuple(el.tag for el in root if el.tag not in _KNOWN_TOP),
    )
