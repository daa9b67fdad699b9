"""Snapshot trees: read them, and create, revert and delete snapshots without risking data.

libvirt cannot do everything with external snapshots (disk overlays in separate files), and
what it cannot do safely is refused here, with the reason and what to do instead, before any
call is made.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import libvirt

from kvmtui.virt.session.uris import version_text

REVERT_EXTERNAL_SINCE = 9_009_000   # libvirt 9.9 reverts to external snapshots
DELETE_EXTERNAL_SINCE = 9_000_000   # libvirt 9.0 deletes (merges) external snapshots
# libvirt's QEMU driver saves a snapshot's metadata as '<name>.xml', written first as
# '<name>.xml.new' and renamed; a file name holds at most 255 bytes (NAME_MAX on Linux file
# systems), so 255 - len('.xml.new') = 247. A longer name fails only after QEMU has taken the
# snapshot, leaving it inside the qcow2 image where libvirt does not list it.
NAME_MAX_BYTES = 247


@dataclass(frozen=True, slots=True)
class SnapshotDisk:
    name: str
    how: str                         # internal / external / no / manual
    source: str | None = None        # the overlay file of an external snapshot


@dataclass(frozen=True, slots=True)
class Snapshot:
    name: str
    description: str
    parent: str | None
    created: int                     # seconds since the epoch
    state: str                       # the domain state it captured: running, shutoff, disk-snapshot…
    memory: str                      # internal / external / no
    memory_file: str | None
    disks: tuple[SnapshotDisk, ...]
    current: bool
    xml: str = field(repr=False, default="")

    @property
    def external(self) -> bool:
        return self.memory == "external" or any(d.how == "external" for d in self.disks)

    @property
    def with_memory(self) -> bool:
        return self.memory in ("internal", "external")

    @property
    def kind(self) -> str:
        return "external" if self.external else "internal"

    @property
    def captured(self) -> str:
        """What it holds, in a few words: 'running, with memory' or 'shut off, disks only'."""
        state = {"shutoff": "shut off", "disk-snapshot": "disks of a running VM"}.get(
            self.state, self.state)
        return f"{state}, with memory" if self.with_memory else f"{state}, disks only"


@dataclass(frozen=True, slots=True)
class SnapshotTree:
    snapshots: dict[str, Snapshot]
    children: dict[str | None, tuple[str, ...]]   # None: the roots
    read_at: float

    @property
    def current(self) -> str | None:
        return next((s.name for s in self.snapshots.values() if s.current), None)

    def roots(self) -> tuple[str, ...]:
        return self.children.get(None, ())

    def descendants(self, name: str) -> list[str]:
        found, stack = [], list(self.children.get(name, ()))
        while stack:
            child = stack.pop()
            found.append(child)
            stack.extend(self.children.get(child, ()))
        return found

    def path_to(self, name: str | None) -> list[str]:
        path = []
        while name is not None and name in self.snapshots:
            path.append(name)
            name = self.snapshots[name].parent
        return path[::-1]


def parse_snapshot(xml: str, current: bool) -> Snapshot:
    root = ET.fromstring(xml)
    memory = root.find("memory")
    disks = []
    for disk in root.findall("disks/disk"):
        source = disk.find("source")
        disks.append(SnapshotDisk(disk.get("name", "?"), disk.get("snapshot", "internal"),
                                  source.get("file") or source.get("dev") if source is not None else None))
    try:
        created = int(root.findtext("creationTime") or 0)
    except ValueError:
        created = 0
    state = (root.findtext("state") or "").strip()
    memory_how = memory.get("snapshot") if memory is not None else None
    if memory_how is None:  # older libvirt: running snapshots held memory internally
        memory_how = "internal" if state in ("running", "paused") else "no"
    return Snapshot(
        # names exactly as libvirt stores them: revert and delete look them up by these
        name=root.findtext("name") or "",
        description=(root.findtext("description") or "").strip(),
        parent=root.findtext("parent/name") or None,
        created=created, state=state, memory=memory_how,
        memory_file=memory.get("file") if memory is not None else None,
        disks=tuple(disks), current=current, xml=xml)


def read_tree(dom: libvirt.virDomain) -> SnapshotTree:
    """Every snapshot of the domain, with parents and children, as `virsh snapshot-list --tree`."""
    snapshots = {}
    for snap in dom.listAllSnapshots(0):
        try:
            parsed = parse_snapshot(snap.getXMLDesc(0), bool(snap.isCurrent(0)))
        except libvirt.libvirtError as err:
            # deleted between the list and this read (by a delete still under way, or another
            # client): it is not there any more, which is no error
            if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                continue
            raise
        snapshots[parsed.name] = parsed
    children: dict[str | None, list[str]] = {}
    for snap in sorted(snapshots.values(), key=lambda s: (s.created, s.name)):
        parent = snap.parent if snap.parent in snapshots else None
        children.setdefault(parent, []).append(snap.name)
    return SnapshotTree(snapshots, {k: tuple(v) for k, v in children.items()}, time.time())


# -- create ------------------------------------------------------------------------------

KIND_MEMORY = "memory"       # running VM: internal snapshot with memory (virsh's default)
KIND_DISK_ONLY = "disk-only"  # running VM: external disk-only snapshot, memory not kept
KIND_DISK = "disk"           # shut-off VM: internal snapshot of its disks


def default_name(now: float | None = None) -> str:
    return time.strftime("snap-%Y-%m-%d-%H%M%S", time.localtime(now))


# str.splitlines() breaks at these: a pasted name holding one is really several lines, and XML
# itself turns a carriage return into a newline, so libvirt would store another name.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
CONTROL_NAMES = {"\t": "tab", "\x1b": "escape", "\x00": "null", "\x7f": "delete",
                 "\x08": "backspace", "\x07": "bell"}


def unstorable(ch: str) -> bool:
    """Control characters, and what is not a character at all (half a surrogate pair, or a
    noncharacter XML cannot hold); format characters such as U+200D ZERO WIDTH JOINER, which
    emoji sequences are built with, are fine."""
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in ("\ufffe", "\uffff")


def validate_name(name: str, existing: set[str] | dict) -> str | None:
    """Why the name cannot be used, or None. Checked before anything is sent to libvirt, on the
    name exactly as it will be stored."""
    if not name.strip():
        return "a snapshot needs a name"
    if any(ch in LINE_BREAKS for ch in name):
        return "a snapshot name cannot contain a line break"
    bad = next((ch for ch in name if unstorable(ch)), None)
    if bad is not None:
        what = CONTROL_NAMES.get(bad, "control character" if unicodedata.category(bad) == "Cc"
                                 else "not a character")
        return f"a snapshot name cannot contain U+{ord(bad):04X} ({what})"
    if name != name.strip():
        # libvirt keeps them, but no list shows them, so the name typed later (virsh
        # snapshot-revert, snapshot-delete) misses with "snapshot not found"
        return "a snapshot name cannot start or end with a space"
    if "/" in name:
        return "a snapshot name cannot contain '/' (libvirt stores it as a file name)"
    if name.startswith("."):
        return "a snapshot name cannot start with '.'"
    size = len(name.encode())
    if size > NAME_MAX_BYTES:
        return (f"a snapshot name can be at most {NAME_MAX_BYTES} bytes long in UTF-8, this one "
                f"is {size} (libvirt saves it as a file named after it)")
    if name in existing:
        return f"there is already a snapshot named '{name}'"
    return None


def snapshot_xml(name: str, description: str) -> str:
    """The <domainsnapshot> to create; ElementTree escapes whatever the user typed."""
    root = ET.Element("domainsnapshot")
    ET.SubElement(root, "name").text = name
    if description:
        ET.SubElement(root, "description").text = description
    return ET.tostring(root, encoding="unicode")


def create_flags(kind: str, quiesce: bool) -> int:
    flags = 0
    if kind == KIND_DISK_ONLY:
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC
        if quiesce:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE
    return flags


def create(dom: libvirt.virDomain, name: str, description: str, kind: str,
           quiesce: bool = False) -> None:
    dom.snapshotCreateXML(snapshot_xml(name, description), create_flags(kind, quiesce))


# -- revert ------------------------------------------------------------------------------

AFTER_AS_TAKEN = "as taken"
AFTER_RUNNING = "running"
AFTER_PAUSED = "paused"


class Refused(Exception):
    """An operation kvmtui will not attempt: the message says why and what to do instead."""


def check_revert(tree: SnapshotTree, name: str, libvirt_version: int) -> None:
    snap = tree.snapshots[name]
    if snap.external and libvirt_version < REVERT_EXTERNAL_SINCE:
        raise Refused(
            f"'{name}' is an external snapshot, and this libvirt "
            f"({version_text(libvirt_version)}) cannot revert to external snapshots (9.9 and "
            "later can). Nothing was changed. To go back by hand: shut the VM down and point "
            "its disks at the files the snapshot recorded (virsh edit), keeping the overlays.")


def revert(dom: libvirt.virDomain, name: str, after: str) -> None:
    flags = {AFTER_RUNNING: libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING,
             AFTER_PAUSED: libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED}.get(after, 0)
    dom.revertToSnapshot(dom.snapshotLookupByName(name, 0), flags)


# -- delete ------------------------------------------------------------------------------

DELETE_THIS = "this"          # its children move up to its parent
DELETE_SUBTREE = "subtree"    # it and all its descendants
DELETE_METADATA = "metadata"  # forget it; disk data stays in the images


def check_delete(tree: SnapshotTree, name: str, mode: str, libvirt_version: int) -> None:
    if mode == DELETE_METADATA:
        return
    doomed = [name] + (tree.descendants(name) if mode == DELETE_SUBTREE else [])
    for victim in doomed:
        snap = tree.snapshots[victim]
        if not snap.external:
            continue
        kids = tree.children.get(victim, ())
        if kids and mode == DELETE_THIS:
            raise Refused(
                f"'{victim}' is an external snapshot with {len(kids)} child snapshot(s): "
                "deleting it would mean merging its overlay into theirs, which libvirt cannot do "
                "safely. Nothing was changed. Delete the children first, or choose 'metadata "
                "only' and merge the overlays yourself (virsh blockcommit).")
        if kids and mode == DELETE_SUBTREE and any(tree.snapshots[k].external for k in kids):
            raise Refused(
                f"the subtree holds external snapshots that depend on each other ('{victim}' "
                "and its children); libvirt cannot merge such chains safely. Nothing was "
                "changed. Delete the leaves one at a time, or choose 'metadata only'.")
        if libvirt_version < DELETE_EXTERNAL_SINCE:
            raise Refused(
                f"'{victim}' is an external snapshot and this libvirt "
                f"({version_text(libvirt_version)}) cannot delete external snapshots. Nothing "
                "was changed. Choose 'metadata only' and merge the overlay with virsh blockcommit.")


def delete(dom: libvirt.virDomain, name: str, mode: str) -> None:
    flags = {DELETE_SUBTREE: libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN,
             DELETE_METADATA: libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY}.get(mode, 0)
    dom.snapshotLookupByName(name, 0).delete(flags)



def libvirt_version(dom: libvirt.virDomain) -> int:
    try:
        return dom.connect().getLibVersion()
    except libvirt.libvirtError:
        return 0

