"""Short names for connection URIs, for the Host column and the header."""

from __future__ import annotations

import os
from urllib.parse import urlsplit


def host_label(uri: str) -> str:
    """'qemu+ssh://root@kvm1/system' -> 'kvm1'; 'test:///x/lab.xml' -> 'lab';
    'qemu:///system' -> 'localhost'."""
    parts = urlsplit(uri)
    if parts.hostname:
        return parts.hostname
    if parts.scheme.startswith("test") and parts.path not in ("", "/default"):
        return os.path.splitext(os.path.basename(parts.path))[0] or "test"
    if parts.scheme.startswith("test"):
        return "test"
    return "localhost"


def display_uri(uri: str) -> str:
    """The URI as the header shows it: a test driver's file path is cut to its file name."""
    parts = urlsplit(uri)
    if parts.scheme == "test" and parts.path.count("/") > 1:
        return f"test:///…/{os.path.basename(parts.path)}"
    return uri



def version_text(number: int) -> str:
    """libvirt's version numbers (major * 1,000,000 + minor * 1,000 + micro) as '9.0.0'."""
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"
