"""Typed messages shared by the app, screens and widgets.

The types the fields carry are imported for type checking only: this module is imported at
start-up, and the models of details, snapshots, host facts and consoles are not needed until a
screen that shows them is opened (each screen imports them itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # annotations only: importing the models they name costs start-up
    from kvmtui.virt.console.devices import ConsoleDevice
    from kvmtui.virt.console.errors import Refusal
    from kvmtui.virt.console.stream import ConsoleStream
    from kvmtui.virt.domain.actionlog import ActionRecord
    from kvmtui.virt.domain.bulk import BulkRun
    from kvmtui.virt.domain.details import DomainDetails
    from kvmtui.virt.domain.livefacts import LiveFacts
    from kvmtui.virt.domain.power import PowerAction
    from kvmtui.virt.domain.snapshots import SnapshotTree
    from kvmtui.virt.models import Change, Counter, DomainKey, StatsTick
    from kvmtui.virt.perf.host import HostUsage, NodeFacts, VirtFeatures
    from kvmtui.virt.perf.qemuproc import ProcessSample


@dataclass
class FleetChanged(Message):
    """Something a connection reported (posted from libvirt's threads)."""

    change: Change


@dataclass
class PowerDone(Message):
    """A power action's libvirt call returned; error is libvirt's message, or None."""

    key: DomainKey
    name: str
    action: PowerAction
    error: str | None
    record: ActionRecord


@dataclass
class DetailsLoaded(Message):
    """A domain's XML was read and parsed, with its live facts, off the UI thread."""

    key: DomainKey
    details: DomainDetails
    facts: LiveFacts
    xml: str


@dataclass
class DetailsFailed(Message):
    key: DomainKey
    error: str


@dataclass
class SnapshotsRead(Message):
    key: DomainKey
    tree: SnapshotTree
    agent: bool          # a guest agent channel is connected (quiesce possible)
    libvirt_version: int


@dataclass
class SnapshotsReadFailed(Message):
    """Reading a VM's snapshots failed; vm_gone when the VM itself no longer exists."""

    key: DomainKey
    error: str
    vm_gone: bool


@dataclass
class SnapshotDone(Message):
    """A create/revert/delete returned; error is libvirt's message (or a refusal), or None."""

    key: DomainKey
    what: str
    error: str | None
    record: ActionRecord | None = None


@dataclass
class StatsTicked(Message):
    """The sampler read one connection's stats (posted from the sampler thread)."""

    tick: StatsTick


@dataclass
class HostFactsRead(Message):
    """A host's node facts, virtualization features and (local) usage; or libvirt's error."""

    uri: str
    facts: NodeFacts | None
    features: VirtFeatures | None
    usage: HostUsage | None
    error: str | None = None


@dataclass
class HostSampled(Message):
    """A host's usage (local only) and its KVM exits, with where they come from."""

    uri: str
    usage: HostUsage | None
    exits: dict[str, Counter]
    source: str


@dataclass
class ExitsExplained(Message):
    """A sharper reason why a VM has no exit counters (None: the sampler's reason stands)."""

    key: DomainKey
    reason: str | None
    sharper: str | None


@dataclass
class ProcessSampled(Message):
    """The VM's QEMU process as the host sees it; None when it is not on this machine."""

    key: DomainKey
    sample: ProcessSample | None


@dataclass
class BulkItemDone(Message):
    """One VM's call of a bulk action returned; error is libvirt's message, or None."""

    run: BulkRun
    key: DomainKey
    name: str
    action: PowerAction | None  # None: a snapshot
    error: str | None
    record: ActionRecord


@dataclass
class ConsoleDevicesRead(Message):
    """A VM's console devices, read from its XML off the UI thread (error: libvirt's words)."""

    key: DomainKey
    devices: list[ConsoleDevice]
    error: str | None = None


@dataclass
class ConsoleAttached(Message):
    stream: ConsoleStream


@dataclass
class ConsoleRefused(Message):
    stream: ConsoleStream
    refusal: Refusal
    message: str  # libvirt's own


@dataclass
class ConsoleOutput(Message):
    """The guest printed something (posted once until the screen takes it all)."""

    stream: ConsoleStream


@dataclass
class ConsoleEnded(Message):
    stream: ConsoleStream
    reason: str
