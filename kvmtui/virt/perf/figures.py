"""One store of every VM's figures, kept once for the list and every screen: the latest sample,
and the last HISTORY values of its CPU% and each vCPU's, so `x` opens with its graphs drawn."""

from __future__ import annotations

from collections import deque

from kvmtui.virt.models import DomainKey, DomainState, DomainStats, StatsTick

HISTORY = 60  # samples: a minute at the default refresh

# running, idle, paused: a VM that has a CPU figure (off, it is a gap in the graph, not a zero)
_ON = frozenset((DomainState.RUNNING, DomainState.BLOCKED, DomainState.PAUSED))


class FleetFigures:
    def __init__(self, length: int = HISTORY) -> None:
        self.length = length
        self.latest: dict[DomainKey, DomainStats] = {}
        self.cpu: dict[DomainKey, deque[float | None]] = {}
        self.vcpus: dict[DomainKey, dict[int, deque[float | None]]] = {}
        # each connection's VMs in its last sample: who is gone is a set difference, not a
        # walk over every VM of every host each tick
        self._keys: dict[str, set[DomainKey]] = {}

    def record(self, tick: StatsTick) -> None:
        """A connection's new sample; its VMs that are no longer in it are forgotten."""
        stats = tick.stats
        keys = set(stats)
        for key in self._keys.get(tick.uri, set()) - keys:
            self._drop(key)
        self._keys[tick.uri] = keys
        self.latest.update(stats)
        cpu, vcpus, length = self.cpu, self.vcpus, self.length
        for key, st in stats.items():
            series = cpu.get(key)
            if series is None:
                series = cpu[key] = deque(maxlen=length)
            # a gap in the graph while the VM is off, not a zero
            series.append(st.cpu_percent if st.state in _ON else None)
            if st.vcpus:  # no per-vCPU store for a VM that reports no vCPU (off, test driver)
                per_vcpu = vcpus.get(key)
                if per_vcpu is None:
                    per_vcpu = vcpus[key] = {}
                for v in st.vcpus:
                    line = per_vcpu.get(v.index)
                    if line is None:
                        line = per_vcpu[v.index] = deque(maxlen=length)
                    line.append(v.cpu_percent)

    def forget(self, uri: str) -> None:
        """A connection went away: its last figures stopped being true."""
        self._keys.pop(uri, None)
        for key in [k for k in self.latest if k.uri == uri]:
            self._drop(key)

    def of_connection(self, uri: str) -> list[DomainStats]:
        return [st for key, st in self.latest.items() if key.uri == uri]

    def _drop(self, key: DomainKey) -> None:
        self.latest.pop(key, None)
        self.cpu.pop(key, None)
        self.vcpus.pop(key, None)
