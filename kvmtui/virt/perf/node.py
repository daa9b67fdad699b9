"""A host's CPU and memory use from libvirt's node stats: two calls, and they work over any
remote transport (psutil only sees this machine)."""

from __future__ import annotations

import libvirt

from kvmtui.virt.models import NodeUsage


class NodeSampler:
    """Keeps each host's last CPU counters, so each sample has a CPU share since the last."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[int, int]] = {}  # uri -> (busy ns, all ns)

    def sample(self, uri: str, conn: libvirt.virConnect) -> NodeUsage | None:
        """None when the driver has neither figure (libvirt's test driver)."""
        cpu = self._cpu_percent(uri, conn)
        total, used = _memory(conn)
        if cpu is None and total is None and uri not in self._last:
            return None
        return NodeUsage(cpu, total, used)

    def forget(self, uri: str) -> None:
        self._last.pop(uri, None)

    def _cpu_percent(self, uri: str, conn: libvirt.virConnect) -> float | None:
        try:
            stats = conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS, 0)
        except libvirt.libvirtError:
            return None
        # kernel, user, idle, iowait: nanoseconds summed over the host's CPUs since boot
        idle = int(stats.get("idle", 0)) + int(stats.get("iowait", 0))
        every = sum(int(v) for v in stats.values())
        busy = every - idle
        last, self._last[uri] = self._last.get(uri), (busy, every)
        if last is None or every <= last[1] or busy < last[0]:
            return None
        return min(100.0, 100.0 * (busy - last[0]) / (every - last[1]))


def _memory(conn: libvirt.virConnect) -> tuple[int | None, int | None]:
    try:
        stats = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
    except libvirt.libvirtError:
        return None, None
    total = stats.get("total")
    if not total:
        return None, None
    free = sum(int(stats.get(k, 0)) for k in ("free", "buffers", "cached"))
    return int(total), max(0, int(total) - free)
