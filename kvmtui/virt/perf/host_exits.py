"""Host-wide KVM exits, like kvm_stat's default view: from debugfs when it can be read (every VM
on this machine), else summed over a connection's VMs from libvirt's counters."""

from __future__ import annotations

import os
import time

from kvmtui.virt.models import Counter, DomainStats
from kvmtui.virt.perf import kvmstat
from kvmtui.virt.perf.exitnames import reason_key
from kvmtui.virt.perf.rates import counters_since, ordered

DEBUGFS_SOURCE = "debugfs: every VM on this machine"
LIBVIRT_SOURCE = "libvirt: sum over this connection's VMs"


def summed_exits(stats: list[DomainStats]) -> dict[str, Counter]:
    """Every VM's counters added up; a rate only when every VM that has the counter has one."""
    totals: dict[str, int] = {}
    rates: dict[str, float | None] = {}
    for st in stats:
        for reason, counter in (st.exits or {}).items():
            totals[reason] = totals.get(reason, 0) + counter.total
            if reason in rates and rates[reason] is None:
                continue
            rates[reason] = None if counter.rate is None else \
                (rates.get(reason) or 0.0) + counter.rate
    return {r: Counter(totals[r], rates[r]) for r in totals}


class HostExits:
    """Keeps the last debugfs read, so each sample has rates; one per host screen."""

    def __init__(self, local: bool) -> None:
        self.local = local
        self._last: tuple[float, dict[str, int]] | None = None

    def sample(self, stats: list[DomainStats]) -> tuple[dict[str, Counter], str]:
        """(exits by reason, busiest first; where they come from)."""
        counters = self._debugfs_counters() if self.local else None
        if not counters:
            return ordered(summed_exits(stats)), LIBVIRT_SOURCE
        now = time.monotonic()
        last, self._last = self._last, (now, counters)
        # debugfs sums every vCPU of the machine: time counters cannot outrun its CPUs
        exits = counters_since(last[1] if last else None, counters,
                               now - last[0] if last else 0.0, cpus=os.cpu_count() or 1)
        return ordered(exits), DEBUGFS_SOURCE

    @staticmethod
    def _debugfs_counters() -> dict[str, int] | None:
        """kvm/<stat>: every VM on this machine, by reason key; None when debugfs says no."""
        try:
            counters = kvmstat.read_counters(kvmstat.DEBUGFS_ROOT / "kvm")
        except kvmstat.DebugfsUnavailable:
            return None
        return {reason_key(name): value for name, value in counters.items()}
