"""One action on many VMs: which of the marked VMs it applies to (the rest are skipped, each
with why), and the one-line summary of how it ended ("5 paused, 1 failed: db1: <libvirt's
message>")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kvmtui.virt.domain.power import SPECS, PowerAction, available
from kvmtui.virt.domain.snapshots import KIND_DISK, KIND_MEMORY
from kvmtui.virt.models import DomainKey, DomainState, DomainSummary

# How many libvirt calls of one bulk action run at once: enough that six shutdowns do not
# wait for each other, few enough not to flood a remote host's daemon with a thousand jobs.
PARALLEL = 4

# A key that means "bring it up" picks, for each VM, whichever of these fits its state.
_BRING_UP = (PowerAction.START, PowerAction.RESTORE, PowerAction.WAKEUP)
SNAPSHOT = "snapshot-create"


@dataclass(frozen=True)
class Target:
    summary: DomainSummary
    action: PowerAction | None  # None for a snapshot


@dataclass(frozen=True)
class BulkPlan:
    verb: str                          # "Pause", "Force off", "New snapshot of"
    targets: list[Target]
    skipped: list[tuple[DomainSummary, str]]  # (VM, why the action makes no sense for it)
    destructive: bool = False
    risk: str = ""

    @property
    def keys(self) -> list[DomainKey]:
        return [t.summary.key for t in self.targets]


def _sorted(summaries: Iterable[DomainSummary]) -> list[DomainSummary]:
    return sorted(summaries, key=lambda s: (s.name.lower(), s.host, s.key))


def bulk_meaning(key_actions: list[PowerAction], marked: Iterable[DomainSummary]) -> PowerAction | None:
    """What a power key means for the marked VMs, or None when it applies to none of them.

    `s` is start, restore or wake up, each VM as its state allows (one meaning: bring it up);
    `p` pauses when any marked VM runs, else resumes: never both in one question."""
    marked = list(marked)
    if any(a in _BRING_UP for a in key_actions):
        return PowerAction.START if any(available(s) & set(_BRING_UP) for s in marked) else None
    for action in key_actions:
        if any(action in available(s) for s in marked):
            return action
    return None


def _action_for(summary: DomainSummary, action: PowerAction) -> PowerAction | None:
    can = available(summary)
    if action is PowerAction.START:
        return next((a for a in _BRING_UP if a in can), None)
    return action if action in can else None


def _why_skipped(summary: DomainSummary, action: PowerAction) -> str:
    spec = SPECS[action]
    return f"{summary.state_text}: {spec.label.lower()} is for {spec.applies_to}"


def plan_power(action: PowerAction, marked: Iterable[DomainSummary],
               unreachable: Callable[[DomainSummary], str | None]) -> BulkPlan:
    """The marked VMs split into those the action applies to and those skipped with why;
    `unreachable` says why a VM's host cannot be asked anything now (or None)."""
    targets: list[Target] = []
    skipped: list[tuple[DomainSummary, str]] = []
    for summary in _sorted(marked):
        reason = unreachable(summary)
        fitting = None if reason else _action_for(summary, action)
        if fitting is not None:
            targets.append(Target(summary, fitting))
        else:
            skipped.append((summary, reason or _why_skipped(summary, action)))
    spec = SPECS[action]
    return BulkPlan(spec.label, targets, skipped, destructive=spec.confirm, risk=spec.risk)


def plan_snapshot(marked: Iterable[DomainSummary],
                  unreachable: Callable[[DomainSummary], str | None]) -> BulkPlan:
    targets: list[Target] = []
    skipped: list[tuple[DomainSummary, str]] = []
    for summary in _sorted(marked):
        reason = unreachable(summary)
        if reason:
            skipped.append((summary, reason))
        else:
            targets.append(Target(summary, None))
    return BulkPlan("New snapshot of", targets, skipped)


def snapshot_kind_of(summary: DomainSummary) -> str:
    """As `virsh snapshot-create-as` without flags: memory too when it runs, else its disks."""
    return KIND_MEMORY if summary.state is not DomainState.SHUTOFF else KIND_DISK


@dataclass
class BulkRun:
    """How a bulk action is going: filled in as each VM's call returns (UI thread only)."""

    plan: BulkPlan
    done_words: dict[PowerAction | None, str]
    succeeded: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (VM, libvirt's message)

    @classmethod
    def of(cls, plan: BulkPlan, snapshot_name: str = "") -> BulkRun:
        words: dict[PowerAction | None, str] = {a: SPECS[a].done for a in PowerAction}
        words[None] = f"snapshotted as '{snapshot_name}'"
        return cls(plan, words)

    def finished(self, action: PowerAction | None, vm: str, error: str | None) -> None:
        if error is None:
            self.succeeded[action] += 1
        else:
            self.failures.append((vm, error))

    @property
    def complete(self) -> bool:
        return sum(self.succeeded.values()) + len(self.failures) >= len(self.plan.targets)

    def summary(self) -> str:
        parts = [f"{n} {self.done_words[a]}" for a, n in self.succeeded.items()]
        if self.failures:
            parts.append(f"{len(self.failures)} failed")
        text = ", ".join(parts) or "nothing done"
        if self.plan.skipped:
            text += f" ({len(self.plan.skipped)} skipped)"
        if self.failures:
            text += ": " + "; ".join(f"{vm}: {error}" for vm, error in self.failures)
        return text
