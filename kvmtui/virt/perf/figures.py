"""One store of every VM's figures, kept once for the list and every screen: the latest sample,
and the last HISTORY values of its CPU% and each vCPU's, so `x` opens with its graphs drawn."""

from __future__ import annotations

from collections import deque

from kvmtui.virt.models import DomainKey, DomainStats, StatsTick

HISTORY = 60  # samples: a minute at the default refresh

_ON = ("running", "idle", "paused")


class FleetFigures:
    def __init__(self, length: int = HISTORY) -> None:
        self.length = length
        self.latest: dict[DomainKey, DomainStats] = {}
        self.cpu: dict[DomainKey, deque[float | None]] = {}
        self.vcpus: dict[DomainKey, dict[int, deque[float | None]]] = {}

    def record(self, tick: StatsTick) -> None:
        """A connection's new sample; its VMs that are no longer in it are forgotten."""
        for key in [k for k in self.latest if k.uri == tick.uri and k not in tick.stats]:
            self._drop(key)
        for key, st in tick.stats.items():
            self.latest[key] = st
            # a gap in the graph while the VM is off, not a zero
            self._series(self.cpu, key).append(st.cpu_percent if st.state.word in _ON else None)
            per_vcpu = self.vcpus.setdefault(key, {})
            for v in st.vcpus:
                self._series(per_vcpu, v.index).append(v.cpu_percent)

    def forget(self, uri: str) -> None:
        """A connection went away: its last figures stopped being true."""
        for key in [k for k in self.latest if k.uri == uri]:
            self._drop(key)

    def of_connection(self, uri: str) -> list[DomainStats]:
        return [st for key, st in self.latest.items() if key.uri == uri]

    def _drop(self, key: DomainKey) -> None:
        self.latest.pop(key, None)
        self.cpu.pop(key, None)
        self.vcpus.pop(key, None)

    def _series(self, series: dict, index) -> deque[float | None]:
        found = series.get(index)
        if found is None:
            found = series[index] = deque(maxlen=self.length)
        return found
