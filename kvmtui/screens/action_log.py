"""`L`: the action log — what kvmtui asked libvirt to do and what libvirt reported, newest first."""

from __future__ import annotations

from textual.screen import Screen

from kvmtui.virt.domain.actionlog import ActionLog


class ActionLogScreen(Screen):
    def __init__(self, log: ActionLog) -> None:
        super().__init__()
        self.action_log = log
