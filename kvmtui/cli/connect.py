"""What the script sub-commands (`inspect`, `top`) share: which URIs, and opening them read-only."""

from __future__ import annotations

import os
import sys


def script_uris(connect: list[str], demo: bool) -> list[str]:
    """-c URIs, then the demo lab; without either, $LIBVIRT_DEFAULT_URI or libvirt's default."""
    from kvmtui.virt.session.demo import demo_uri

    uris = list(connect) + ([demo_uri()] if demo else [])
    return uris or [os.environ.get("LIBVIRT_DEFAULT_URI", "")]


def open_readonly(uri: str):
    """A read-only libvirt connection, or None after printing libvirt's reason in one line."""
    import libvirt

    from kvmtui.virt.session.errors import connect_failure_line
    from kvmtui.virt.session.eventloop import ensure_event_loop
    from kvmtui.virt.session.native_stderr import native_stderr_silenced

    ensure_event_loop()  # silences libvirt's own stderr printing, as the console does
    try:
        with native_stderr_silenced():
            return libvirt.openReadOnly(uri or None)
    except libvirt.libvirtError as err:
        print(connect_failure_line(uri or "libvirt's default URI", err), file=sys.stderr)
        return None


class Opened:
    """What the stats sampler needs of a script's connection: its URI and the libvirt handle."""

    def __init__(self, uri: str, conn) -> None:
        self.uri = uri
        self.conn = conn
