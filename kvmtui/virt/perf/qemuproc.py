"""The QEMU process behind a local domain, through psutil: CPU, memory, threads, I/O.

It is the host's view of the VM — what `top` and `iotop` would say of it — next to libvirt's
view of the guest. Only for domains running on this machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psutil

from kvmtui.virt.perf.rates import per_second


@dataclass(frozen=True, slots=True)
class ProcessSample:
    pid: int
    cpu_percent: float | None      # of one host CPU, as top shows it
    rss_bytes: int
    threads: int
    read_bps: float | None         # bytes read/written by the process (disk images, mostly)
    write_bps: float | None
    error: str | None = None


class QemuProcessWatch:
    """Samples one process; rates are against the previous call."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._process = psutil.Process(pid)
        self._last: tuple[float, float, int | None, int | None] | None = None

    def sample(self) -> ProcessSample:
        try:
            with self._process.oneshot():
                times = self._process.cpu_times()
                rss = self._process.memory_info().rss
                threads = self._process.num_threads()
                try:
                    io = self._process.io_counters()
                    read, write = io.read_bytes, io.write_bytes
                except (psutil.AccessDenied, AttributeError):
                    read = write = None
        except psutil.NoSuchProcess:
            return ProcessSample(self.pid, None, 0, 0, None, None, "the process has exited")
        except psutil.AccessDenied as err:
            return ProcessSample(self.pid, None, 0, 0, None, None, f"not allowed: {err}")
        now = time.monotonic()
        cpu_s = times.user + times.system
        cpu = rd = wr = None
        if self._last is not None:
            at, last_cpu, last_read, last_write = self._last
            dt = now - at
            if dt > 0:
                cpu = max(0.0, (cpu_s - last_cpu) / dt * 100.0)
            rd = per_second(last_read, read, dt)
            wr = per_second(last_write, write, dt)
        self._last = (now, cpu_s, read, write)
        return ProcessSample(self.pid, cpu, rss, threads, rd, wr)
