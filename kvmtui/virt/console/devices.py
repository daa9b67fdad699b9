"""The console devices of a domain that virDomainOpenConsole can attach to, from its XML.

libvirt names a device by its alias (`serial0`, `console1`), as `virsh console --devname`
takes it. The live XML lists the first serial port twice — as `<serial>` and again as the
`<console>` that points at it — under the same alias: it is one device.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

# Character devices QEMU exposes on a pseudo-terminal, the only kind libvirt can stream.
_STREAMABLE = {"pty"}


@dataclass(frozen=True, slots=True)
class ConsoleDevice:
    alias: str | None   # what openConsole is given; None: libvirt's first console
    kind: str           # "serial" or "console"
    target: str         # serial, virtio, sclp…
    port: int | None

    @property
    def label(self) -> str:
        name = self.alias or f"{self.kind}{self.port if self.port is not None else ''}"
        what = "serial port" if self.kind == "serial" else f"{self.target} console"
        port = f" {self.port}" if self.port is not None else ""
        return f"{name} ({what}{port})"


def console_devices(xml: str) -> list[ConsoleDevice]:
    """The devices, first the one libvirt opens by default (the first console, else the first
    serial port), each once."""
    root = ET.fromstring(xml)
    devices = root.find("devices")
    if devices is None:
        return []
    found: list[ConsoleDevice] = []
    seen: set[str] = set()
    # <console> first: libvirt's default device is the first console
    for el in [*devices.findall("console"), *devices.findall("serial")]:
        if el.get("type", "pty") not in _STREAMABLE:
            continue
        alias_el = el.find("alias")
        alias = alias_el.get("name") if alias_el is not None else None
        target_el = el.find("target")
        target = (target_el.get("type") if target_el is not None else None) or "serial"
        port_text = target_el.get("port") if target_el is not None else None
        port = int(port_text) if port_text and port_text.isdigit() else None
        serial = target in ("serial", "isa-serial")
        # a <console> on serial port N is serial port N again (same alias when running)
        identity = alias or (f"serial:{port}" if serial else f"{el.tag}:{target}:{port}")
        if identity in seen:
            continue
        seen.add(identity)
        found.append(ConsoleDevice(alias, "serial" if serial else el.tag, target, port))
    return found
