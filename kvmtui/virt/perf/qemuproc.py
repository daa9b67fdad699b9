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


class QemuProcesses:
    """Finds a local domain's QEMU process by the `-uuid` on its command line.

    The pid file libvirt writes depends on the daemon's run directory, which a private or
    session daemon moves; the command line does not. Scans are cached and rate-limited.
    """

    RESCAN_AFTER_S = 5.0

    def __init__(self) -> None:
        self._pids: dict[str, int] = {}
        self._accel: dict[int, str] = {}
        self._scanned_at = float("-inf")

    def pid(self, uuid: str) -> int | None:
        pid = self._pids.get(uuid)
        if pid is not None and self._still_runs(pid, uuid):
            return pid
        if time.monotonic() - self._scanned_at >= self.RESCAN_AFTER_S or pid is not None:
            self._rescan()
        return self._pids.get(uuid)

    def accelerator(self, pid: int) -> str | None:
        """'kvm' or 'tcg', as QEMU was told on its command line."""
        return self._accel.get(pid)

    def _still_runs(self, pid: int, uuid: str) -> bool:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return uuid.encode() in f.read()
        except OSError:
            return False

    def _rescan(self) -> None:
        self._scanned_at = time.monotonic()
        pids: dict[str, int] = {}
        accel: dict[int, str] = {}
        for proc in psutil.process_iter(["name", "cmdline"]):
            try:
                name = proc.info["name"] or ""
                args = proc.info["cmdline"] or []
            except (psutil.Error, KeyError):
                continue
            if not name.startswith("qemu") and not (args and "qemu" in args[0]):
                continue
            uuid = _argument(args, "-uuid")
            if uuid:
                pids[uuid.lower()] = proc.pid
                accel[proc.pid] = _accelerator(args)
        self._pids, self._accel = pids, accel


def _argument(args: list[str], flag: str) -> str | None:
    for i, arg in enumerate(args[:-1]):
        if arg == flag:
            return args[i + 1]
    return None


def _accelerator(args: list[str]) -> str:
    accel = _argument(args, "-accel") or ""
    machine = _argument(args, "-machine") or ""
    text = accel + "," + machine
    if "kvm" in text.split(",") or "accel=kvm" in text or "-enable-kvm" in args:
        return "kvm"
    return "tcg"
