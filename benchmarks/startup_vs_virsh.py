#!/usr/bin/env python3
"""Start-up to a complete first paint of a 1000-domain list, against `virsh list --all`.

Both read the same test-driver node file (each run parses it afresh, as each process opens its
own in-memory driver). kvmtui runs in a pseudo-terminal, as it would over SSH; its time is from
spawning the process to the moment the header with the full count ("1000 domains") reaches the
terminal, i.e. what a user sees. virsh's time is the whole command. Prints medians and the ratio.
Target: ratio <= 2.0.

    .venv/bin/python benchmarks/startup_vs_virsh.py [--domains 1000] [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import write_fleet  # noqa: E402


def time_virsh(uri: str) -> float:
    start = time.perf_counter()
    subprocess.run(["virsh", "-c", uri, "list", "--all"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_kvmtui(uri: str, marker: bytes, cols: int = 100, rows: int = 30) -> float:
    kvmtui = str(Path(sys.executable).with_name("kvmtui"))
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child: becomes kvmtui on the pty
        os.environ["TERM"] = "xterm-256color"
        os.execv(kvmtui, [kvmtui, "-c", uri])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                raise TimeoutError("kvmtui did not paint the list within 30 s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"kvmtui exited early: {seen[-500:]!r}")
            seen += chunk
            if marker in seen:
                return time.perf_counter() - start
    finally:
        os.kill(pid, signal.SIGTERM)
        try:
            while os.read(fd, 65536):
                pass
        except OSError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("virsh"):
        print("virsh not found: install libvirt-clients", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        uri = write_fleet(Path(tmp) / "fleet.xml", args.domains)
        marker = f"{args.domains} domains".encode()
        time_virsh(uri), time_kvmtui(uri, marker)  # warm the page cache for both
        virsh, kvmtui = [], []
        for _ in range(args.runs):  # interleaved, so drift hits both alike
            virsh.append(time_virsh(uri))
            kvmtui.append(time_kvmtui(uri, marker))
    v, k = statistics.median(virsh), statistics.median(kvmtui)
    print(f"domains: {args.domains}, runs: {args.runs}")
    print(f"virsh list --all          median {v * 1000:7.1f} ms  (min {min(virsh) * 1000:.1f})")
    print(f"kvmtui first full paint   median {k * 1000:7.1f} ms  (min {min(kvmtui) * 1000:.1f})")
    print(f"ratio kvmtui / virsh: {k / v:.2f}  (target <= 2.0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
