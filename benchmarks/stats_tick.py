#!/usr/bin/env python3
"""The cost of live stats: a 1000-domain fleet sampled every second, for 60 s.

Part 1 runs kvmtui in a pseudo-terminal on a 1000-domain test-driver fleet at --refresh 1 and
measures, over --seconds: kvmtui's own CPU use (user+system of the process, % of one core;
target <= 5 %), libvirt calls per tick per connection (target 1: counted by the app for every
tick, and cross-checked here by counting every call made on a proxied connection), and the time
the UI thread spends on each tick (the StatsTicked handler: figures, history, re-sort, cells).
The peer is `virsh domstats` on the same fleet: the CPU one poll of it costs.

Part 2: libvirt's test driver reports only domain states, so the parse-and-rates work of real
records is measured in-process on 1000 copies of a real KVM guest's record (from --uri when a
running KVM guest is there, else a recorded one with its 100 fields).

    .venv/bin/python benchmarks/stats_tick.py [--domains 1000] [--seconds 60] [--uri URI]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import resource
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import write_fleet  # noqa: E402


def drain(fd: int, seconds: float, marker: bytes | None = None) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen = (seen + chunk)[-200_000:]
            if marker is not None and marker in seen:
                return seen
    if marker is not None:
        raise TimeoutError("kvmtui did not paint the list")
    return seen


def run_app(uri: str, domains: int, seconds: float, log: Path) -> dict:
    kvmtui = str(Path(sys.executable).with_name("kvmtui"))
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ["KVMTUI_TICK_LOG"] = str(log)
        os.execv(kvmtui, [kvmtui, "-c", uri, "--refresh", "1"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = psutil.Process(pid)
    drain(fd, 30, f"{domains} domains".encode())
    drain(fd, 3)  # let start-up work settle before measuring
    before, start = proc.cpu_times(), time.monotonic()
    drain(fd, seconds)
    after, wall = proc.cpu_times(), time.monotonic() - start
    os.write(fd, b"q")
    drain(fd, 10)
    os.waitpid(pid, 0)
    os.close(fd)
    cpu = (after.user + after.system) - (before.user + before.system)
    return {"cpu_s": cpu, "wall_s": wall, "ticks": json.loads(log.read_text())}


def virsh_poll_cpu(uri: str, polls: int = 5) -> float:
    """CPU seconds (user+system, children) one `virsh domstats` of the fleet costs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(polls):
        subprocess.run(["virsh", "-c", uri, "domstats"], check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / polls


def calls_per_tick(uri: str, ticks: int = 10) -> float:
    from kvmtui.virt.perf.stats import StatsSampler
    from kvmtui.virt.session.connection import Connection

    class Counting:
        def __init__(self, conn):
            self.conn, self.calls = conn, 0

        def __getattr__(self, name):
            attr = getattr(self.conn, name)
            if not callable(attr):
                return attr

            def call(*a, **k):
                self.calls += 1
                return attr(*a, **k)
            return call

    connection = Connection(uri, readonly=True)
    connection.open()
    counting = Counting(connection._conn)
    connection._conn = counting
    sampler = StatsSampler(lambda: [connection])
    for _ in range(ticks):
        sampler.sample_once()
    connection._conn = counting.conn
    connection.close()
    return counting.calls / ticks


def real_record(uri: str | None) -> dict:
    if uri:
        import libvirt

        from kvmtui.virt.perf.stats import GROUPS

        conn = libvirt.openReadOnly(uri)
        for _dom, record in conn.getAllDomainStats(GROUPS, 0):
            if any(k.endswith("exits.sum") for k in record):
                conn.close()
                return record
        conn.close()
    return json.loads((ROOT / "benchmarks" / "kvm_record.json").read_text())


COUNTER_SUFFIXES = (".sum", ".time", ".wait", ".delay", ".bytes", ".reqs")


def parse_cost(record: dict, domains: int, ticks: int = 20) -> tuple[float, int]:
    from kvmtui.virt.models import DomainKey
    from kvmtui.virt.perf.rates import RateTracker
    from kvmtui.virt.perf.stats import parse_record

    keys = [DomainKey("qemu:///system", f"00000000-0000-4000-8000-{i:012d}")
            for i in range(domains)]
    tracker = RateTracker()
    costs = []
    for tick in range(ticks):
        # counters move on between ticks; counts (vcpu.current, block.count…) stay
        bumped = {k: (v + tick * 1000 if k.endswith(COUNTER_SUFFIXES) and isinstance(v, int)
                      else v) for k, v in record.items()}
        start = time.perf_counter()
        samples = [parse_record(key, f"vm{i}", 1, bumped, float(tick))
                   for i, key in enumerate(keys)]
        tracker.update(samples)
        costs.append(time.perf_counter() - start)
    return statistics.median(costs[1:]), len(record)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--uri", help="a libvirt URI with a running KVM guest (for part 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uri = write_fleet(Path(tmp) / "fleet.xml", args.domains)
        calls = calls_per_tick(uri)
        result = run_app(uri, args.domains, args.seconds, Path(tmp) / "ticks.json")
        virsh_cpu = virsh_poll_cpu(uri)
    ticks = result["ticks"]
    ui = sorted(t[1] for t in ticks)
    sampler = sorted(t[2] for t in ticks)
    app_calls = {t[3] for t in ticks}
    cpu_percent = result["cpu_s"] / result["wall_s"] * 100
    per_tick_cpu = result["cpu_s"] / result["wall_s"]  # one tick a second
    print(f"domains: {args.domains}, refresh 1 s, measured {result['wall_s']:.0f} s, "
          f"{len(ticks)} ticks in the whole run")
    print(f"libvirt calls per tick per connection: {calls:.2f} counted on a proxy; "
          f"app-reported {sorted(app_calls)}  (target 1)")
    print(f"UI thread per tick: median {statistics.median(ui) * 1000:.1f} ms, "
          f"p95 {ui[int(len(ui) * 0.95) - 1] * 1000:.1f} ms, max {ui[-1] * 1000:.1f} ms")
    print(f"sampler thread per tick (call + parse + rates): median "
          f"{statistics.median(sampler) * 1000:.1f} ms")
    print(f"kvmtui CPU: {cpu_percent:.1f} % of one core  (target <= 5 %)")
    print(f"peer: one `virsh domstats` poll of the same fleet costs {virsh_cpu * 1000:.0f} ms CPU;"
          f" kvmtui's CPU per tick {per_tick_cpu * 1000:.0f} ms, "
          f"ratio {per_tick_cpu / virsh_cpu:.2f}")
    record = real_record(args.uri)
    cost, fields = parse_cost(record, args.domains)
    print(f"parse + rates of {args.domains} real KVM records ({fields} fields each): "
          f"{cost * 1000:.1f} ms per tick (in-process, no libvirt call)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
