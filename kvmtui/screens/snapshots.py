"""`t` on a VM: its snapshot tree — browse, create, revert and delete, safely."""

from __future__ import annotations

import time
from xml.etree import ElementTree as ET

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree
from textual.widgets.tree import TreeNode

from kvmtui.messages import FleetChanged, SnapshotDone, SnapshotsRead
from kvmtui.screens.snapshot_dialogs import CreateRequest, CreateSnapshotScreen, DeleteScreen, RevertScreen
from kvmtui.virt import snapshots as snaps
from kvmtui.virt.errors import libvirt_message
from kvmtui.virt.fleet import Fleet
from kvmtui.virt.models import DomainEvent, DomainKey, DomainSummary, DomainUpdated


def _when(created: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(created)) if created else "?"


def node_label(snap: snaps.Snapshot) -> Text:
    label = Text()
    label.append(snap.name, style="bold reverse" if snap.current else "bold")
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
    out.append(f"{snap.name}", style="bold")
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


class SnapshotScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("n", "create", "New"),
        Binding("v", "revert", "Revert"),
        Binding("delete,D", "delete", "Delete"),
        Binding("r", "reread", "Re-read"),
        Binding("X", "toggle_xml", "XML"),
    ]

    DEFAULT_CSS = """
    SnapshotScreen #title { height: 2; padding: 0 1; background: $panel;
        text-wrap: nowrap; text-overflow: ellipsis; }
    SnapshotScreen Tree { height: 1fr; }
    SnapshotScreen #facts-box { height: 8; border-top: solid $primary; padding: 0 1; }
    SnapshotScreen #facts-box.-xml { height: 1fr; }
    """

    clock = staticmethod(time.time)  # tests fix it, so "read at" does not move

    def __init__(self, fleet: Fleet, summary: DomainSummary) -> None:
        super().__init__()
        self.fleet = fleet
        self.key: DomainKey = summary.key
        self.summary = summary
        self.snap_tree: snaps.SnapshotTree | None = None
        self.agent = False
        self.version = 0
        self.read_at: float | None = None
        self.create_when_read = False  # `n` on the list: the tree, then the new-snapshot dialog

    def compose(self) -> ComposeResult:
        yield Static(f"{self.summary.name} · reading snapshots…", id="title", markup=False)
        tree: Tree[str] = Tree("snapshots", id="tree")
        tree.show_root = False
        tree.guide_depth = 3
        yield tree
        with VerticalScroll(id="facts-box"):
            yield Static("", id="facts", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(Tree).focus()
        self.reread()

    def on_screen_resume(self) -> None:
        # Another client may have created or deleted snapshots: libvirt sends no event for it.
        if self.snap_tree is not None:
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
            self.post_message(SnapshotDone(self.key, "read the snapshots of", libvirt_message(err)))
            return
        self.post_message(SnapshotsRead(self.key, tree, agent, version))

    def on_snapshots_read(self, message: SnapshotsRead) -> None:
        if message.key != self.key:
            return
        widget = self.query_one(Tree)
        keep = widget.cursor_node.data if widget.cursor_node is not None else None
        self.snap_tree, self.agent, self.version = message.tree, message.agent, message.libvirt_version
        self.read_at = self.clock()
        tree = self.snap_tree
        expanded_before = {n.data for n in self._all_nodes() if n.is_expanded}
        widget.clear()
        nodes: dict[str, TreeNode] = {}
        on_path = set(tree.path_to(tree.current))

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
        self._update_title()
        self._show_facts()
        if self.create_when_read:
            self.create_when_read = False
            self.action_create()

    def _put_cursor(self, node: TreeNode) -> None:
        self.query_one(Tree).move_cursor(node)
        self._show_facts()

    def _all_nodes(self) -> list[TreeNode]:
        found, stack = [], list(self.query_one(Tree).root.children)
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(node.children)
        return found

    def _update_title(self) -> None:
        tree = self.snap_tree
        count = len(tree.snapshots) if tree else 0
        current = tree.current if tree else None
        read = time.strftime("%H:%M:%S", time.localtime(self.read_at)) if self.read_at else "-"
        first = f"{self.summary.name} · {self.summary.state.word} · {count} snapshot" \
                f"{'' if count == 1 else 's'} · current: {current or 'none'}"
        second = f"read {read} (r re-reads; libvirt sends no event when others add or delete)"
        self.query_one("#title", Static).update(f"{first}\n{second}")

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
        # enter on a node reverts (it also toggles a branch open or closed, as trees do)
        event.stop()
        if event.node.data:
            self.action_revert()

    # -- actions ----------------------------------------------------------------------------

    def _refuse_if_readonly(self) -> bool:
        if self.fleet.readonly:
            self.notify("Read-only: kvmtui was started with --readonly, so snapshots cannot be "
                        "changed.", severity="warning")
        return self.fleet.readonly

    def action_create(self) -> None:
        if self._refuse_if_readonly() or self.snap_tree is None:
            return
        running = self.summary.active
        self.app.push_screen(
            CreateSnapshotScreen(self.summary.name, running, self.agent, set(self.snap_tree.snapshots)),
            self._create)

    def _create(self, request: CreateRequest | None) -> None:
        if request is not None:
            self.run_op("create", lambda dom: snaps.create(dom, request.name, request.description,
                                                           request.kind, request.quiesce),
                        f"created snapshot '{request.name}'")

    def action_revert(self) -> None:
        name = self.selected
        if name is None or self._refuse_if_readonly() or self.snap_tree is None:
            return
        try:
            snaps.check_revert(self.snap_tree, name, self.version)
        except snaps.Refused as refusal:
            self.notify(str(refusal), title="Not reverted", severity="error", timeout=15)
            return
        self.app.push_screen(
            RevertScreen(self.summary.name, self.snap_tree.snapshots[name]),
            lambda after: after and self.run_op(
                "revert", lambda dom: snaps.revert(dom, name, after),
                f"reverted to '{name}'"))

    def action_delete(self) -> None:
        name = self.selected
        if name is None or self._refuse_if_readonly() or self.snap_tree is None:
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
            self.run_op("delete", lambda dom: snaps.delete(dom, name, mode),
                        f"deleted '{name}'" + (" and its descendants" if mode == snaps.DELETE_SUBTREE
                                               else " (metadata only)" if mode == snaps.DELETE_METADATA
                                               else ""))

        self.app.push_screen(dialog, chosen)

    @work(thread=True, group="snapshots-op")
    def run_op(self, what: str, operation, done: str) -> None:
        try:
            operation(self.fleet.domain(self.key))
        except Exception as err:  # noqa: BLE001 - libvirt's words go to the user
            self.post_message(SnapshotDone(self.key, what, libvirt_message(err)))
            return
        self.post_message(SnapshotDone(self.key, done, None))

    def on_snapshot_done(self, message: SnapshotDone) -> None:
        if message.error:
            self.notify(message.error, title=f"Could not {message.what} {self.summary.name}",
                        severity="error", timeout=10)
        else:
            self.notify(f"{self.summary.name}: {message.what}", timeout=4)
        self.reread()

    def action_reread(self) -> None:
        self.reread()

    def action_back(self) -> None:
        self.app.pop_screen()

    # -- staying live -----------------------------------------------------------------------

    def apply_change(self, message: FleetChanged) -> None:
        change = message.change
        if isinstance(change, DomainUpdated) and change.summary.key == self.key:
            self.summary = change.summary
            self._update_title()
        elif isinstance(change, DomainEvent) and change.key == self.key and "snapshot" in change.detail:
            self.reread()  # a revert by another client: the current snapshot moved
