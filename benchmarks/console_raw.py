#!/usr/bin/env python3
"""A guest's serial console through libvirt's raw stream, against `virsh console` in a pty.

On a private libvirtd (scripts/private_libvirtd.py; as root the system daemon) the integration
tier's shell guest (tests/integration/conftest.py, define_shell_guest: a busybox shell on ttyS0,
a pty serial port) is booted and measured:

- boot: `virsh start` returning -> the guest's ready line in its ttyS1 log file;
- attach: opening the console; then the first enter -> a prompt back (up to ~1 s more when
  QEMU's pty chardev still counts the port as disconnected after an earlier session: it looks
  again once a second, or when the guest writes);
- keystroke echo: one key sent -> its echo back from the guest's line editor (p50/p95/max);
- bulk output: ENTER on `head -c N /dev/zero | base64 -w 76; echo DONE-$((40+2))` -> the
  marker line `DONE-42`, with about 5 MB of base64 printed by the guest in between.

"raw" is what kvmtui does: a VIR_STREAM_NONBLOCK stream from virDomainOpenConsole, read in a
stream callback on libvirt's event loop. "virsh" is `virsh -c URI console NAME` run in a
pseudo-terminal whose master this script reads as fast as it can (as a terminal would).

    sudo .venv/bin/python benchmarks/console_raw.py [--keys 50] [--mbytes 5] [--boots 3]
"""

from __future__ import annotations

import argparse
import itertools
import os
import pty
import select
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_test_guest import SHELL_PROMPT, build, default_cache  # noqa: E402
from private_libvirtd import PrivateLibvirtd  # noqa: E402

from tests.integration.conftest import Hypervisor, RawConsole  # noqa: E402

PROMPT = SHELL_PROMPT.encode()
MARKER = b"DONE-42\r\n"  # what `echo DONE-$((40+2))` prints; its command line echoes otherwise


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bulk_command(mbytes: float) -> bytes:
    raw = int(mbytes * 1_000_000 * 3 / 4)  # base64 makes 4 characters of 3 bytes
    return f"head -c {raw} /dev/zero | base64 -w 76; echo DONE-$((40+2))\r".encode()


# -- the two ways in ---------------------------------------------------------------------------

class Raw:
    """virDomainOpenConsole on a non-blocking stream, as kvmtui reads it."""

    name = "raw stream"

    def __init__(self, uri: str, domain: str) -> None:
        self.console = RawConsole(uri, domain)

    def send(self, data: bytes) -> None:
        self.console.send(data)

    def mark(self) -> int:
        return len(self.console.data)

    def wait_for(self, marker: bytes, start: int, timeout: float) -> int:
        return self.console.wait_for(marker, timeout, start)

    def close(self) -> None:
        self.console.close()


class Virsh:
    """`virsh console` in a pseudo-terminal; this process is the terminal reading its master."""

    name = "virsh console (pty)"

    def __init__(self, uri: str, domain: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp("virsh", ["virsh", "-c", uri, "console", domain])
        self.data = bytearray()
        self.wait_for(b"Escape character is", 0, 15)

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def mark(self) -> int:
        return len(self.data)

    def wait_for(self, marker: bytes, start: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while (at := self.data.find(marker, start)) < 0:
            start = max(start, len(self.data) - len(marker) + 1)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise TimeoutError(f"no {marker!r} from virsh: {bytes(self.data[-300:])!r}")
            self.data += os.read(self.fd, 1 << 16)
        return at + len(marker)

    def close(self) -> None:
        os.write(self.fd, b"\x1d")  # ctrl+]: virsh detaches
        os.waitpid(self.pid, 0)
        os.close(self.fd)


# -- measurements --------------------------------------------------------------------------

_asked = itertools.count(1)


def at_prompt(way) -> None:
    """Clear the line, wait for a fresh prompt (a stale one may still be in the pty)."""
    n = next(_asked)
    at = way.mark()
    way.send(f"\x15echo ready-$(({n}+1))\r".encode())  # ctrl+u first: the line is empty
    way.wait_for(f"ready-{n + 1}\r\n".encode() + PROMPT, at, 10)


def keystroke_echo(way, keys: int) -> list[float]:
    at_prompt(way)
    samples = []
    for i in range(keys):
        key = b"abcdefghijklmnopqrstuvwxyz"[i % 26:i % 26 + 1]
        at = way.mark()
        began = time.perf_counter()
        way.send(key)
        way.wait_for(key, at, 10)
        samples.append(time.perf_counter() - began)
        if i % 40 == 39:  # keep the line short of wrapping
            at_prompt(way)
    at_prompt(way)
    return samples


def bulk_output(way, mbytes: float) -> tuple[float, int]:
    at_prompt(way)
    command = bulk_command(mbytes)
    at = way.mark()
    way.send(command[:-1])
    at = way.wait_for(command[:-1], at, 10)  # the command line, echoed
    began = time.perf_counter()
    way.send(b"\r")
    end = way.wait_for(MARKER, at, 600)
    return time.perf_counter() - began, end - at


def boot(hv: Hypervisor, guest) -> float:
    before = guest.boots()
    began = time.perf_counter()
    hv.virsh("start", guest.name)
    guest.wait_booted(before + 1)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=50, help="keystrokes timed per way")
    parser.add_argument("--mbytes", type=float, default=5.0, help="MB the guest prints")
    parser.add_argument("--boots", type=int, default=3, help="boots timed")
    args = parser.parse_args()
    guest_dir = build(default_cache())
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="kvmtui-bench-") as tmp:
        daemon = PrivateLibvirtd(Path(tmp))
        uri = daemon.start()
        try:
            work = Path(tmp) / "guests"
            work.mkdir()
            hv = Hypervisor(daemon, guest_dir, work)
            guest = hv.define_shell_guest("console-bench")
            boots = []
            for i in range(args.boots):
                if i:
                    hv.virsh("destroy", guest.name)
                boots.append(boot(hv, guest))
            rows.append(("boot: virsh start -> ready line (median of "
                         f"{len(boots)})", f"{statistics.median(boots) * 1000:.0f} ms"))
            for kind in (Raw, Virsh):
                began = time.perf_counter()
                way = kind(uri, guest.name)
                attached = time.perf_counter()
                try:
                    at_prompt(way)
                    answered = time.perf_counter()
                    echo = [s * 1000 for s in keystroke_echo(way, args.keys)]
                    seconds, size = bulk_output(way, args.mbytes)
                finally:
                    way.close()
                rows.append((f"{way.name}: attach; then enter -> prompt",
                             f"{(attached - began) * 1000:.0f} ms; "
                             f"{(answered - attached) * 1000:.0f} ms"))
                rows.append((f"{way.name}: keystroke echo p50 / p95 / max ({len(echo)} keys)",
                             f"{statistics.median(echo):.2f} / {percentile(echo, 0.95):.2f} / "
                             f"{max(echo):.2f} ms"))
                rows.append((f"{way.name}: {size / 1e6:.2f} MB printed, enter -> marker",
                             f"{seconds:.2f} s ({size / 1e6 / seconds:.2f} MB/s)"))
        finally:
            daemon.stop()
    width = max(len(label) for label, _ in rows)
    print(f"shell guest on a private libvirtd ({uri.split('?')[0]}), QEMU TCG, ttyS0 as a pty")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
