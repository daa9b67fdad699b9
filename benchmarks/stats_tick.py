#!/usr/bin/env python3
"""The cost of live stats: a 1000-domain fleet sampled every second, each figure next to its peer.

Part 1 runs kvmtui in a pseudo-terminal on a 1000-domain test-driver fleet at --refresh 1 with
the list on screen and measures, over --seconds: kvmtui's own CPU use (user+system of the
process, % of one core; target <= 2 %), its RSS at the end of the run (target <= 80 MiB),
libvirt calls per tick per connection (target 1: counted by the app for every tick, and
cross-checked here by counting every call made on a proxied connection), and the time the
sampler thread and the UI thread spend on each tick. Peers, measured in the same run: the CPU
one `virsh domstats` poll of the same fleet costs and virsh's peak RSS; the RSS of an empty
Textual app in the same terminal.

Part 2: libvirt's test driver reports only domain states, so the parse-and-rates work of real
records is measured in-process on 1000 copies of a real KVM guest's record (from --uri when a
running KVM guest is there, else a recorded one with its 108 fields): as the list reads them
(each domain's totals; target <= 20 ms per tick), next to the full breakdown of every domain
(what `kvmtui top` reads, and what every tick cost before) and to the list with one VM on `x`;
with the memory the last tick's figures of the 1000 domains hold, both ways.

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
import tracemalloc
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


TARGET_CPU_PERCENT = 2.0
TARGET_RSS_MIB = 80.0
TARGET_PARSE_MS = 20.0


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
    rss, peak = proc.memory_info().rss, peak_rss(pid)
    os.write(fd, b"q")
    drain(fd, 10)
    os.waitpid(pid, 0)
    os.close(fd)
    cpu = (after.user + after.system) - (before.user + before.system)
    return {"cpu_s": cpu, "wall_s": wall, "ticks": json.loads(log.read_text()),
            "rss": rss, "peak_rss": peak}


def peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory the process has had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


EMPTY_APP = """
from textual.app import App
from textual.widgets import Static

class Empty(App):
    def compose(self):
        yield Static("empty app ready")

Empty().run()
"""


def empty_app_rss() -> int:
    """The RSS of a Textual app with one line of text, in the same size of terminal."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-c", EMPTY_APP])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    drain(fd, 30, b"empty app ready")
    drain(fd, 2)
    rss = psutil.Process(pid).memory_info().rss
    os.kill(pid, 15)
    drain(fd, 2)
    os.waitpid(pid, 0)
    os.close(fd)
    return rss


def virsh_peak_rss(uri: str) -> int:
    """virsh's own peak RSS for one `virsh domstats` of the fleet (wait4: that child alone)."""
    child = subprocess.Popen(["virsh", "-c", uri, "domstats"], stdout=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(child.pid, 0)
    child.returncode = 0
    return usage.ru_maxrss * 1024


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


def parse_cost(record: dict, domains: int, detail: int, ticks: int = 20) -> float:
    """Median CPU seconds per tick to parse `domains` records and rate them; the first
    `detail` domains with every reason of every vCPU, the rest their totals (as the sampler
    reads). CPU time of this thread, not wall time: other work on the machine does not count."""
    from kvmtui.virt.models import DomainKey
    from kvmtui.virt.perf.rates import RateTracker
    from kvmtui.virt.perf.stats import parse_record

    keys = [DomainKey("qemu:///system", f"00000000-0000-4000-8000-{i:012d}")
            for i in range(domains)]
    tracker = RateTracker()
    costs = []
    for tick in range(ticks):
        bumped = moved(record, tick)
        start = time.thread_time()
        samples = [parse_record(key, f"vm{i}", 1, bumped, float(tick), detail=i < detail)
                   for i, key in enumerate(keys)]
        tracker.update(samples)
        costs.append(time.thread_time() - start)
    return statistics.median(costs[1:])


def moved(record: dict, tick: int) -> dict:
    # counters move on between ticks; counts (vcpu.current, block.count…) stay
    return {k: (v + tick * 1000 if k.endswith(COUNTER_SUFFIXES) and isinstance(v, int) else v)
            for k, v in record.items()}


def held_memory(record: dict, domains: int, detail: bool) -> int:
    """Bytes the figures of `domains` domains hold after two ticks: the tracker's last samples
    and the stats handed to the UI (parsed from fresh copies of the record, as libvirt gives
    them, dropped once parsed)."""
    from kvmtui.virt.models import DomainKey
    from kvmtui.virt.perf.rates import RateTracker
    from kvmtui.virt.perf.stats import parse_record

    keys = [DomainKey("qemu:///system", f"00000000-0000-4000-8000-{i:012d}")
            for i in range(domains)]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracker = RateTracker()
    for tick in range(2):
        records = [moved(record, tick) for _ in keys]
        stats = tracker.update([parse_record(k, "vm", 1, r, float(tick), detail=detail)
                                for k, r in zip(keys, records, strict=True)])
        del records
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert len(stats) == domains
    return held


def verdict(value: float, target: float, unit: str) -> str:
    return f"target <= {target:g} {unit}: {'met' if value <= target else 'NOT MET'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--uri", help="a libvirt URI with a running KVM guest (for part 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uri = write_fleet(Path(tmp) / "fleet.xml", args.domains)
        calls = calls_per_tick(uri)
        result = run_app(uri, args.domains, args.seconds, Path(tmp) / "ticks.json")
        virsh_cpu = virsh_poll_cpu(uri)
        virsh_rss = virsh_peak_rss(uri)
        empty_rss = empty_app_rss()
    ticks = result["ticks"]
    ui = sorted(t[1] for t in ticks)
    sampler = sorted(t[2] for t in ticks)
    app_calls = {t[3] for t in ticks}
    cpu_percent = result["cpu_s"] / result["wall_s"] * 100
    per_tick_cpu = result["cpu_s"] / result["wall_s"]  # one tick a second
    mib = 2 ** 20
    print(f"Part 1: {args.domains} test-driver domains, the list on screen, refresh 1 s, "
          f"measured {result['wall_s']:.0f} s, {len(ticks)} ticks in the whole run")
    print(f"  libvirt calls per tick per connection: {calls:.2f} counted on a proxy; "
          f"app-reported {sorted(app_calls)}  (target 1)")
    print(f"  sampler thread per tick (call + parse + rates): median "
          f"{statistics.median(sampler) * 1000:.1f} ms")
    print(f"  UI thread per tick: median {statistics.median(ui) * 1000:.1f} ms, "
          f"p95 {ui[int(len(ui) * 0.95) - 1] * 1000:.1f} ms, max {ui[-1] * 1000:.1f} ms")
    print(f"  kvmtui CPU: {cpu_percent:.2f} % of one core = {per_tick_cpu * 1000:.1f} ms per "
          f"tick | peer: one `virsh domstats` poll of the same fleet {virsh_cpu * 1000:.0f} ms "
          f"CPU (ratio {per_tick_cpu / virsh_cpu:.2f})  "
          f"[{verdict(cpu_percent, TARGET_CPU_PERCENT, '%')}]")
    print(f"  kvmtui RSS: {result['rss'] / mib:.1f} MiB (peak {result['peak_rss'] / mib:.1f}) | "
          f"peers: an empty Textual app {empty_rss / mib:.1f} MiB, `virsh domstats` peak "
          f"{virsh_rss / mib:.1f} MiB  [{verdict(result['rss'] / mib, TARGET_RSS_MIB, 'MiB')}]")
    record = real_record(args.uri)
    n = args.domains
    light = parse_cost(record, n, detail=0)
    one = parse_cost(record, n, detail=1)
    full = parse_cost(record, n, detail=n)
    print(f"Part 2: {n} real KVM records ({len(record)} fields each), parse + rates per tick, "
          f"in-process (no libvirt call), CPU time")
    print(f"  totals (the list): {light * 1000:.1f} ms = {light * 100:.2f} % of a core at 1 s | "
          f"peers: every domain in full (kvmtui top; every tick before) {full * 1000:.1f} ms, "
          f"the list with one VM on x {one * 1000:.1f} ms  "
          f"[{verdict(light * 1000, TARGET_PARSE_MS, 'ms')}]")
    print(f"  memory held by the last tick's figures: totals {held_memory(record, n, False) / mib:.1f}"
          f" MiB | peer: every domain in full {held_memory(record, n, True) / mib:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
