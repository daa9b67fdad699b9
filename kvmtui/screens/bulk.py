"""Marks and bulk actions on the list: mark VMs, then one key acts on all of them.

With marks, every power key and `n` apply to the marked VMs, not the cursor's: one question
lists them (and those skipped, with why), `y` goes, and the calls run off the UI thread, a few
at once. Each VM's row shows its action under way; one notification sums up how it ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from kvmtui.messages import BulkItemDone
from kvmtui.screens.power_desk import POWER_KEYS, PowerDesk
from kvmtui.services import services
from kvmtui.virt.domain.power import SPECS, PowerAction, perform
from kvmtui.virt.session.errors import libvirt_message

# The questions, the bulk plans and snapshots are imported where they are first used: the list
# is drawn at start-up without them.
if TYPE_CHECKING:
    from collections.abc import Callable

    from kvmtui.screens.snapshot_dialogs import CreateRequest
    from kvmtui.virt.domain.actionlog import ActionRecord
    from kvmtui.virt.domain.bulk import BulkPlan, BulkRun
    from kvmtui.virt.domain.marks import Marks
    from kvmtui.virt.models import DomainKey, DomainSummary

    # (VM, its name, the power action or None for a snapshot, the record, the libvirt call)
    Item = tuple[DomainKey, str, PowerAction | None, ActionRecord, Callable]


class BulkActions(PowerDesk):
    """The list's marks and what it does with them (DomainListScreen derives from this)."""

    marks: Marks

    def marks_changed(self) -> None:
        """Provided by the list: draw the marks, the header's count and the keys' meaning."""
        raise NotImplementedError

    # -- marks ------------------------------------------------------------------------------

    def action_mark(self) -> None:
        key = self.table.cursor_key
        if key is None:
            return
        self.marks.toggle(key)
        self.table.action_cursor(1)
        self.marks_changed()

    def action_mark_shown(self) -> None:
        shown = self.table.shown_keys()
        marked = self.marks.toggle_all(shown)
        self.marks_changed()
        if shown:
            self.notify(f"{'Marked' if marked else 'Unmarked'} the {len(shown)} VM"
                        f"{'' if len(shown) == 1 else 's'} shown", timeout=2)

    def action_clear_marks(self) -> None:
        count = self.marks.clear()
        self.marks_changed()
        self.notify(f"Unmarked {count} VM{'' if count == 1 else 's'}", timeout=2)

    def marked(self) -> list[DomainSummary]:
        return [self.domains[k] for k in self.marks if k in self.domains]

    def marked_subject(self) -> str:
        count = len(self.marks)
        return f"{count} marked VM{'' if count == 1 else 's'}"

    # -- which keys apply -------------------------------------------------------------------

    def bulk_applies(self, action: PowerAction, key_actions: list[PowerAction]) -> bool:
        from kvmtui.virt.domain.bulk import bulk_meaning

        """Whether this binding is what its key means for the marked VMs now."""
        if self.fleet.readonly:
            return False
        reachable = [s for s in self.marked() if not self.unreachable(s)]
        return bulk_meaning(key_actions, reachable) is action

    def explain_power_key(self, key: str, summary: DomainSummary | None = None) -> bool:
        actions = POWER_KEYS.get(key, [])
        if summary is None and self.marks and actions:  # on the list, with marks: for them
            if any(self.bulk_applies(a, actions) for a in actions):
                return False
            self.explain_bulk_key(actions)
            return True
        return super().explain_power_key(key, summary)

    def explain_bulk_key(self, key_actions: list[PowerAction]) -> None:
        """A power key that applies to none of the marked VMs: say so, in one line."""
        label = SPECS[key_actions[0]].label.lower()
        if self.fleet.readonly:
            self.notify(f"Read-only: kvmtui was started with --readonly, so it cannot {label} "
                        f"the marked VMs.", severity="warning")
            return
        self.notify(f"None of the {self.marked_subject()} can {label}: {label} is for "
                    f"{SPECS[key_actions[0]].applies_to}.", timeout=4)

    # -- asking -----------------------------------------------------------------------------

    def request_bulk_power(self, action: PowerAction) -> None:
        from kvmtui.screens.bulk_dialogs import BulkConfirmScreen
        from kvmtui.virt.domain.bulk import plan_power

        plan = plan_power(action, self.marked(), self.unreachable)
        if not plan.targets:
            return
        self.app.push_screen(BulkConfirmScreen(plan, self.fleet.multi_host),
                             lambda yes: self.start_bulk_power(plan) if yes else None)

    def request_bulk_snapshot(self) -> None:
        from kvmtui.screens.bulk_dialogs import BulkSnapshotScreen
        from kvmtui.virt.domain.bulk import plan_snapshot

        if self.fleet.readonly:
            self.notify("Read-only: kvmtui was started with --readonly, so snapshots cannot be "
                        "created.", severity="warning")
            return
        plan = plan_snapshot(self.marked(), self.unreachable)
        if not plan.targets:
            self.notify(f"None of the {self.marked_subject()} can be reached now.",
                        severity="warning")
            return
        self.app.push_screen(BulkSnapshotScreen(plan, self.fleet.multi_host),
                             lambda request: self.start_bulk_snapshot(plan, request)
                             if request else None)

    # -- acting -----------------------------------------------------------------------------

    def start_bulk_power(self, plan: BulkPlan) -> None:
        from kvmtui.virt.domain.bulk import BulkRun

        log = services(self.app).action_log
        run = BulkRun.of(plan)
        items: list[Item] = []
        for target in plan.targets:
            s, action = target.summary, target.action
            assert action is not None
            record = log.start(s.key, s.name, action.value, confirmed=True, detail="bulk")
            self.set_activity(s.key, SPECS[action].doing)
            items.append((s.key, s.name, action, record,
                          lambda dom, action=action: perform(dom, action)))
        self.run_bulk(run, items)

    def start_bulk_snapshot(self, plan: BulkPlan, request: CreateRequest) -> None:
        from kvmtui.virt.domain import snapshots as snaps
        from kvmtui.virt.domain.bulk import BulkRun, snapshot_kind_of

        log = services(self.app).action_log
        run = BulkRun.of(plan, request.name)
        items: list[Item] = []
        for target in plan.targets:
            s, kind = target.summary, snapshot_kind_of(target.summary)
            record = log.start(s.key, s.name, "snapshot-create", confirmed=True,
                               snapshot=request.name, detail="bulk")
            self.set_activity(s.key, f"creating snapshot '{request.name}'…")
            items.append((s.key, s.name, None, record,
                          lambda dom, kind=kind: snaps.create(dom, request.name,
                                                              request.description, kind)))
        self.run_bulk(run, items)

    # Not through reply(): the outcome is always reported and recorded, even when the user has
    # moved to another screen meanwhile.
    @work(thread=True, group="bulk")
    def run_bulk(self, run: BulkRun, items: list[Item]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from kvmtui.virt.domain.bulk import PARALLEL

        def one(item: Item) -> None:
            key, name, action, record, call = item
            try:
                call(self.fleet.domain(key))
            except Exception as err:  # noqa: BLE001 - shown to the user with libvirt's words
                error: str | None = libvirt_message(err)
            else:
                error = None
            self.post_message(BulkItemDone(run, key, name, action, error, record))

        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(items)),
                                thread_name_prefix="kvmtui-bulk") as pool:
            list(pool.map(one, items))

    def on_bulk_item_done(self, message: BulkItemDone) -> None:
        from kvmtui.screens.bulk_dialogs import vm_word

        run = message.run
        services(self.app).action_log.finish(message.record, message.error)
        run.finished(message.action, message.name, message.error)
        if message.error is None and message.action is PowerAction.SHUTDOWN:
            self.watch_shutdown(message.key, message.name)
        else:
            self.set_activity(message.key, None)
        if run.complete:
            title = f"{run.plan.verb} {vm_word(len(run.plan.targets))}"
            if run.failures:
                self.notify(run.summary(), title=title, severity="error", timeout=15)
            else:
                self.notify(run.summary(), title=title, timeout=5)
