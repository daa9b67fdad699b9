"""Rates from two samples of cumulative counters; pure, so it is tested on synthetic sequences.

A rate exists only when both samples come from the same run of the VM (same libvirt domain id)
and the counter did not go backwards: a VM that starts, stops, migrates, or whose counters are
reset (debugfs counters can be cleared, vCPUs unplugged) gets no rate for that one tick instead
of a negative or enormous one.

Time counters (nanoseconds: vcpu.N.time/.wait/.delay, KVM's *_ns) are bounded by the time
that passed: one vCPU cannot wait or run for more than a second per second, and a sum over N
vCPUs for more than N. KVM adds a halt's whole wait when the halt ends, so after a long halt the
counter jumps by more than the interval; that delta says nothing about the interval, so it has
no rate (unknown) rather than an impossible one.
"""

from __future__ import annotations

from kvmtui.virt.models import (
    Counter,
    DomainKey,
    DomainState,
    DomainStats,
    ExitCounts,
    RawSample,
    VcpuRaw,
    VcpuStats,
    per_second,
)

# Some time counters come in whole clock ticks (a thread's utime and stime: 10 ms each), so
# two reads of one can differ by a few ticks more than the time between them; beyond that and
# the spread of the sampling's own reads (RateTracker.update's read_s), it is impossible.
CLOCK_SLACK_S = 0.05


def is_time_counter(name: str) -> bool:
    """KVM's counters of nanoseconds (halt_wait_ns, halt_poll_success_ns…), not of events."""
    return name.endswith("_ns")


def time_rate(prev_ns: int | None, cur_ns: int | None, dt: float, cpus: int,
              slack: float = CLOCK_SLACK_S) -> float | None:
    """ns per second of a time counter summed over `cpus` vCPUs, at most cpus × 1e9.

    None when it advanced by more than cpus × the time that can have passed (dt + slack)."""
    rate = per_second(prev_ns, cur_ns, dt)
    if rate is None or prev_ns is None or cur_ns is None:
        return None
    most = cpus * 1e9
    if cur_ns - prev_ns > most * (dt + slack):
        return None
    # within the slack: the reads' own spread, not time that passed, so the rate stays possible
    return min(rate, most)


def _percent(prev_ns: int | None, cur_ns: int | None, dt: float, cpus: int = 1) -> float | None:
    ns_per_s = per_second(prev_ns, cur_ns, dt)
    if ns_per_s is None or cpus <= 0:
        return None
    # cpu.time also counts QEMU's own threads (I/O, emulation), which may outrun the vCPUs:
    # that is real time spent, so it is capped at "all vCPUs busy" rather than made unknown
    return min(ns_per_s / 1e9 / cpus * 100.0, 100.0)


def _vcpu_percent(prev_ns: int | None, cur_ns: int | None, dt: float,
                  slack: float) -> float | None:
    # time_rate(prev_ns, cur_ns, dt, 1, slack) as a percentage, written out: three per vCPU
    # of every domain, every tick
    if prev_ns is None or cur_ns is None or dt <= 0 or cur_ns < prev_ns:
        return None
    spent = cur_ns - prev_ns
    if spent > 1e9 * (dt + slack):
        return None
    return min(spent / dt, 1e9) / 1e9 * 100.0


def counters_since(prev: dict[str, int] | None, cur: dict[str, int], dt: float, *,
                   cpus: int | None = None, slack: float = CLOCK_SLACK_S) -> dict[str, Counter]:
    """Totals with their rates (in the source's order: `ordered` sorts them for showing).

    cpus: how many vCPUs the counters sum, which bounds the time counters' rates (None: not
    known, so they are not bounded)."""
    if not prev:
        return {name: Counter(total, None) for name, total in cur.items()}
    get = prev.get
    if cpus is None:
        return {name: Counter(total, per_second(get(name), total, dt))
                for name, total in cur.items()}
    return {name: Counter(total, time_rate(get(name), total, dt, cpus, slack)
                          if is_time_counter(name) else per_second(get(name), total, dt))
            for name, total in cur.items()}


def ordered(counters: dict[str, Counter]) -> dict[str, Counter]:
    # busiest first; the total stays on top and time counters (nanoseconds, *_ns) go below
    # the event counts; a name orders ties so rows never swap places at random
    return dict(sorted(counters.items(),
                       key=lambda kv: (kv[0] != "total", is_time_counter(kv[0]),
                                       -(kv[1].rate or 0.0),
                                       -kv[1].total, kv[0])))


def _vcpu(index: int, prev: VcpuRaw | None, cur: VcpuRaw, dt: float,
          slack: float) -> VcpuStats:
    if prev is None:
        return VcpuStats(index, None, None, None)
    return VcpuStats(index, _vcpu_percent(prev.time_ns, cur.time_ns, dt, slack),
                     _vcpu_percent(prev.wait_ns, cur.wait_ns, dt, slack),
                     _vcpu_percent(prev.delay_ns, cur.delay_ns, dt, slack))


def _bounded_before(prev: dict[str, int], cur: dict[str, int], dt: float,
                    slack: float) -> dict[str, int]:
    """One vCPU's previous counters as its per-vCPU rates are to be worked out from them.

    DomainStats works those rates out on demand, from the previous and current values alone;
    so a time counter that outran the time that passed is left out here (no rate), and one
    within the slack is raised until its rate is one vCPU-second per second."""
    bounded = dict(prev)
    for name, total in cur.items():
        before = prev.get(name)
        if before is None or not is_time_counter(name):
            continue
        rate = time_rate(before, total, dt, 1, slack)
        if rate is None:
            del bounded[name]
        elif (total - before) / dt > rate:
            bounded[name] = total - int(rate * dt)
    return bounded


_STOPPED_VCPUS = (DomainState.PAUSED, DomainState.PMSUSPENDED)


def _exits(base: RawSample | None, cur: RawSample, cur_exits: ExitCounts, dt: float,
           slack: float) -> tuple[dict[str, Counter], tuple[dict[str, int], ...] | None]:
    """The exits of `cur` with their rates, and each vCPU's previous counters (for its rates)."""
    before = base.exits if base and base.exits and base.exits.source == cur_exits.source \
        else None
    # libvirt's totals sum its per-vCPU counters; debugfs's sum the VM's vCPUs
    cpus = max(len(cur_exits.per_vcpu), len(cur.vcpus), len(base.vcpus) if base else 0)
    # the list's "total" and x's are this one computation, whichever reasons come with it
    exits = counters_since(before.totals if before else None, cur_exits.totals, dt,
                           cpus=cpus, slack=slack)
    if before is None or not cur_exits.per_vcpu:
        return exits, None
    if dt <= 0:
        return exits, before.per_vcpu
    return exits, tuple(_bounded_before(before.per_vcpu[i], counts, dt, slack)
                        if i < len(before.per_vcpu) else {}
                        for i, counts in enumerate(cur_exits.per_vcpu))


def compute(prev: RawSample | None, cur: RawSample, slack: float = CLOCK_SLACK_S) -> DomainStats:
    """The stats of `cur`, with rates against `prev` when they are comparable.

    slack: how far, in seconds, the counters' reads may lie from the samples' `at`.
    A domain just taken into detail (StatsSampler.watch_detail) has only its "total" in `prev`:
    its other reasons have totals without rates for this one tick."""
    base = prev if (prev is not None and cur.run_id is not None
                    and prev.run_id == cur.run_id) else None
    dt = cur.at - base.at if base is not None else 0.0
    # Every domain, every tick: the rates are worked out field by field, not through
    # getattr, and a sample with no counters at all (a domain that is off, a driver without
    # statistics) costs little more than its DomainStats.
    if (cur.cpu_time_ns is None and cur.exits is None and not cur.vcpus
            and cur.disk_read_bytes is None and cur.disk_write_bytes is None
            and cur.net_rx_bytes is None and cur.net_tx_bytes is None):
        return DomainStats(
            key=cur.key, name=cur.name, state=cur.state, at=cur.at,
            memory_kib=cur.memory_kib, memory_used_kib=cur.memory_used_kib,
            memory_used_source=cur.memory_used_source,
            exits_unavailable_reason=cur.exits_unavailable_reason, interval_s=dt)
    if base is None:
        cpu_percent = disk_read = disk_write = net_rx = net_tx = None
        vcpus = tuple(VcpuStats(i, None, None, None) for i in range(len(cur.vcpus)))
    else:
        disk_read = per_second(base.disk_read_bytes, cur.disk_read_bytes, dt)
        disk_write = per_second(base.disk_write_bytes, cur.disk_write_bytes, dt)
        net_rx = per_second(base.net_rx_bytes, cur.net_rx_bytes, dt)
        net_tx = per_second(base.net_tx_bytes, cur.net_tx_bytes, dt)
        before_vcpus = base.vcpus
        vcpus = tuple(
            _vcpu(i, before_vcpus[i] if i < len(before_vcpus) else None, v, dt, slack)
            for i, v in enumerate(cur.vcpus))
        cpu_percent = _percent(base.cpu_time_ns, cur.cpu_time_ns, dt, len(cur.vcpus) or 1)
        if (cpu_percent is not None and base.state in _STOPPED_VCPUS
                and cur.state in _STOPPED_VCPUS):
            # No vCPU ran: cpu.time still grows by QEMU's own housekeeping threads, which is
            # not the guest's CPU (vcpu.N.time stands still, as `x` shows).
            cpu_percent = 0.0
    cur_exits = cur.exits
    exits, vcpu_before = _exits(base, cur, cur_exits, dt, slack) if cur_exits else (None, None)
    return DomainStats(
        key=cur.key, name=cur.name, state=cur.state, at=cur.at,
        cpu_percent=cpu_percent,
        memory_kib=cur.memory_kib, memory_used_kib=cur.memory_used_kib,
        memory_used_source=cur.memory_used_source,
        disk_read_bps=disk_read, disk_write_bps=disk_write,
        net_rx_bps=net_rx, net_tx_bps=net_tx,
        vcpus=vcpus, exits=exits,
        exits_source=cur_exits.source if cur_exits else None,
        # with exits: why they are not from the source asked for (--exits-source debugfs)
        exits_unavailable_reason=cur.exits_unavailable_reason,
        vcpu_exits=cur_exits.per_vcpu if cur_exits else (),
        vcpu_exits_before=vcpu_before, interval_s=dt,
        exits_detail=cur_exits.detail if cur_exits else False)


class RateTracker:
    """Keeps the last raw sample of every domain of one connection."""

    def __init__(self) -> None:
        self._last: dict[DomainKey, RawSample] = {}
        self._last_read_s = 0.0

    def update(self, samples: list[RawSample],
               read_s: float = 0.0) -> dict[DomainKey, DomainStats]:
        """Stats of a complete sampling; domains not in it are forgotten (undefined).

        read_s: every counter of this sampling was read within this many seconds of its
        sample's `at` (a bulk call and file reads take time)."""
        slack = CLOCK_SLACK_S + self._last_read_s + max(read_s, 0.0)
        stats = {raw.key: compute(self._last.get(raw.key), raw, slack) for raw in samples}
        self._last = {raw.key: raw for raw in samples}
        self._last_read_s = max(read_s, 0.0)
        return stats


__all__ = ["ExitCounts", "RateTracker", "compute", "per_second"]
