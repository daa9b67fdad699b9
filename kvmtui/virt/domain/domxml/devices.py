"""NICs, displays, channels, consoles and every other device."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from kvmtui.virt.domain.details import (
    Channel,
    Console,
    Device,
    Graphics,
    Nic,
)
from kvmtui.virt.domain.domxml.values import _attr, _host_port, _int, _kib, _pci, _text, _yes

_CHANNEL_PURPOSES = {
    "com.redhat.spice.0": "clipboard (SPICE vdagent)",
    "org.spice-space.webdav.0": "file sharing (SPICE WebDAV)",
    "org.qemu.guest_agent.0": "guest agent",
    "org.libguestfs.channel.0": "libguestfs",
    "org.spice-space.stream.0": "SPICE streaming agent",
}



# -- NICs --------------------------------------------------------------------------------

def parse_nic(nic: ET.Element) -> Nic:
    kind = nic.get("type", "")
    source = nic.find("source")
    shown = mode = portgroup = None
    if source is not None:
        mode = source.get("mode")
        portgroup = source.get("portgroup")
        if kind == "network":
            shown = source.get("network")
        elif kind == "bridge":
            shown = source.get("bridge")
        elif kind == "direct":
            shown = source.get("dev")
        elif kind == "vhostuser":
            shown = source.get("path")
        elif kind == "hostdev":
            shown = _pci(source.find("address")) or None
        elif kind in ("mcast", "server", "client", "udp"):
            shown = _host_port(source.get("address"), source.get("port") or "")
        else:
            shown = source.get("network") or source.get("bridge") or source.get("dev")
    if kind == "ethernet" and shown is None:
        shown = _attr(nic, "target", "dev")  # the host tap device is what it plugs into
    virtualport = nic.find("virtualport")
    driver = nic.find("driver")
    return Nic(
        type=kind, mac=_attr(nic, "mac", "address"), model=_attr(nic, "model", "type"),
        source=shown, mode=mode, target=_attr(nic, "target", "dev"),
        link_state=_attr(nic, "link", "state"), boot_order=_int(_attr(nic, "boot", "order")),
        portgroup=portgroup,
        virtualport=virtualport.get("type") if virtualport is not None else None,
        driver=driver.get("name") if driver is not None else None,
        queues=_int(driver.get("queues")) if driver is not None else None,
    )


# -- graphics, channels, consoles --------------------------------------------------------

def parse_graphics(el: ET.Element) -> Graphics:
    listen = el.get("listen")
    socket = el.get("socket")
    listen_type = None
    for child in el.findall("listen"):
        kind = child.get("type")
        listen_type = listen_type or kind
        if kind == "none":
            # no listener at all (libvirt writes this for a SPICE given neither port nor
            # listen): a viewer attaches through libvirt, so any address or port is moot
            listen, socket, listen_type = None, None, "none"
            break
        if kind == "socket":
            socket = child.get("socket") or socket
        elif child.get("address"):
            listen = child.get("address")
        elif child.get("network") and not listen:
            listen = f"network {child.get('network')}"
    if listen_type is None and (socket or listen):
        listen_type = "socket" if socket else "address"  # the older attributes-only form
    port = _int(el.get("port"))
    return Graphics(type=el.get("type", "?"), listen=listen, port=port,
                    autoport=_yes(el.get("autoport")) or port == -1,
                    tls_port=_int(el.get("tlsPort")), socket=socket, listen_type=listen_type,
                    display=el.get("display"))


def parse_channel(el: ET.Element) -> Channel:
    target = el.find("target")
    name = target.get("name") if target is not None else None
    target_type = target.get("type") if target is not None else None
    if name in _CHANNEL_PURPOSES:
        purpose = _CHANNEL_PURPOSES[name]
    elif target_type == "guestfwd" and target is not None:
        purpose = f"guest forwarding to {target.get('address', '?')}:{target.get('port', '?')}"
    elif el.get("type") == "spicevmc":
        purpose = "clipboard (SPICE vdagent)"
    else:
        purpose = "channel"
    source = el.find("source")
    shown = None
    if source is not None:
        shown = source.get("path") or source.get("channel") or source.get("host")
    return Channel(type=el.get("type", "?"), target_type=target_type, target_name=name,
                   purpose=purpose, state=target.get("state") if target is not None else None,
                   source=shown)


def parse_console(el: ET.Element) -> Console:
    source = el.find("source")
    shown = None
    if source is not None:
        if source.get("host") or source.get("service"):
            shown = _host_port(source.get("host"), source.get("service") or "")
        else:
            shown = source.get("path")
    shown = shown or el.get("tty")
    return Console(kind=el.tag, type=el.get("type", "?"),
                   target_type=_attr(el, "target", "type"), port=_int(_attr(el, "target", "port")),
                   source=shown)


# -- other devices -----------------------------------------------------------------------

class _Attrs(dict):
    """An element's attributes for str.format_map: a missing one reads '?'."""

    def __missing__(self, key: str) -> str:
        return "?"


# Devices summed up by their own attributes alone.
_SIMPLE_DEVICES = {
    "sound": "sound {model}",
    "memballoon": "memory balloon {model}",
    "redirdev": "USB redirection over {type}",
    "smartcard": "smartcard {mode}",
    "hub": "{type} hub",
    "shmem": "shared memory {name}",
    "iommu": "IOMMU {model}",
    "crypto": "crypto {model} ({type})",
    "audio": "audio backend {type}",
}


def parse_device(el: ET.Element) -> Device:
    tag = el.tag
    attrs = {k: v for k, v in el.attrib.items()}
    if tag == "controller":
        summary = f"{el.get('type', '?')} controller {el.get('index', '')}".strip()
        if el.get("model"):
            summary += f" ({el.get('model')})"
    elif tag == "input":
        summary = f"{el.get('type', '?')} on {el.get('bus', '?')}"
    elif tag == "video":
        model = el.find("model")
        summary = f"video {_attr(el, 'model', 'type') or '?'}"
        if model is not None and model.get("vram"):
            summary += f", vram {int(_int(model.get('vram')) or 0) // 1024} MiB"
        if model is not None and model.get("heads"):
            heads = model.get("heads")
            summary += f", {heads} head" + ("" if heads == "1" else "s")
    elif tag == "hostdev":
        source = el.find("source")
        where = _pci(source.find("address") if source is not None else None)
        vendor, product = _attr(source, "vendor", "id"), _attr(source, "product", "id")
        if vendor or product:
            where = f"{vendor or '?'}:{product or '?'}"
        summary = f"{el.get('type', '?')} passthrough {where}".strip()
        if el.get("managed"):
            summary += f" (managed={el.get('managed')})"
    elif tag == "tpm":
        backend = el.find("backend")
        summary = f"TPM {el.get('model', '?')}"
        if backend is not None:
            summary += f", {backend.get('type', '?')} {backend.get('version', '')}".rstrip()
    elif tag == "rng":
        backend = el.find("backend")
        summary = f"RNG {el.get('model', '?')}"
        if backend is not None:
            summary += f" from {_text(backend) or backend.get('model', '?')}"
    elif tag == "filesystem":
        summary = (f"filesystem {_attr(el, 'driver', 'type') or el.get('type', '?')}: "
                   f"{_attr(el, 'source', 'dir') or '?'} → {_attr(el, 'target', 'dir') or '?'}")
    elif tag == "watchdog":  # libvirt's default action is reset
        summary = f"watchdog {el.get('model', '?')}, action {el.get('action', 'reset')}"
    elif tag == "panic":  # the model is optional: QEMU picks one for the machine
        summary = f"panic notifier {el.get('model', '')}".strip()
    elif tag in _SIMPLE_DEVICES:
        summary = _SIMPLE_DEVICES[tag].format_map(_Attrs(el.attrib)).strip()
    elif tag == "vsock":
        summary = f"vsock cid {_attr(el, 'cid', 'address') or 'auto'}"
    elif tag == "memory":
        summary = f"memory {el.get('model', '?')} {(_kib(el.find('target/size')) or 0) // 1024} MiB"
    else:
        shown = " ".join(f"{k}={v}" for k, v in attrs.items())
        return Device(tag, f"{tag} {shown}".strip(), attrs, known=False)
    return Device(tag, summary, attrs)


