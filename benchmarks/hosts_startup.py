#!/usr/bin/env python3
"""Start-up to a complete first paint with four hosts, with and without a fifth that hangs.

Four private libvirt daemons (scripts/private_libvirtd.py, each in its own temp dir, socket
and mount namespace) hold 250 defined, not running, domains each. Measured in the same run,
interleaved so that drift hits every scenario alike:

  (a) kvmtui -c d1 -c d2 -c d3 -c d4
  (b) the same plus -c qemu+unix:///system?socket=<a socket that accepts and never answers>
  (c) the peer: `virsh -c dN list --all` for the four daemons, one after the other, and the
      four side by side (a hanging host is left out: virsh would never return)

kvmtui runs in a pseudo-terminal, as in benchmarks/startup_vs_virsh.py: its time is from
spawning the process to the moment the terminal has received both the header counting every
domain ("1000 domains") and the list's rows, i.e. what a user sees. virsh's time is the
whole command. Prints median, min and max of each, the ratio (b)/(a), and whether the hanging
host added anything measurable. Every daemon and the listener are stopped at the end, also
on Ctrl+C.

    .venv/bin/python benchmarks/hosts_startup.py [--runs 7] [--domains 250]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import re
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import libvirt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from private_libvirtd import PrivateLibvirtd, Unavailable  # noqa: E402
from startup_vs_virsh import time_virsh  # noqa: E402

from tests.helpers import SilentHost  # noqa: E402

HOSTS = 4
ESCAPES = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)")
COLS, ROWS = 120, 30


def domain_xml(name: str) -> str:
    return (f"<domain type='qemu'><name>{name}</name><memory>65536</memory>"
            "<os><type>hvm</type></os></domain>")


def probe_capabilities(daemon: PrivateLibvirtd) -> None:
    """Make the daemon probe every QEMU binary now (seconds, once), not during a timed run."""
    conn = libvirt.open(daemon.uri)
    try:
        conn.getCapabilities()
        conn.getVersion()
    finally:
        conn.close()


def share_capabilities(probed: PrivateLibvirtd, fresh: PrivateLibvirtd) -> None:
    """The probed daemon's QEMU capabilities cache for a daemon not started yet (same binaries;
    libvirt re-validates the cache and probes again if it is stale)."""
    sub = "cache" if probed.root else "xdg-cache"
    if (probed.dir / sub).is_dir():
        shutil.copytree(probed.dir / sub, fresh.dir / sub, dirs_exist_ok=True)


def define_domains(daemon: PrivateLibvirtd, prefix: str, count: int) -> None:
    conn = libvirt.open(daemon.uri)
    try:
        for i in range(count):
            conn.defineXML(domain_xml(f"{prefix}-vm{i:03d}"))
        defined = conn.numOfDefinedDomains()
        assert defined == count, f"{prefix}: {defined} domains defined, not {count}"
    finally:
        conn.close()


def start_daemons(base: Path, count: int, domains: int,
                  daemons: list[PrivateLibvirtd]) -> None:
    """Start the daemons, appending each to `daemons` as it starts (so that a failure half-way
    still stops the ones already up), and define their domains."""
    first = PrivateLibvirtd(base / "d1")
    daemons.append(first)
    first.start()
    probe_capabilities(first)
    for n in range(2, count + 1):
        daemon = PrivateLibvirtd(base / f"d{n}")
        daemon.dir.mkdir(parents=True)
        share_capabilities(first, daemon)
        daemons.append(daemon)
        daemon.start()
    with ThreadPoolExecutor(len(daemons)) as pool:
        list(pool.map(lambda nd: define_domains(nd[1], f"d{nd[0]}", domains),
                      enumerate(daemons, start=1)))
    for daemon in daemons[1:]:
        probe_capabilities(daemon)  # nothing left to probe: the shared cache is valid


# -- the measurements ------------------------------------------------------------------------

def time_kvmtui(uris: list[str], markers: list[re.Pattern], timeout: float = 30.0) -> float:
    """Seconds from spawning kvmtui in a pseudo-terminal to every marker having reached it."""
    kvmtui = str(Path(sys.executable).with_name("kvmtui"))
    argv = [kvmtui]
    for uri in uris:
        argv += ["-c", uri]
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child: becomes kvmtui on the pty
        os.environ["TERM"] = "xterm-256color"
        os.execv(kvmtui, argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            # a host's "connecting N s" repaints every second: the deadline is for the whole wait
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready or left <= 0:
                shown = ESCAPES.sub(b" ", seen[-6000:]).decode(errors="replace")
                missing = [m.pattern for m in markers if not m.search(seen)]
                raise TimeoutError(f"kvmtui did not paint {missing} within {timeout:g} s; "
                                   f"last on its terminal: {' '.join(shown.split())[-1500:]}")
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                raise RuntimeError(f"kvmtui exited early: {seen[-500:]!r}")
            seen += chunk
            if all(marker.search(seen) for marker in markers):
                return time.perf_counter() - start
    finally:
        end_child(pid, fd)


def end_child(pid: int, fd: int) -> None:
    """SIGTERM, reading the terminal meanwhile; SIGKILL if it is still there after 5 s."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            with contextlib.suppress(OSError):
                os.read(fd, 65536)
    os.close(fd)


def time_virsh_parallel(uris: list[str]) -> float:
    start = time.perf_counter()
    procs = [subprocess.Popen(["virsh", "-c", uri, "list", "--all"], stdout=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL) for uri in uris]
    for proc in procs:
        if proc.wait() != 0:
            raise RuntimeError(f"virsh failed: {proc.args}")
    return time.perf_counter() - start


# -- reporting -------------------------------------------------------------------------------

def row(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{label:<46} {statistics.median(ms):9.1f} {min(ms):9.1f} {max(ms):9.1f}"
            f" {len(ms):5d}")


def verdict(a: list[float], b: list[float]) -> str:
    """Plain words: did the hanging host add anything beyond run-to-run noise?"""
    ma, mb = statistics.median(a), statistics.median(b)
    diff = mb - ma
    noise = max(max(a) - min(a), max(b) - min(b)) / 2  # half the wider min-max range
    # most (b) runs slower than the slowest (a) run would be a real cost
    slower = sum(1 for x in b if x > max(a))
    words = (f"median (b) - median (a) = {diff * 1000:+.1f} ms; run-to-run spread "
             f"(half the wider min-max range) = {noise * 1000:.1f} ms; "
             f"{slower} of {len(b)} (b) runs slower than the slowest (a) run.\n")
    if abs(diff) <= max(noise, 0.05 * ma) and slower <= len(b) // 2:
        return words + "Verdict: the hanging host added nothing measurable to the first paint."
    if diff > 0:
        return words + (f"Verdict: the hanging host added about {diff * 1000:.0f} ms "
                        f"({diff / ma:.0%}) to the first paint.")
    return words + "Verdict: (b) was faster than (a): no cost from the hanging host."


def interrupted(_signum, _frame) -> None:
    """SIGTERM and SIGHUP unwind as Ctrl+C does, so that every daemon is stopped."""
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each scenario")
    parser.add_argument("--domains", type=int, default=250, help="defined domains per daemon")
    args = parser.parse_args()
    if not shutil.which("virsh"):
        print("virsh not found: install libvirt-clients", file=sys.stderr)
        return 1
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    daemons: list[PrivateLibvirtd] = []
    silent = None
    with tempfile.TemporaryDirectory(prefix="kvmtui-hosts-") as tmp:
        try:
            setup = time.perf_counter()
            try:
                start_daemons(Path(tmp), HOSTS, args.domains, daemons)
            except Unavailable as err:
                print(f"private libvirtd cannot run here: {err}", file=sys.stderr)
                return 1
            silent = SilentHost(Path(tmp) / "silent-sock")
            setup = time.perf_counter() - setup
            uris = [d.uri for d in daemons]
            total = HOSTS * args.domains
            # the header counting every domain, and a row of the list (which rows are on
            # screen depends on which host answered first: the cursor stays on its VM)
            markers = [re.compile(f"{total} domains".encode()), re.compile(rb"d\d-vm\d{3}")]
            scenarios = {
                "a": lambda: time_kvmtui(uris, markers),
                "b": lambda: time_kvmtui([*uris, silent.uri], markers),
                "seq": lambda: sum(time_virsh(uri) for uri in uris),
                "par": lambda: time_virsh_parallel(uris),
            }
            for measure in scenarios.values():  # warm the page cache and the daemons
                measure()
            times: dict[str, list[float]] = {name: [] for name in scenarios}
            for _ in range(args.runs):  # interleaved, so drift hits every scenario alike
                for name, measure in scenarios.items():
                    times[name].append(measure())
        except KeyboardInterrupt:
            print("\ninterrupted: stopping the daemons", file=sys.stderr)
            return 130
        finally:
            if silent is not None:
                silent.close()
            for daemon in daemons:
                daemon.stop()
    a, b = times["a"], times["b"]
    print(f"hosts: {HOSTS} private libvirt daemons (scripts/private_libvirtd.py, "
          f"libvirt {libvirt.getVersion() // 1_000_000}.{libvirt.getVersion() // 1000 % 1000}), "
          f"{args.domains} defined domains each = {total}; runs: {args.runs} "
          f"(+1 warm-up); setup {setup:.1f} s")
    print(f"terminal {COLS}x{ROWS}; kvmtui timed until '{total} domains' and the list's rows "
          "have reached the terminal")
    print()
    print(f"{'scenario':<46} {'median ms':>9} {'min':>9} {'max':>9} {'runs':>5}")
    print(row("(a) kvmtui, 4 hosts", a))
    print(row("(b) kvmtui, 4 hosts + 1 that never answers", b))
    print(row("(c) virsh list --all x4, one after the other", times["seq"]))
    print(row("(c) virsh list --all x4, side by side", times["par"]))
    print()
    print(f"ratio (b)/(a) medians: {statistics.median(b) / statistics.median(a):.3f}")
    print(f"ratio (a)/(c sequential) medians: "
          f"{statistics.median(a) / statistics.median(times['seq']):.2f}")
    print(verdict(a, b))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
