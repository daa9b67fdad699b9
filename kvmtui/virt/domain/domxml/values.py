"""Reading values from domain XML: numbers, sizes in KiB, yes/no, host:port, PCI addresses.

A malformed value reads as None, never as an exception."""

from __future__ import annotations

from xml.etree import ElementTree as ET

_UNITS = {"b": 1 / 1024, "bytes": 1 / 1024, "k": 1, "kib": 1, "kb": 1000 / 1024,
          "m": 1024, "mib": 1024, "mb": 1000 ** 2 / 1024, "g": 1024 ** 2, "gib": 1024 ** 2,
          "gb": 1000 ** 3 / 1024, "t": 1024 ** 3, "tib": 1024 ** 3, "tb": 1000 ** 4 / 1024}



def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    try:
        return int(text, 0) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None


def _text(el: ET.Element | None, path: str | None = None) -> str | None:
    if el is None:
        return None
    node = el.find(path) if path else el
    if node is None or node.text is None:
        return None
    return node.text.strip()


def _attr(el: ET.Element | None, path: str, name: str) -> str | None:
    if el is None:
        return None
    node = el.find(path)
    return None if node is None else node.get(name)


def _kib(el: ET.Element | None) -> int | None:
    value = _int(_text(el))
    if value is None or el is None:
        return None
    factor = _UNITS.get((el.get("unit") or "KiB").lower(), 1)
    return int(value * factor)


def _yes(value: str | None) -> bool:
    return (value or "").lower() in ("yes", "on", "true", "1")


def _host_port(host: str | None, port: str | None) -> str:
    """'mon1:6789', '[2001:db8::1]:6789': an IPv6 address is bracketed, as in a URL, or its
    last group would read as the port."""
    host = host or ""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}" if port else host


def _pci(address: ET.Element | None) -> str:
    if address is None:
        return ""
    if address.get("bus") is not None and address.get("slot") is not None:
        return "{}:{}:{}.{}".format(*(str(address.get(k, "0")).replace("0x", "")
                                      for k in ("domain", "bus", "slot", "function")))
    return ""


