#!/usr/bin/env python3
"""Start-up to a complete first paint of a 1000-domain list, against `virsh list --all` and an
empty Textual app.

kvmtui and virsh read the same test-driver node file (each run parses it afresh, as each process
opens its own in-memory driver). kvmtui runs in a pseudo-terminal, as it would over SSH; its time
is from spawning the process to the moment the header with the full count ("1000 domains")
reaches the terminal, i.e. what a user sees. virsh's time is the whole command. The empty app (one
Static, written by this script to a temporary file) runs in the same pseudo-terminal way with the
same Python, and is timed until its one line reaches the terminal: the floor any Textual app pays.
All are run interleaved, so drift hits them alike; prints each median next to the others, the
ratios, and whether the target (kvmtui <= 1.5 x virsh) was met.

Byte-code: an installed package starts from compiled .pyc files (pip writes them; Textual's are
in site-packages), but with PYTHONDONTWRITEBYTECODE=1 (set in some sandboxes and CI) an editable
checkout compiles every kvmtui module from source at each start while Textual does not. So the
Python programs run with a private PYTHONPYCACHEPREFIX (filled by the warm-up run), as installed;
kvmtui is also timed as the environment has it, with the variable passed on, when it is set.

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

TARGET = 1.5  # kvmtui's first complete paint, at most this many times `virsh list --all`

EMPTY_MARKER = b"empty-textual-app-painted"
EMPTY_APP = f'''
from textual.app import App
from textual.widgets import Static


class Empty(App):
    def compose(self):
        yield Static("{EMPTY_MARKER.decode()}")


Empty().run()
'''


def time_virsh(uri: str) -> float:
    start = time.perf_counter()
    subprocess.run(["virsh", "-c", uri, "list", "--all"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_painted(argv: list[str], marker: bytes, env: dict[str, str],
                 cols: int = 100, rows: int = 30) -> float:
    """Seconds from spawning `argv` on a pseudo-terminal to `marker` reaching the terminal."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child: becomes the program on the pty
        os.execve(argv[0], argv, {**env, "TERM": "xterm-256color"})
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                raise TimeoutError(f"{argv[0]} did not paint {marker!r} within 30 s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"{argv[0]} exited early: {seen[-500:]!r}")
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


def line(label: str, values: list[float]) -> str:
    return (f"{label:<34} median {statistics.median(values) * 1000:7.1f} ms"
            f"  (min {min(values) * 1000:6.1f}, max {max(values) * 1000:6.1f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("virsh"):
        print("virsh not found: install libvirt-clients", file=sys.stderr)
        return 1
    kvmtui_bin = str(Path(sys.executable).with_name("kvmtui"))
    with tempfile.TemporaryDirectory() as tmp:
        uri = write_fleet(Path(tmp) / "fleet.xml", args.domains)
        empty_app = Path(tmp) / "empty_app.py"
        empty_app.write_text(EMPTY_APP)
        marker = f"{args.domains} domains".encode()
        kvmtui_argv = [kvmtui_bin, "-c", uri]
        empty_argv = [sys.executable, str(empty_app)]
        as_set = dict(os.environ)  # the environment as it is
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        uncached = os.environ.get("PYTHONDONTWRITEBYTECODE")
        # warm the page cache (and the byte-code cache) for all
        time_virsh(uri)
        time_painted(kvmtui_argv, marker, cached), time_painted(empty_argv, EMPTY_MARKER, cached)
        virsh, kvmtui, empty, kvmtui_as_set = [], [], [], []
        for _ in range(args.runs):  # interleaved, so drift hits all alike
            virsh.append(time_virsh(uri))
            kvmtui.append(time_painted(kvmtui_argv, marker, cached))
            empty.append(time_painted(empty_argv, EMPTY_MARKER, cached))
            if uncached:
                kvmtui_as_set.append(time_painted(kvmtui_argv, marker, as_set))
    v, k, e = (statistics.median(x) for x in (virsh, kvmtui, empty))
    load = os.getloadavg()[0]
    print(f"domains: {args.domains}, runs: {args.runs}, load average (1 min): {load:.2f}")
    print(line("virsh list --all", virsh))
    print(line("kvmtui first full paint", kvmtui))
    print(line("empty Textual app first paint", empty))
    if kvmtui_as_set:
        print(line("kvmtui, PYTHONDONTWRITEBYTECODE=1", kvmtui_as_set)
              + f"  ratio to virsh {statistics.median(kvmtui_as_set) / v:.2f}")
    print(f"ratio kvmtui / virsh:      {k / v:.2f}  (target <= {TARGET})"
          f"  -> {'met' if k / v <= TARGET else 'NOT met'}")
    print(f"ratio kvmtui / empty app:  {k / e:.2f}  (kvmtui beyond the empty app: "
          f"{(k - e) * 1000:+.0f} ms)")
    print(f"ratio empty app / virsh:   {e / v:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
