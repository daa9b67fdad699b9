"""Typed, immutable facts about domains and connections, shared by every layer."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple


class DomainKey(NamedTuple):
    """A domain is identified by its connection and UUID, never by its name alone."""

    uri: str
    uuid: str


class DomainState(enum.IntEnum):
    """libvirt's virDomainState, named and worded as `virsh list` words them."""

    NOSTATE = 0
    RUNNING = 1
    BLOCKED = 2
    PAUSED = 3
    SHUTDOWN = 4
    SHUTOFF = 5
    CRASHED = 6
    PMSUSPENDED = 7

    @property
    def word(self) -> str:
        return _STATE_WORDS[self]

    @property
    def css_class(self) -> str:
        return "-" + self.word.replace(" ", "-")

    @classmethod
    def from_word(cls, word: str) -> DomainState | None:
        wanted = word.strip().lower().replace("-", " ").replace("_", " ")
        aliases = {"shutoff": "shut off", "off": "shut off", "inshutdown": "in shutdown",
                   "shutdown": "in shutdown", "blocked": "idle", "suspended": "paused"}
        wanted = aliases.get(wanted.replace(" ", ""), wanted)
        for state, text in _STATE_WORDS.items():
            if text == wanted:
                return state
        return None

    @classmethod
    def coerce(cls, value: int) -> DomainState:
        # a dict lookup, not the enum's own call: every domain's state is read every tick
        return _STATE_OF.get(value, cls.NOSTATE)


_STATE_OF = {int(state): state for state in DomainState}

_STATE_WORDS = {
    DomainState.NOSTATE: "no state",
    DomainState.RUNNING: "running",
    DomainState.BLOCKED: "idle",
    DomainState.PAUSED: "paused",
    DomainState.SHUTDOWN: "in shutdown",
    DomainState.SHUTOFF: "shut off",
    DomainState.CRASHED: "crashed",
    DomainState.PMSUSPENDED: "pmsuspended",
}


@dataclass(frozen=True, slots=True)
class DomainSummary:
    """One row of the domain list: what `virsh list --all` and `dominfo` say of a domain."""

    key: DomainKey
    name: str
    id: int | None
    state: DomainState
    vcpus: int
    memory_kib: int
    max_memory_kib: int
    autostart: bool
    persistent: bool
    managed_save: bool
    host: str

    @property
    def active(self) -> bool:
        return self.id is not None

    @property
    def state_text(self) -> str:
        """The state as every screen words it: virsh's word, and `shut off (saved)` when a
        managed save waits to be restored (virsh says "shut off" and, in dominfo, "Managed
        save: yes")."""
        if self.managed_save and self.state is DomainState.SHUTOFF:
            return f"{self.state.word} (saved)"
        return self.state.word


class ConnectionStatus(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"   # was connected, then lost: reconnecting
    REFUSED = "refused"             # never connected: the host said no (socket, auth)
    UNREACHABLE = "unreachable"     # never connected: no answer, no route, ssh failed…

    @property
    def failed(self) -> bool:
        """Tried and failed: kvmtui retries on its own."""
        return self in (ConnectionStatus.DISCONNECTED, ConnectionStatus.REFUSED,
                        ConnectionStatus.UNREACHABLE)


# What a connection reports.  Each is small and built on the event thread or a worker thread;
# the receiver decides how to hand it to its own thread.

@dataclass(frozen=True, slots=True)
class DomainUpdated:
    summary: DomainSummary


@dataclass(frozen=True, slots=True)
class DomainRemoved:
    key: DomainKey
    name: str


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """A libvirt domain event, translated: kind is e.g. 'lifecycle', detail e.g. 'stopped: shutdown'."""

    key: DomainKey
    name: str
    kind: str
    detail: str
    lifecycle: int | None = None


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """A connection's state: also each host's row in the hosts overview.

    Times are time.monotonic() of this process, so a screen can say "connecting for 12 s" or
    "retrying in 4 s" as the clock runs, with no new report."""

    uri: str
    status: ConnectionStatus
    reason: str = ""
    since: float = 0.0              # when this status began
    retry_at: float | None = None   # the next attempt (failed states only)


@dataclass(frozen=True, slots=True)
class ConnectionRemoved:
    """The user removed a host: its domains leave every screen."""

    uri: str
    name: str


@dataclass(frozen=True, slots=True)
class DomainsReloaded:
    """The full list of one connection, read afresh (after a reconnect): rows not in it are stale."""

    uri: str
    summaries: tuple[DomainSummary, ...]


Change = (DomainUpdated | DomainRemoved | DomainEvent | ConnectionChanged | DomainsReloaded
          | ConnectionRemoved)


# Performance samples (virt/perf/stats.py makes them).  Raw counters are what libvirt or debugfs
# said at one instant; DomainStats adds the rates computed against the previous sample.

@dataclass(frozen=True, slots=True)
class VcpuRaw:
    time_ns: int | None      # running guest code (vcpu.N.time)
    wait_ns: int | None      # waiting for I/O (vcpu.N.wait)
    delay_ns: int | None     # runnable but waiting for a host CPU: steal (vcpu.N.delay)


@dataclass(frozen=True, slots=True)
class ExitCounts:
    """KVM's cumulative counters of one domain, by reason key (see exitnames).

    Only the domains someone looks at closely (`x`, a host's view, `kvmtui top`: see
    StatsSampler.watch_detail) have every reason and every vCPU's counters; every other
    domain has its all-reasons count alone, totals == {"total": N} and detail False, which is
    all the list shows and costs a fraction of the reading."""

    source: str                                   # "libvirt" or "debugfs"
    totals: dict[str, int]
    per_vcpu: tuple[dict[str, int], ...] = ()     # libvirt only: debugfs sums the vCPUs
    detail: bool = True                           # every reason (not only "total")


class RawSample(NamedTuple):
    """One domain's counters as read (immutable; a tuple, as Counter: a thousand are made each
    tick and a frozen dataclass takes three times as long to build)."""

    key: DomainKey
    name: str
    state: DomainState
    run_id: int | None          # libvirt's domain id: new each time the VM starts
    at: float                   # time.monotonic() when read
    cpu_time_ns: int | None = None
    vcpus: tuple[VcpuRaw, ...] = ()
    memory_kib: int | None = None
    memory_used_kib: int | None = None
    memory_used_source: str = ""                  # "guest" (balloon stats) or "rss" (host)
    disk_read_bytes: int | None = None
    disk_write_bytes: int | None = None
    net_rx_bytes: int | None = None
    net_tx_bytes: int | None = None
    exits: ExitCounts | None = None
    exits_unavailable_reason: str | None = None


class Counter(NamedTuple):
    """A cumulative counter and its rate (a tuple: tens of thousands are made each tick)."""

    total: int
    rate: float | None          # per second; None without a comparable previous sample


@dataclass(frozen=True, slots=True)
class VcpuStats:
    index: int
    cpu_percent: float | None   # of one host CPU
    wait_percent: float | None
    steal_percent: float | None


@dataclass(frozen=True, slots=True)
class DomainStats:
    key: DomainKey
    name: str
    state: DomainState
    at: float
    cpu_percent: float | None = None      # share of the VM's vCPUs: 100 = all of them busy
    memory_kib: int | None = None
    memory_used_kib: int | None = None
    memory_used_source: str = ""
    disk_read_bps: float | None = None
    disk_write_bps: float | None = None
    net_rx_bps: float | None = None
    net_tx_bps: float | None = None
    vcpus: tuple[VcpuStats, ...] = ()
    exits: dict[str, Counter] | None = None    # summed over vCPUs (rates.ordered sorts them)
    exits_source: str | None = None
    exits_unavailable_reason: str | None = None
    # per-vCPU counters, kept raw: their rates are worked out only for the VM on screen
    vcpu_exits: tuple[dict[str, int], ...] = ()
    vcpu_exits_before: tuple[dict[str, int], ...] | None = None
    interval_s: float = 0.0
    # exits has every reason (and vcpu_exits every vCPU's, from libvirt), not only "total":
    # see ExitCounts.detail
    exits_detail: bool = False

    def exits_per_vcpu(self) -> tuple[dict[str, Counter], ...]:
        before = self.vcpu_exits_before
        result = []
        for i, counts in enumerate(self.vcpu_exits):
            prev = before[i] if before is not None and i < len(before) else None
            result.append({
                name: Counter(total, per_second(prev.get(name) if prev else None, total,
                                                self.interval_s))
                for name, total in counts.items()})
        return tuple(result)


def per_second(prev: int | None, cur: int | None, dt: float) -> float | None:
    """The rate of a cumulative counter; None without a previous value, or when it went back."""
    if prev is None or cur is None or dt <= 0 or cur < prev:
        return None
    return (cur - prev) / dt


@dataclass(frozen=True, slots=True)
class NodeUsage:
    """A host's own CPU and memory use, as libvirt's node stats say (so remote hosts too)."""

    cpu_percent: float | None       # busy share of all its CPUs; None on the first sample
    memory_total_kib: int | None
    memory_used_kib: int | None     # total - free - buffers - cached, as free(1) counts "used"


@dataclass(frozen=True, slots=True)
class StatsTick:
    """One sampling of one connection: every domain's stats, and what it cost."""

    uri: str
    stats: dict[DomainKey, DomainStats]
    duration_s: float
    libvirt_calls: int
    error: str | None = None
    node: NodeUsage | None = None   # only while a screen shows host figures
