"""Rates from two samples of cumulative counters; pure, so it is tested on synthetic sequences.

A rate exists only when both samples come from the same run of the VM (same libvirt domain id)
and the counter did not go backwards: a VM that starts, stops, migrates, or whose counters are
reset (debugfs counters can be cleared, vCPUs unplugged) gets no rate for that one tick instead
of a negative or enormous one.
"""

from __future__ import annotations

from kvmtui.virt.models import (
    Counter,
    DomainStats,
    DomainKey,
    ExitCounts,
    RawSample,
    VcpuRaw,
    VcpuStats,
    per_second,
)


def _percent(prev_ns: int | None, cur_ns: int | None, dt: float, cpus: int = 1) -> float | None:
    ns_per_s = per_second(prev_ns, cur_ns, dt)
    if ns_per_s is None or cpus <= 0:
        return None
    # The counter and our clock are read a few ms apart: cap the overshoot that causes
    return min(ns_per_s / 1e9 / cpus * 100.0, 100.0)


def counters_since(prev: dict[str, int] | None, cur: dict[str, int],
                   dt: float) -> dict[str, Counter]:
    """Totals with their rates (in the source's order: `ordered` sorts them for showing)."""
    if not prev:
        return {name: Counter(total, None) for name, total in cur.items()}
    get = prev.get
    return {name: Counter(total, per_second(get(name), total, dt)) for name, total in cur.items()}


def ordered(counters: dict[str, Counter]) -> dict[str, Counter]:
    # busiest first; the total stays on top and time counters (nanoseconds, *_ns) go below
    # the event counts; a name orders ties so rows never swap places at random
    return dict(sorted(counters.items(),
                       key=lambda kv: (kv[0] != "total", kv[0].endswith("_ns"),
                                       -(kv[1].rate or 0.0),
                                       -kv[1].total, kv[0])))


def _vcpu(index: int, prev: VcpuRaw | None, cur: VcpuRaw, dt: float) -> VcpuStats:
    if prev is None:
        return VcpuStats(index, None, None, None)
    return VcpuStats(index, _percent(prev.time_ns, cur.time_ns, dt),
                     _percent(prev.wait_ns, cur.wait_ns, dt),
                     _percent(prev.delay_ns, cur.delay_ns, dt))


def compute(prev: RawSample | None, cur: RawSample) -> DomainStats:
    """The stats of `cur`, with rates against `prev` when they are comparable."""
    same_run = (prev is not None and cur.run_id is not None and prev.run_id == cur.run_id)
    dt = cur.at - prev.at if same_run else 0.0
    base = prev if same_run else None

    def rate(field: str) -> float | None:
        return per_second(getattr(base, field), getattr(cur, field), dt) if base else None

    vcpus = tuple(
        _vcpu(i, base.vcpus[i] if base and i < len(base.vcpus) else None, v, dt)
        for i, v in enumerate(cur.vcpus))
    exits = before = None
    if cur.exits is not None:
        before = base.exits if base and base.exits and base.exits.source == cur.exits.source \
            else None
        exits = counters_since(before.totals if before else None, cur.exits.totals, dt)
    return DomainStats(
        key=cur.key, name=cur.name, state=cur.state, at=cur.at,
        cpu_percent=(_percent(base.cpu_time_ns, cur.cpu_time_ns, dt, len(cur.vcpus) or 1)
                     if base else None),
        memory_kib=cur.memory_kib, memory_used_kib=cur.memory_used_kib,
        memory_used_source=cur.memory_used_source,
        disk_read_bps=rate("disk_read_bytes"), disk_write_bps=rate("disk_write_bytes"),
        net_rx_bps=rate("net_rx_bytes"), net_tx_bps=rate("net_tx_bytes"),
        vcpus=vcpus, exits=exits,
        exits_source=cur.exits.source if cur.exits else None,
        exits_unavailable_reason=None if cur.exits else cur.exits_unavailable_reason,
        vcpu_exits=cur.exits.per_vcpu if cur.exits else (),
        vcpu_exits_before=before.per_vcpu if before else None, interval_s=dt)


class RateTracker:
    """Keeps the last raw sample of every domain of one connection."""

    def __init__(self) -> None:
        self._last: dict[DomainKey, RawSample] = {}

    def update(self, samples: list[RawSample]) -> dict[DomainKey, DomainStats]:
        """Stats of a complete sampling; domains not in it are forgotten (undefined)."""
        stats = {raw.key: compute(self._last.get(raw.key), raw) for raw in samples}
        self._last = {raw.key: raw for raw in samples}
        return stats


__all__ = ["ExitCounts", "RateTracker", "compute", "per_second"]
