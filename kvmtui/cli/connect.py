"""What the script sub-commands (`inspect`, `top`, `advise`) share: which URIs, opening them
read-only, and printing their results."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


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


def print_results(results: list[dict], as_json: bool, text_block: Callable[[dict], str]) -> int:
    """A script's results on stdout: one JSON array, or a text block per item. A reader that
    stops early (`| head`) is not an error."""
    import json

    try:
        if as_json:
            json.dump(results, sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            for item in results:
                print(text_block(item))
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
