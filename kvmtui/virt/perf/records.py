"""One getAllDomainStats record -> RawSample: what the list needs of every domain, and every
exit reason of every vCPU for the domains someone looks at closely (StatsSampler.watch_detail).

libvirt's field names are those of `virsh domstats`. A tick reads ~100 fields of 1000 domains;
so each name is built once (not per domain per tick), and without detail the exit counters are
read by name (vcpu.N.exits.sum) instead of by walking every field of the record.
"""

from __future__ import annotations

import functools

from kvmtui.virt.models import DomainKey, DomainState, ExitCounts, RawSample, VcpuRaw
from kvmtui.virt.perf.exitnames import reason_key


def _int(record: dict, name: str) -> int | None:
    value = record.get(name)
    if type(value) is int:  # nearly always: libvirt's counters are ints
        return value
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@functools.cache
def _names(prefix: str, count: int, field: str) -> tuple[str, ...]:
    """("vcpu.0.time", "vcpu.1.time"…): each name is built once, not per domain per tick."""
    return tuple(f"{prefix}.{i}.{field}" for i in range(count))


def _sum(record: dict, prefix: str, count_name: str, field: str) -> int | None:
    count = _int(record, count_name)
    if not count or count < 0:
        return None
    values = map(functools.partial(_int, record), _names(prefix, count, field))
    present = [v for v in values if v is not None]
    return sum(present) if present else None


# Field name -> (vCPU index, reason key) or None: the same ~100 names come back every tick for
# every domain, so each is taken apart once.
_VCPU_COUNTER: dict[str, tuple[int, str] | None] = {}


def _vcpu_counter(field: str) -> tuple[int, str] | None:
    if not (field.startswith("vcpu.") and field.endswith(".sum")):
        return None
    index, _, stat = field[5:-4].partition(".")
    return (int(index), reason_key(stat)) if index.isdigit() and stat else None


def _all_exits(record: dict, vcpu_count: int) -> ExitCounts | None:
    """Every vcpu.N.<stat>.sum (KVM's cumulative per-vCPU counters, libvirt >= 7.x and
    Linux >= 5.14), by vCPU and summed: a walk over every field of the record."""
    per_vcpu: list[dict[str, int]] = [{} for _ in range(vcpu_count)]
    for field, value in record.items():
        slot = _VCPU_COUNTER.get(field)
        if slot is None:
            if field in _VCPU_COUNTER:
                continue
            slot = _VCPU_COUNTER[field] = _vcpu_counter(field)
            if slot is None:
                continue
        index, reason = slot
        if index < vcpu_count and isinstance(value, int):
            per_vcpu[index][reason] = value
    if not any(per_vcpu):
        return None
    totals: dict[str, int] = {}
    for counts in per_vcpu:
        for reason, value in counts.items():
            totals[reason] = totals.get(reason, 0) + value
    return ExitCounts("libvirt", totals, tuple(per_vcpu))


def _total_exits(record: dict, vcpu_count: int) -> ExitCounts | None:
    """vcpu.N.exits.sum summed over the vCPUs: the "total" _all_exits gives, the same values
    added in the same way, read by name (a few lookups instead of a walk over ~100 fields).

    A record with other per-vCPU counters but no exits.sum (no kernel has shipped one) gets
    None here, where _all_exits would give its other reasons without a total."""
    total = None
    for value in map(record.get, _names("vcpu", vcpu_count, "exits.sum")):
        if isinstance(value, int):
            total = value if total is None else total + value
    return None if total is None else ExitCounts("libvirt", {"total": total}, (), detail=False)


def parse_record(key: DomainKey, name: str, run_id: int | None, record: dict,
                 at: float, no_exits_reason: str | None = None, *,
                 detail: bool = False) -> RawSample:
    """One getAllDomainStats record -> RawSample (libvirt's field names: see virsh domstats).

    detail: every exit reason of every vCPU (for `x`, a host's view, `kvmtui top`); without
    it only the total over all reasons and vCPUs, which is what the list shows.
    no_exits_reason is kept in the sample when the record has no exit counters."""
    if len(record) <= 2:  # state only: an inactive domain, or a driver without statistics
        return RawSample(key=key, name=name, run_id=run_id, at=at,
                         state=DomainState.coerce(_int(record, "state.state") or 0),
                         exits_unavailable_reason=no_exits_reason)
    vcpu_count = max(_int(record, "vcpu.current") or 0, 0)
    value = functools.partial(_int, record)
    vcpus = tuple(map(VcpuRaw, map(value, _names("vcpu", vcpu_count, "time")),
                      map(value, _names("vcpu", vcpu_count, "wait")),
                      map(value, _names("vcpu", vcpu_count, "delay"))))
    exits = _all_exits(record, vcpu_count) if detail else _total_exits(record, vcpu_count)
    used, used_source = None, ""
    available, unused = _int(record, "balloon.available"), _int(record, "balloon.unused")
    if available is not None and unused is not None:
        used, used_source = available - unused, "guest"
    else:
        used = _int(record, "balloon.rss")
        used_source = "" if used is None else "rss"
    return RawSample(
        key=key, name=name, run_id=run_id, at=at,
        state=DomainState.coerce(_int(record, "state.state") or 0),
        cpu_time_ns=_int(record, "cpu.time"), vcpus=vcpus,
        memory_kib=_int(record, "balloon.current"),
        memory_used_kib=used, memory_used_source=used_source,
        disk_read_bytes=_sum(record, "block", "block.count", "rd.bytes"),
        disk_write_bytes=_sum(record, "block", "block.count", "wr.bytes"),
        net_rx_bytes=_sum(record, "net", "net.count", "rx.bytes"),
        net_tx_bytes=_sum(record, "net", "net.count", "tx.bytes"),
        exits=exits, exits_unavailable_reason=None if exits else no_exits_reason)
