"""`t` on a VM: its snapshot tree — browse, create, revert and delete, safely."""

from __future__ import annotations

import time
from xml.etree import ElementTree as ET

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from kvmtui.keys import SNAPSHOT_BINDINGS, TREE_WIDGET_BINDINGS
from kvmtui.messages import SnapshotDone, SnapshotsRead, SnapshotsReadFailed
from kvmtui.screens.replies import reply
from kvmtui.screens.snapshot_dialogs import (
    CreateRequest,
    CreateSnapshotScreen,
    DeleteScreen,
    RevertScreen,
    shown_as_typed,
)
from kvmtui.screens.vm_screen import VmScreen
from kvmtui.services import services
from kvmtui.virt.domain import snapshots as snaps
from kvmtui.virt.domain.actionlog import ActionRecord
from kvmtui.virt.models import DomainEvent, DomainSummary
from kvmtui.virt.session.errors import is_no_domain, libvirt_message
from kvmtui.virt.session.fleet import Fleet
from kvmtui.widgets.key_footer import KeyFooter


def _when(created: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(created)) if created else "?"


def visible_name(name: str) -> str:
    """The name as it is stored: control characters drawn as symbols, and quoted when spaces at
    either end would otherwise be invisible (made by virsh; kvmtui refuses such names)."""
    shown = shown_as_typed(name)
    return f"'{shown}'" if shown != shown.strip() else shown


def node_label(snap: snaps.Snapshot) -> Text:
    label = Text()
    label.append(visible_name(snap.name), style="bold reverse" if snap.current else "bold")
    if snap.current:
        label.append(" ◀ current", style="bold")
    label.append(f"  {_when(snap.created)}", style="dim")
    label.append(f"  {snap.captured}")
    if snap.external:
        label.append("  external", style="italic")
    return label


def snapshot_facts(tree: snaps.SnapshotTree, name: str) -> Text:
    snap = tree.snapshots[name]
    out = Text()
    out.append(visible_name(snap.name), style="bold")
    out.append(f"  {snap.kind}, {snap.captured}, taken {_when(snap.created)}\n")
    if snap.description:
        out.append(f"{snap.description}\n", style="italic")
    out.append(f"parent: {snap.parent or '(none: a root)'} · children: "
               f"{len(tree.children.get(name, ()))} · descendants: {len(tree.descendants(name))}\n")
    disks = ", ".join(f"{d.name} {d.how}" + (f" → {d.source}" if d.source else "")
                      for d in snap.disks) or "(none recorded)"
    out.append(f"disks: {disks}\n")
    memory = {"internal": "in the disk image (internal)", "no": "not saved"}.get(
        snap.memory, f"in {snap.memory_file}" if snap.memory_file else snap.memory)
    out.append(f"memory: {memory}")
    return out


class SnapshotTreeWidget(Tree):
    """Textual's Tree, with its open/close key in the footer: branches must never hide unseen."""

    BINDINGS = [*TREE_WIDGET_BINDINGS]


def done_text(record: ActionRecord) -> str:
    """What a finished snapshot operation did, naming the snapshot."""
    name = record.snapshot
    if record.action == "snapshot-create":
        return f"created snapshot '{name}'"
    if record.action == "snapshot-revert":
        after = {snaps.AFTER_RUNNING: ", now running", snaps.AFTER_PAUSED: ", now paused"}
        return f"reverted to snapshot '{name}'{after.get(record.detail, '')}"
    return {snaps.DELETE_SUBTREE: f"deleted snapshot '{name}' and all below it",
            snaps.DELETE_METADATA: f"deleted snapshot '{name}' from libvirt's list (metadata "
                                   "only: its data stays in the disk images)",
            }.get(record.detail, f"deleted snapshot '{name}'")


class SnapshotScreen(VmScreen):
    BINDINGS = [*SNAPSHOT_BINDINGS]
    kind = "snapshots"
    # the keys that change snapshots: hidden, and explained when pressed, on a read-only link
    CHANGES = {"create", "revert", "delete"}

    DEFAULT_CSS = """
    SnapshotScreen #title { height: 2; padding: 0 1; background: $panel;
        text-wrap: nowrap; text-overflow: ellipsis; }
    SnapshotScreen Tree { height: 1fr; }
    SnapshotScreen #facts-box { height: 8; border-top: solid $primary; padding: 0 1; }
    SnapshotScreen #facts-box.-xml { height: 1fr; }
    """

    clock = staticmethod(time.time)  # tests fix it, so "read at" does not move

    def __init__(self, fleet: Fleet, summary: DomainSummary) -> None:
        super().__init__(fleet, summary)
        self.snap_tree: snaps.SnapshotTree | None = None
        self.agent = False
        self.version = 0
        self.read_at: float | None = None
        self.create_when_read = False  # `n` on the list: the tree, then the new-snapshot dialog
        self.busy: str | None = None   # the operation in flight ("reverting to 's1'…")

    def compose(self) -> ComposeResult:
        yield Static(f"{self.summary.name} · reading snapshots…", id="title", markup=False)
        tree: Tree[str] = SnapshotTreeWidget("snapshots", id="tree")
        tree.show_root = False
        tree.guide_depth = 3
        yield tree
        with VerticalScroll(id="facts-box"):
            yield Static("", id="facts", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(Tree).focus()
        self.reread()

    def on_screen_resume(self) -> None:
        # Another client may have created or deleted snapshots while another screen was on top:
        # libvirt sends no event for it. Not while our own operation runs: a read racing a
        # delete sees snapshots vanish between the list and their XML.
        if self.snap_tree is not None and self.busy is None and not self.gone:
            self.reread()

    # -- reading ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="snapshots-read")
    def reread(self) -> None:
        try:
            dom = self.fleet.domain(self.key)
            tree = snaps.read_tree(dom)
            root = ET.fromstring(dom.XMLDesc(0))
            agent = any(t.get("name") == "org.qemu.guest_agent.0" and t.get("state") == "connected"
                        for t in root.iter("target"))
            version = self.version or snaps.libvirt_version(dom)  # it cannot change under us
        except Exception as err:  # noqa: BLE001
            reply(self, SnapshotsReadFailed(self.key, libvirt_message(err),
                                                  is_no_domain(err)))
            return
        reply(self, SnapshotsRead(self.key, tree, agent, version))

    def on_snapshots_read_failed(self, message: SnapshotsReadFailed) -> None:
        # Never another read from here: a read that fails again would loop.
        if message.key != self.key:
            return
        if message.vm_gone:
            self._vm_gone()
            return
        self.notify(message.error, title=f"Could not read the snapshots of {self.summary.name}",
                    severity="error", timeout=10)

    def on_snapshots_read(self, message: SnapshotsRead) -> None:
        if message.key != self.key or not self.alive:
            return  # a read that ended after the user left (t escape in one burst)
        widget = self.query_one(Tree)
        keep = widget.cursor_node.data if widget.cursor_node is not None else None
        self.snap_tree, self.agent, self.version = message.tree, message.agent, message.libvirt_version
        self.read_at = self.clock()
        tree = self.snap_tree
        first_read = not widget.root.children
        expanded_before = {n.data for n in self._all_nodes() if n.is_expanded}
        widget.clear()
        nodes: dict[str, TreeNode] = {}
        on_path = set(tree.path_to(tree.current))
        # A tree that fits the screen is shown whole; a larger one opens the path to the
        # current snapshot (and whatever the user had opened).
        if first_read and len(tree.snapshots) <= max(widget.size.height, 1):
            on_path = set(tree.snapshots)

        # Iterative, not recursive: a chain of thousands of snapshots must not hit Python's
        # recursion limit.
        stack = [(widget.root, name) for name in reversed(tree.roots())]
        while stack:
            parent, name = stack.pop()
            kids = tree.children.get(name, ())
            node = parent.add(node_label(tree.snapshots[name]), data=name, allow_expand=bool(kids))
            nodes[name] = node
            if kids and (name in on_path or name in expanded_before):
                node.expand()
            stack.extend((node, kid) for kid in reversed(kids))
        widget.root.expand()
        target = keep if keep in nodes else tree.current
        if target in nodes:
            for name in tree.path_to(target)[:-1]:
                nodes[name].expand()
            # the tree lays out its new lines on the next refresh: move the cursor after it
            self.call_after_refresh(self._put_cursor, nodes[target])
        self.update_title()
        self._show_facts()
        if self.create_when_read:
            self.create_when_read = False
            if self.is_current:  # not when the user already went back (n escape in one burst)
                self.action_create(from_list=True)

    def _put_cursor(self, node: TreeNode) -> None:
        if not self.alive:
            return
        self.query_one(Tree).move_cursor(node)
        self._show_facts()

    def _all_nodes(self) -> list[TreeNode]:
        found, stack = [], list(self.query_one(Tree).root.children)
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(node.children)
        return found

    def title_text(self) -> str:
        tree = self.snap_tree
        count = len(tree.snapshots) if tree else 0
        current = tree.current if tree else None
        read = time.strftime("%H:%M:%S", time.localtime(self.read_at)) if self.read_at else "-"
        first = f"{self.summary.name} · {self.summary.state.word} · {count} snapshot" \
                f"{'' if count == 1 else 's'} · current: {current or 'none'}"
        second = f"read {read} (ctrl+r re-reads; libvirt sends no event when others add or delete)"
        if self.busy:
            second = f"{self.busy} (the tree is read again when libvirt answers)"
        return f"{first}\n{second}"

    # -- the selected node ------------------------------------------------------------------

    @property
    def selected(self) -> str | None:
        node = self.query_one(Tree).cursor_node
        name = node.data if node is not None and node.data else None
        if self.snap_tree is None or name not in self.snap_tree.snapshots:
            return None
        return name

    def on_tree_node_highlighted(self) -> None:
        self._show_facts()

    def _show_facts(self) -> None:
        box = self.query_one("#facts-box")
        facts = self.query_one("#facts", Static)
        name = self.selected
        if self.snap_tree is None or not self.snap_tree.snapshots:
            facts.update("No snapshots yet: n creates one.")
            return
        if name is None or name not in self.snap_tree.snapshots:
            facts.update("")  # the tree is being rebuilt
        elif box.has_class("-xml"):
            facts.update(self.snap_tree.snapshots[name].xml)
        else:
            facts.update(snapshot_facts(self.snap_tree, name))

    def action_toggle_xml(self) -> None:
        self.query_one("#facts-box").toggle_class("-xml")
        self._show_facts()

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        # enter opens or closes a branch, as trees do (Tree itself toggles it); it never
        # reverts: that is `v`, and it asks first.
        event.stop()

    def action_expand_all(self, expand: bool) -> None:
        for node in self._all_nodes():
            if node.allow_expand:
                node.expand() if expand else node.collapse()

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.CHANGES and self.fleet.is_readonly(self.key.uri):
            return False  # not offered; pressing the key says why (on_key)
        return super().check_action(action, parameters)

    def on_key(self, event: events.Key) -> None:
        if self.fleet.is_readonly(self.key.uri) and any(b.action in self.CHANGES
                                       for b in self._bindings.key_to_bindings.get(event.key, ())):
            event.stop()
            self._refuse_if_readonly()
        elif event.key == "escape" and self.query_one("#facts-box").has_class("-xml"):
            event.stop()  # escape closes the XML pane first, then the screen
            self.action_toggle_xml()

    def _refuse_if_readonly(self) -> bool:
        return self.refuse_if_readonly("snapshots cannot be changed")

    def _refuse_if_busy(self) -> bool:
        if self.busy:
            self.notify(f"Wait: {self.summary.name} is {self.busy}", timeout=3)
        return self.busy is not None

    def action_create(self, from_list: bool = False) -> None:
        if self._refuse_if_readonly() or self._refuse_if_busy() or self.snap_tree is None:
            return
        running = self.summary.active
        self.app.push_screen(
            CreateSnapshotScreen(self.summary.name, running, self.agent, set(self.snap_tree.snapshots)),
            lambda request: self._create(request, from_list))

    def _create(self, request: CreateRequest | None, from_list: bool) -> None:
        if request is None:
            if from_list and self.is_current:
                self.app.pop_screen()  # `n` on the list, then escape: back where the user was
            return
        self.run_op("snapshot-create", request.name, "",
                    lambda dom: snaps.create(dom, request.name, request.description,
                                             request.kind, request.quiesce),
                    f"creating snapshot '{request.name}'…", confirmed=True)

    def action_revert(self) -> None:
        name = self.selected
        if (name is None or self._refuse_if_readonly() or self._refuse_if_busy()
                or self.snap_tree is None):
            return
        try:
            snaps.check_revert(self.snap_tree, name, self.version)
        except snaps.Refused as refusal:
            self.notify(str(refusal), title="Not reverted", severity="error", timeout=15)
            return
        self.app.push_screen(
            RevertScreen(self.summary.name, self.snap_tree.snapshots[name]),
            lambda after: self.run_op(
                "snapshot-revert", name, after, lambda dom: snaps.revert(dom, name, after),
                f"reverting to '{name}'…", confirmed=True) if after else None)

    def action_delete(self) -> None:
        name = self.selected
        if (name is None or self._refuse_if_readonly() or self._refuse_if_busy()
                or self.snap_tree is None):
            return
        tree = self.snap_tree
        dialog = DeleteScreen(self.summary.name, tree.snapshots[name],
                              len(tree.children.get(name, ())), len(tree.descendants(name)))

        def chosen(mode: str | None) -> None:
            if not mode:
                return
            try:
                snaps.check_delete(tree, name, mode, self.version)
            except snaps.Refused as refusal:
                self.notify(str(refusal), title="Not deleted", severity="error", timeout=15)
                return
            self.run_op("snapshot-delete", name, mode, lambda dom: snaps.delete(dom, name, mode),
                        f"deleting snapshot '{name}'…", confirmed=True)

        self.app.push_screen(dialog, chosen)

    def run_op(self, action: str, snapshot: str, detail: str, operation, doing: str, *,
               confirmed: bool) -> None:
        """Record the operation, show it is under way, and run it off the UI thread."""
        record = services(self.app).action_log.start(self.key, self.summary.name, action,
                                           confirmed=confirmed, snapshot=snapshot, detail=detail)
        self._set_busy(doing)
        self._run_op(operation, record)

    @work(thread=True, group="snapshots-op")
    def _run_op(self, operation, record: ActionRecord) -> None:
        try:
            operation(self.fleet.domain(self.key))
        except Exception as err:  # noqa: BLE001 - libvirt's words go to the user
            self.post_message(SnapshotDone(self.key, record.action, libvirt_message(err), record))
            return
        self.post_message(SnapshotDone(self.key, record.action, None, record))

    def on_snapshot_done(self, message: SnapshotDone) -> None:
        record = message.record
        if record is None or message.key != self.key:
            return
        services(self.app).action_log.finish(record, message.error)
        self._set_busy(None)
        vm, name = self.summary.name, record.snapshot
        if message.error:
            verb = {"snapshot-create": "create", "snapshot-revert": "revert to",
                    "snapshot-delete": "delete"}[record.action]
            self.notify(message.error, title=f"Could not {verb} snapshot '{name}' of {vm}",
                        severity="error", timeout=10)
        else:
            self.notify(f"{vm}: {done_text(record)}", timeout=5)
        self.reread()  # what libvirt has now, whichever way it ended

    def _set_busy(self, doing: str | None) -> None:
        self.busy = doing
        self.update_title()
        services(self.app).set_activity(self.key, doing)

    def action_reread(self) -> None:
        self.reread()

    def _vm_gone(self) -> None:
        """A read found the VM gone: said once (whichever comes first, this or the event)."""
        if not self.gone:
            self.gone = True
            self.vm_removed(self.summary.name)

    # -- staying live -----------------------------------------------------------------------

    def vm_event(self, change: DomainEvent) -> None:
        if "snapshot" in change.detail:
            self.reread()  # a revert by another client: the current snapshot moved
