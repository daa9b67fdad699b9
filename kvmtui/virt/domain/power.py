"""Power actions: which make sense in which state, what they risk, and the libvirt call for each."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import libvirt

from kvmtui.virt.models import DomainState, DomainSummary


class PowerAction(enum.Enum):
    START = "start"
    RESTORE = "restore"
    WAKEUP = "wakeup"
    SHUTDOWN = "shutdown"
    REBOOT = "reboot"
    PAUSE = "pause"
    RESUME = "resume"
    FORCE_OFF = "force_off"
    RESET = "reset"
    MANAGED_SAVE = "managed_save"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    label: str          # shown in the footer and help
    done: str           # shown after success: "win10 started"
    confirm: bool       # destructive: ask first, naming the VM
    risk: str = ""      # what a confirmation says will be lost
    doing: str = ""     # shown on the VM's row while libvirt works on it
    applies_to: str = ""  # the state it is for, said when the key is pressed in another


SPECS: dict[PowerAction, ActionSpec] = {
    PowerAction.START: ActionSpec("Start", "started", False, doing="starting…",
                                     applies_to="a shut-off VM"),
    PowerAction.RESTORE: ActionSpec("Restore", "restored from its saved state", False,
                                       doing="restoring…", applies_to="a saved VM"),
    PowerAction.WAKEUP: ActionSpec("Wake up", "woken up", False, doing="waking up…",
                                      applies_to="a suspended VM"),
    PowerAction.SHUTDOWN: ActionSpec("Shutdown", "asked to shut down", False,
                                        doing="shutting down…", applies_to="a running VM"),
    PowerAction.REBOOT: ActionSpec("Reboot", "asked to reboot", False, doing="rebooting…",
                                      applies_to="a running VM"),
    PowerAction.PAUSE: ActionSpec("Pause", "paused", False, doing="pausing…",
                                     applies_to="a running VM"),
    PowerAction.RESUME: ActionSpec("Resume", "resumed", False, doing="resuming…",
                                      applies_to="a paused VM"),
    PowerAction.FORCE_OFF: ActionSpec(
        "Force off", "forced off", True,
        "It is cut off at once, like pulling the power cord: anything not yet written to its "
        "disks is lost, and its file systems may need repair.",
        doing="forcing off…", applies_to="a VM that is on"),
    PowerAction.RESET: ActionSpec(
        "Reset", "reset", True,
        "It restarts at once, like pressing the reset button: the guest is not asked first and "
        "unsaved work in it is lost.", doing="resetting…", applies_to="a running VM"),
    PowerAction.MANAGED_SAVE: ActionSpec(
        "Save", "saved and stopped", True,
        "Its memory is written to disk and it stops; 'start' restores it where it was. Until "
        "then its memory image uses host disk space.", doing="saving…",
        applies_to="a running or paused VM"),
}

_RUNNING_LIKE = {DomainState.RUNNING, DomainState.BLOCKED, DomainState.NOSTATE}


def available(summary: DomainSummary) -> set[PowerAction]:
    """The actions that make sense for the domain in its current state."""
    state = summary.state
    if state is DomainState.SHUTOFF:
        return {PowerAction.RESTORE if summary.managed_save else PowerAction.START}
    if state in _RUNNING_LIKE:
        return {PowerAction.SHUTDOWN, PowerAction.REBOOT, PowerAction.PAUSE,
                PowerAction.FORCE_OFF, PowerAction.RESET, PowerAction.MANAGED_SAVE}
    if state is DomainState.PAUSED:
        return {PowerAction.RESUME, PowerAction.FORCE_OFF, PowerAction.MANAGED_SAVE}
    if state is DomainState.PMSUSPENDED:
        return {PowerAction.WAKEUP, PowerAction.FORCE_OFF}
    # in shutdown, crashed: only pulling the plug makes sense
    return {PowerAction.FORCE_OFF}


def why_not(summary: DomainSummary, actions: list[PowerAction]) -> str:
    """One line saying why a power key does nothing for this VM in its state."""
    spec = SPECS[actions[0]]
    state = summary.state.word
    if summary.state is DomainState.SHUTOFF and summary.managed_save:
        state = "shut off (saved)"
    return f"{summary.name} is {state}: {spec.label.lower()} is for {spec.applies_to}."


def perform(dom: libvirt.virDomain, action: PowerAction) -> None:
    """Run the action's libvirt call; raises libvirt.libvirtError with libvirt's message."""
    if action in (PowerAction.START, PowerAction.RESTORE):
        dom.create()  # restores the managed-save image when there is one, as virsh start does
    elif action is PowerAction.WAKEUP:
        dom.pMWakeup(0)
    elif action is PowerAction.SHUTDOWN:
        dom.shutdown()
    elif action is PowerAction.REBOOT:
        dom.reboot(0)
    elif action is PowerAction.PAUSE:
        dom.suspend()
    elif action is PowerAction.RESUME:
        dom.resume()
    elif action is PowerAction.FORCE_OFF:
        dom.destroy()
    elif action is PowerAction.RESET:
        dom.reset(0)
    elif action is PowerAction.MANAGED_SAVE:
        dom.managedSave(0)
    else:  # pragma: no cover - the enum is closed
        raise ValueError(action)
