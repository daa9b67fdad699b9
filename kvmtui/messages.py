"""Typed messages shared by the app, screens and widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from kvmtui.virt.domain.actionlog import ActionRecord
from kvmtui.virt.domain.details import DomainDetails
from kvmtui.virt.domain.livefacts import LiveFacts
from kvmtui.virt.domain.power import PowerAction
from kvmtui.virt.domain.snapshots import SnapshotTree
from kvmtui.virt.models import Change, DomainKey, StatsTick


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
