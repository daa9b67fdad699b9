"""The stats sampler: one getAllDomainStats call per connection per tick, rates from deltas.

The sampler's clock kicks one lane per connection each interval (lanes.py), so hosts are read
side by side and a slow host skips its own ticks without stretching anyone else's. Each lane
turns each record into a RawSample, lets the connection's RateTracker add rates, and hands a
StatsTick to `on_tick`. When a connection's tick overruns, its missed ones are skipped, not
queued.
A tick that fails in any way reaches `on_tick` with its error, and sampling goes on.
KVM exit counters come from libvirt's per-vCPU stats (any URI); for a local domain whose record
has none, from KVM's debugfs (matched by QEMU process id); else the sample says why there are none.
With exits_source "debugfs", debugfs comes first and libvirt's counters are the fallback; the
sample then says why debugfs could not be used.
Every domain's exits are read as their total over all reasons and vCPUs (the list's Exits/s):
the full breakdown, by reason and by vCPU, only for the domains someone watches in detail
(watch_detail: `x`; watch_host_detail: a host's view; detail_all: `kvmtui top`), which keeps a
1000-domain tick light (records.py).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from urllib.parse import urlsplit

import libvirt

from kvmtui.virt.models import (
    DomainKey,
    ExitCounts,
    RawSample,
    StatsTick,
)
from kvmtui.virt.perf import kvmstat
from kvmtui.virt.perf.exitnames import reason_key
from kvmtui.virt.perf.lanes import Lane
from kvmtui.virt.perf.node import NodeSampler
from kvmtui.virt.perf.qemuproc import QemuProcesses
from kvmtui.virt.perf.rates import RateTracker
from kvmtui.virt.perf.records import parse_record
from kvmtui.virt.session.errors import libvirt_message

GROUPS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
          | libvirt.VIR_DOMAIN_STATS_BALLOON | libvirt.VIR_DOMAIN_STATS_VCPU
          | libvirt.VIR_DOMAIN_STATS_INTERFACE | libvirt.VIR_DOMAIN_STATS_BLOCK)
# NOWAIT: a domain busy with a job (starting, migrating, a slow monitor) is reported with what
# libvirt has at hand instead of holding up the whole tick for every other domain.
STATS_FLAGS = getattr(libvirt, "VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT", 0)
EXIT_SOURCES = ("auto", "libvirt", "debugfs")
# KVM's stat of all exits (reason key "total"): all a domain nobody looks at closely needs
TOTAL_STATS = ("exits",)
DEFAULT_INTERVAL_S = 1.0
# Faster than 0.2 s, a 1000-domain tick no longer fits; an hour is as slow as a figure still
# means "now" (and far below what timed waits accept).
MIN_INTERVAL_S = 0.2
MAX_INTERVAL_S = 3600.0


def is_local(uri: str) -> bool:
    """A URI whose domains run on this machine (QEMU processes and debugfs are ours to read)."""
    parts = urlsplit(uri)
    return parts.scheme.split("+")[0] == "qemu" and parts.hostname in (None, "", "localhost",
                                                                         "127.0.0.1", "::1")


class StatsSampler:
    """Samples every connection of a fleet on a background thread, or once on demand."""

    def __init__(self, connections: Callable[[], Iterable], *,
                 interval: float = DEFAULT_INTERVAL_S, exits_source: str = "auto",
                 on_tick: Callable[[StatsTick], None] = lambda tick: None,
                 debugfs_root=kvmstat.DEBUGFS_ROOT, detail_all: bool = False) -> None:
        if exits_source not in EXIT_SOURCES:
            raise ValueError(f"exits source must be one of {', '.join(EXIT_SOURCES)}")
        self._connections = connections
        self._interval = bounded_interval(interval)
        self.exits_source = exits_source
        self._on_tick = on_tick
        self._trackers: dict[str, RateTracker] = {}
        self._keys: dict[str, dict[str, DomainKey]] = {}  # by URI, by UUID
        # the one scanner of QEMU processes: the performance screen asks it too
        self.qemu = QemuProcesses()
        self.debugfs_root = debugfs_root
        self._debugfs_reason: tuple[float, str | None] | None = None
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._lanes: dict[int, Lane] = {}  # by id() of the connection object
        self.ticks = 0
        # screens showing host figures (the hosts overview): while any, ticks carry them
        self.node_watchers = 0
        self.node = NodeSampler()
        # Who wants every exit reason of every vCPU (watch_detail): everyone else's domains
        # get their total exits alone. Counted, as screens of the same VM or host may stack;
        # the lanes read the frozen snapshot, which is replaced whole under the lock.
        self.detail_all = detail_all  # `kvmtui top`: every domain, every tick
        self._detail_lock = threading.Lock()
        self._detail_keys: dict[DomainKey, int] = {}
        self._detail_uris: dict[str, int] = {}
        self._detail: tuple[frozenset[DomainKey], frozenset[str]] = (frozenset(), frozenset())

    # -- the interval ----------------------------------------------------------------------

    @property
    def interval(self) -> float:
        return self._interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        seconds = bounded_interval(seconds)
        with self._wake:
            self._interval = seconds
            self._wake.notify_all()

    # -- who wants the full breakdown ------------------------------------------------------

    def watch_detail(self, key: DomainKey) -> None:
        """From the next tick, `key`'s samples carry every exit reason of every vCPU (`x`).

        Its first detailed tick has the reasons' totals but no rates yet (there is no earlier
        detailed sample to compare with; "total" has its rate as always): so this kicks an
        early sample of its host, and the rates come with the next one."""
        if self._count(self._detail_keys, key, +1):
            self._kick_early(key.uri)

    def unwatch_detail(self, key: DomainKey) -> None:
        self._count(self._detail_keys, key, -1)

    def watch_host_detail(self, uri: str) -> None:
        """Every domain of the connection in detail (a host's view: its per-VM breakdown)."""
        if self._count(self._detail_uris, uri, +1):
            self._kick_early(uri)

    def unwatch_host_detail(self, uri: str) -> None:
        self._count(self._detail_uris, uri, -1)

    def wants_detail(self, key: DomainKey) -> bool:
        keys, uris = self._detail
        return self.detail_all or key.uri in uris or key in keys

    def _count(self, counts: dict, item, step: int) -> bool:
        """Counts a watcher in or out; True when `item` has just got its first."""
        with self._detail_lock:
            count = counts.get(item, 0) + step
            if count > 0:
                counts[item] = count
            else:
                counts.pop(item, None)
            self._detail = (frozenset(self._detail_keys), frozenset(self._detail_uris))
        return step > 0 and count == 1

    def _kick_early(self, uri: str) -> None:
        # from the UI thread: a lane busy with a tick runs again right after it; no lane
        # before start() or the host's first tick (which is near)
        for lane in list(self._lanes.values()):
            if lane.uri == uri:
                lane.kick(soon=True)

    # -- the thread ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stats", daemon=True)
            self._thread.start()

    def stop(self, wait: bool = False) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        if wait and self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopped:
            started = time.monotonic()
            try:
                self._kick_lanes()
            except Exception:  # noqa: BLE001 - the figures must keep coming
                # listing the connections failed (a bug): the next tick may succeed
                pass
            with self._wake:
                interval = self._interval
                deadline = started + interval
                while not self._stopped and interval == self._interval:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._wake.wait(remaining)
        for lane in self._lanes.values():
            lane.stop()

    def _kick_lanes(self) -> None:
        """Each connection samples on its own lane (lanes.py); a lane still busy skips."""
        connections = list(self._connections())
        wanted = {id(c): c for c in connections}
        for ident in [i for i in self._lanes if i not in wanted]:
            # its host was removed, or is not connected now: when it is back, its counters
            # may have started again, so no rate spans the gap
            gone = self._lanes.pop(ident)
            gone.stop()
            self._trackers.pop(gone.uri, None)
            self._keys.pop(gone.uri, None)
            self.node.forget(gone.uri)
        for ident, connection in wanted.items():
            lane = self._lanes.get(ident)
            if lane is None:
                lane = self._lanes[ident] = Lane(
                    f"stats {connection.uri}", connection.uri,
                    functools.partial(self._tick, connection))
            lane.kick()

    def _tick(self, connection) -> None:
        self._on_tick(self._sample_safely(connection))
        with self._wake:
            self.ticks += 1  # connection samples delivered, for whoever waits for fresh ones

    # -- sampling --------------------------------------------------------------------------

    def sample_once(self) -> list[StatsTick]:
        """Every connection, one after the other, on the caller's thread (scripts, benchmarks)."""
        ticks = [self._sample_safely(connection) for connection in self._connections()]
        self.ticks += 1
        return ticks

    def _sample_safely(self, connection) -> StatsTick:
        started = time.monotonic()
        try:
            tick = self.sample_connection(connection)
        except Exception as err:  # noqa: BLE001 - a bad record or a bug: said, not fatal
            return StatsTick(connection.uri, {}, time.monotonic() - started, 1,
                             f"sampling failed: {type(err).__name__}: {err}")
        if self.node_watchers and not tick.error:
            try:
                with _held(connection) as conn:
                    node = self.node.sample(connection.uri, conn)
            except Exception:  # noqa: BLE001 - the domains' figures stand without the host's
                node = None
            tick = dataclasses.replace(tick, node=node, libvirt_calls=tick.libvirt_calls + 2)
        return tick

    def sample_connection(self, connection) -> StatsTick:
        started = time.monotonic()
        try:
            with _held(connection) as conn:
                records = conn.getAllDomainStats(GROUPS, STATS_FLAGS)
        except libvirt.libvirtError as err:
            return StatsTick(connection.uri, {}, time.monotonic() - started, 1,
                             libvirt_message(err))
        at = (started + time.monotonic()) / 2  # the records were read somewhere in between
        # each domain's name, id and UUID are local calls on the handles the call returned
        samples = self.samples(connection.uri, ((dom.name(), dom.ID(), dom.UUIDString(), record)
                                                for dom, record in records), at)
        tracker = self._trackers.setdefault(connection.uri, RateTracker())
        # every record and debugfs file was read between `started` and now
        return StatsTick(connection.uri, tracker.update(samples, time.monotonic() - at),
                         time.monotonic() - started, 1)

    def samples(self, uri: str, rows: Iterable[tuple[str, int, str, dict]],
                at: float) -> list[RawSample]:
        """One tick's records of a connection, as (name, libvirt id, UUID, record), parsed:
        in detail for the domains watched (watch_detail), else their totals."""
        local = is_local(uri)
        remote_reason = self._why_not_libvirt(uri)
        debugfs_first = self.exits_source == "debugfs"
        keys, uris = self._detail
        whole = self.detail_all or uri in uris  # every domain of this host in detail
        # the same key object tick after tick: cheaper than a new one, and shared by every
        # store that keeps it
        known = self._keys.setdefault(uri, {})
        samples = []
        for name, dom_id, uuid, record in rows:
            run_id = dom_id if dom_id >= 0 else None
            # the reason with_exits would give, unless debugfs is to be tried: most samples
            # are then final as parsed (a copy per domain per tick costs 1000 domains 4 ms)
            if run_id is None:
                reason = f"{name} is not running"
            elif self.exits_source == "libvirt" or not local:
                reason = remote_reason
            else:
                reason = None
            key = known.get(uuid)
            if key is None:
                key = known[uuid] = DomainKey(uri, uuid)
            detail = whole or (bool(keys) and key in keys)
            raw = parse_record(key, name, run_id, record, at, reason, detail=detail)
            if run_id is not None and (debugfs_first or (raw.exits is None and reason is None)):
                raw = self.with_exits(raw, detail=detail)
            samples.append(raw)
        if len(known) > len(samples) + 64:  # domains undefined since: their keys go too
            self._keys[uri] = {raw.key.uuid: raw.key for raw in samples}
        return samples

    def with_exits(self, raw: RawSample, *, detail: bool = True) -> RawSample:
        """The parsed sample with its exit counters from the source exits_source prefers, and
        the reason when there are none, or none from the preferred source.

        detail: every reason from debugfs; without it only its all-exits counter, as parse_record
        reads only libvirt's total without it."""
        uri = raw.key.uri
        local = is_local(uri)
        if raw.run_id is None:
            reason = None if raw.exits else f"{raw.name} is not running"
            return raw._replace(exits_unavailable_reason=reason)
        if self.exits_source == "libvirt" or (self.exits_source == "auto" and raw.exits):
            return raw._replace(
                exits_unavailable_reason=None if raw.exits else self._why_not_libvirt(uri))
        if not local:
            reason = ("KVM's debugfs can only be read on the VM's own host" if raw.exits
                      else self._why_not_libvirt(uri))
            return raw._replace(exits_unavailable_reason=reason)
        exits, reason = self._debugfs_exits(raw, detail)
        if exits is not None:
            return raw._replace(exits=exits, exits_unavailable_reason=None)
        # debugfs refused: libvirt's counters (when it has any) stand, with debugfs's reason
        return raw._replace(exits_unavailable_reason=reason)

    def _why_not_libvirt(self, uri: str) -> str:
        scheme = urlsplit(uri).scheme.split("+")[0]
        if scheme != "qemu":
            return f"libvirt's {scheme} driver has no KVM exit counters"
        if self.exits_source == "libvirt":
            return ("libvirt reported no per-vCPU KVM counters (they need libvirt >= 7.x and "
                    "Linux >= 5.14); try --exits-source auto for debugfs")
        return ("libvirt reported no per-vCPU KVM counters (they need libvirt >= 7.x and "
                "Linux >= 5.14), and debugfs can only be read on the VM's own host")

    def _debugfs_exits(self, raw: RawSample,
                       detail: bool = True) -> tuple[ExitCounts | None, str | None]:
        pid = self.qemu.pid(raw.key.uuid.lower())
        if pid is None:
            return None, f"no QEMU process with -uuid {raw.key.uuid} on this machine"
        if self.qemu.accelerator(pid) == "tcg":
            return None, tcg_reason(raw.name)
        reason = self._debugfs_probe()
        if reason:
            return None, reason
        directory = kvmstat.vm_directories(self.debugfs_root).get(pid)
        if directory is None:
            return None, f"KVM's debugfs has no directory for QEMU process {pid}"
        try:
            # without detail, one file (kvm/<pid>-<fd>/exits) instead of every counter's
            counters = kvmstat.read_counters(directory, None if detail else TOTAL_STATS)
        except kvmstat.DebugfsUnavailable as err:
            return None, str(err)
        return ExitCounts("debugfs", {reason_key(k): v for k, v in counters.items()},
                          detail=detail), None

    def _debugfs_probe(self) -> str | None:
        # A refusal (not mounted, lockdown) does not change tick to tick: ask every 10 s.
        now = time.monotonic()
        if self._debugfs_reason is None or now - self._debugfs_reason[0] > 10:
            self._debugfs_reason = (now, kvmstat.probe(self.debugfs_root))
        return self._debugfs_reason[1]


def bounded_interval(seconds: float) -> float:
    """The sampling interval nearest to `seconds` that the sampler can keep."""
    if math.isnan(seconds):
        raise ValueError("the sampling interval must be a number of seconds, not NaN")
    return min(max(seconds, MIN_INTERVAL_S), MAX_INTERVAL_S)


def tcg_reason(name: str) -> str:
    return (f"{name} runs under TCG (domain type 'qemu'): QEMU emulates the CPU in software, "
            "so there are no KVM exits; use <domain type='kvm'> for hardware virtualization")


def domain_type(conn: libvirt.virConnect, uuid: str) -> str | None:
    """'kvm' or 'qemu' (TCG): the type attribute of the domain's XML."""
    import xml.etree.ElementTree as ET

    try:
        return ET.fromstring(conn.lookupByUUIDString(uuid).XMLDesc(0)).get("type")
    except (libvirt.libvirtError, ET.ParseError):
        return None


def explain_missing_exits(conn: libvirt.virConnect, stats) -> str | None:
    """A sharper reason than the sampler's when the domain turns out to be TCG (one XML read:
    the sampler itself never reads XML, so that a tick stays one call)."""
    reason = stats.exits_unavailable_reason
    if stats.exits is not None or reason is None or "TCG" in reason or "not running" in reason:
        return reason
    if domain_type(conn, stats.key.uuid) == "qemu":
        return tcg_reason(stats.name)
    return reason


def _held(connection) -> AbstractContextManager[libvirt.virConnect]:
    """The connection's libvirt handle, kept open for the block: a session Connection's through
    its using() (a reconnect or a host's removal must not close it under the call); a script's
    (cli/connect.py Opened), which is closed only after sampling stops, as it is."""
    using = getattr(connection, "using", None)
    return using() if using is not None else nullcontext(connection.conn)
