"""What each tab of the details screen shows: rich renderables built from the parsed models.

Pure functions of (details, live facts), so every tab can be checked without a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from kvmtui.virt.domain.details import DomainDetails
from kvmtui.virt.domain.livefacts import LiveFacts
from kvmtui.virt.models import DomainSummary
from kvmtui.virt.session.uris import display_uri
from kvmtui.widgets.formatting import count, human_kib, yes_no
from kvmtui.widgets.topology import topology_text


def _plain(*cells: str) -> list[Text]:
    # Text, not str: rich would read '[fd00::1]' or ' [network]' from the XML as markup and
    # drop it from the screen
    return [Text(cell) for cell in cells]


def _facts_table(rows: Iterable[tuple[str, object]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        if value in (None, "", ()):
            continue
        table.add_row(label, value if isinstance(value, Text) else Text(str(value)))
    return table


def _heading(text: str) -> Text:
    return Text(f"\n{text}", style="bold underline")


def _bytes(value: int | None) -> str:
    return "-" if value is None else human_kib(value // 1024) if value >= 1024 else f"{value} B"


def overview(details: DomainDetails, summary: DomainSummary | None) -> RenderableType:
    ov = details.overview
    fw = ov.firmware
    firmware = "UEFI" if fw.kind == "uefi" else "BIOS"
    if fw.secure_boot is not None:
        firmware += ", secure boot " + ("on" if fw.secure_boot else "off")
    rows: list[tuple[str, object]] = [
        ("Name", ov.name), ("UUID", ov.uuid), ("Title", ov.title),
        ("Description", ov.description),
    ]
    if summary is not None:
        rows += [("State", summary.state_text),
                 ("Id", "-" if summary.id is None else summary.id),
                 ("Autostart", yes_no(summary.autostart)),
                 ("Persistent", yes_no(summary.persistent)),
                 ("Connection", display_uri(summary.key.uri))]
    rows += [
        ("Hypervisor", ov.hypervisor), ("OS", " ".join(p for p in (ov.os_type, ov.arch, ov.machine) if p)),
        ("Firmware", firmware), ("Loader", fw.loader), ("NVRAM", fw.nvram),
        ("Boot order", ", ".join(ov.boot_order) or "(default)"),
        ("Kernel", ov.kernel), ("Initrd", ov.initrd), ("Cmdline", ov.cmdline),
        ("On poweroff", ov.on_poweroff), ("On reboot", ov.on_reboot), ("On crash", ov.on_crash),
        ("Emulator", ov.emulator),
        ("vCPUs", f"{details.cpu.current} of {details.cpu.maximum}"),
        ("Memory", human_kib(details.memory.current_kib or 0)
         + (f" of {human_kib(details.memory.max_kib)}" if details.memory.max_kib
            and details.memory.max_kib != details.memory.current_kib else "")),
    ]
    if details.other:
        rows.append(("Not shown", ", ".join(details.other)))
    return _facts_table(rows)


def cpu(details: DomainDetails, facts: LiveFacts | None) -> RenderableType:
    c = details.cpu
    mode = c.mode + (f" {c.model}" if c.model else "")
    if c.fallback:
        mode += f" (fallback {c.fallback})"
    parts: list[RenderableType] = [_facts_table([
        ("vCPUs", f"{c.current} online of {c.maximum}"
         + (f", placement {c.placement}" if c.placement else "")),
        ("CPU set", c.cpuset), ("Mode", mode), ("Vendor", c.vendor), ("Match", c.match),
        ("Check", c.check), ("IO threads", c.iothreads or None),
    ])]
    parts.append(_heading("Topology"))
    parts.append(topology_text(c, facts.vcpus if facts else ()))
    if facts is not None and facts.vcpus:
        now = Text("now: ", style="bold")
        for v in facts.vcpus:
            where = f"@{v.host_cpu}" if v.host_cpu is not None else ""
            now.append(f"v{v.id} {v.state}{where}  ")
        parts.append(now)
    elif facts is not None and facts.vcpus_note:
        parts.append(Text(f"where vCPUs run: {facts.vcpus_note}", style="dim"))
    if c.hyperv or c.hyperv_mode:
        mode = f" (mode {c.hyperv_mode})" if c.hyperv_mode else ""
        parts.append(_heading("Hyper-V enlightenments" + mode))
        parts.append(Text("  ".join(
            f"{f.name}{'=' + f.value if f.value else ''}{'' if f.on else ' off'}" for f in c.hyperv)))
    if c.kvm_features:
        parts.append(_heading("KVM features"))
        parts.append(Text("  ".join(f"{f.name}{'' if f.on else ' off'}" for f in c.kvm_features)))
    if c.features:
        parts.append(_heading("CPU features"))
        parts.append(Text("  ".join(f"{f.policy} {f.name}" for f in c.features)))
    if c.pins:
        parts.append(_heading("Pinning (cputune)"))
        parts.append(_facts_table((p.what, p.cpuset) for p in c.pins))
    if c.numa_cells:
        parts.append(_heading("Guest NUMA"))
        parts.append(_facts_table(
            (f"cell {cell.id}", f"vCPUs {cell.cpus}, {human_kib(cell.memory_kib or 0)}"
             + (f", {cell.mem_access}" if cell.mem_access else "")) for cell in c.numa_cells))
    return Group(*parts)


def memory(details: DomainDetails) -> RenderableType:
    m = details.memory
    pages = ", ".join(human_kib(p.size_kib) if p.size_kib else "default size" for p in m.hugepages)
    rows = [
        ("Current", human_kib(m.current_kib) if m.current_kib else None),
        ("Maximum", human_kib(m.max_kib) if m.max_kib else None),
        ("Hotplug up to", human_kib(m.hotplug_max_kib)
         + (f" in {count(m.hotplug_slots, 'slot')}" if m.hotplug_slots else "")
         if m.hotplug_max_kib else None),
        ("Balloon", m.balloon_model or "none"),
        ("Huge pages", (pages or "yes") if m.uses_hugepages else "no"),
        ("Shared", "yes (memoryBacking access mode='shared')" if m.shared else "no"),
        ("Backing", m.backing_source), ("Locked", "yes" if m.locked else None),
    ]
    parts: list[RenderableType] = [_facts_table(rows)]
    if m.numa_cells:
        parts.append(_heading("NUMA cells"))
        parts.append(_facts_table(
            (f"cell {cell.id}", f"{human_kib(cell.memory_kib or 0)}, vCPUs {cell.cpus}"
             + (f", {cell.mem_access}" if cell.mem_access else "")) for cell in m.numa_cells))
    return Group(*parts)


def disks(details: DomainDetails, facts: LiveFacts | None) -> RenderableType:
    if not details.disks:
        return Text("No disks.")
    table = Table(expand=True, box=None, pad_edge=False, header_style="bold")
    for name in ("Target", "Device", "Bus", "Format", "Source"):
        table.add_column(name, no_wrap=name != "Source", overflow="fold",
                         ratio=4 if name == "Source" else None)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Used", justify="right", no_wrap=True)
    notes: list[RenderableType] = []
    for d in details.disks:
        usage = facts.disks.get(d.target or "") if facts else None
        flags = [f for f, on in (("ro", d.readonly), ("shared", d.shareable)) if on]
        device = d.device + (f" ({', '.join(flags)})" if flags else "")
        size = used = "-"
        if usage is not None and usage.error is None:
            size, used = _bytes(usage.capacity), _bytes(usage.allocation)
        table.add_row(*_plain(d.target or "?", device, d.bus or "?", d.format or "?",
                              f"{d.source or '(empty)'}"
                              + ("" if d.type in ("file", "block") else f" [{d.type}]"),
                              size, used))
        extra = []
        if d.cache or d.io or d.discard:
            extra.append(", ".join(f"{k} {v}" for k, v in (("cache", d.cache), ("io", d.io),
                                                           ("discard", d.discard)) if v))
        if d.boot_order is not None:
            extra.append(f"boot order {d.boot_order}")
        for depth, store in enumerate(d.backing_chain, 1):
            extra.append(f"{'  ' * depth}└ backing {store.format or '?'} {store.source or '?'}")
        if usage is not None and usage.error and d.source:
            extra.append(f"size unknown: {usage.error}")
        if extra:
            notes.append(Text(f"{d.target}: " + "; ".join(extra), style="dim"))
    return Group(table, *notes)


def nics(details: DomainDetails, facts: LiveFacts | None) -> RenderableType:
    if not details.nics:
        return Text("No network interfaces.")
    table = Table(expand=True, box=None, pad_edge=False, header_style="bold")
    table.add_column("MAC", no_wrap=True)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Source", overflow="fold", ratio=1)
    table.add_column("Model", no_wrap=True)
    table.add_column("Target", no_wrap=True)
    table.add_column("Link", no_wrap=True)
    addresses = Table.grid(padding=(0, 2))
    addresses.add_column(style="bold", no_wrap=True)
    addresses.add_column(overflow="fold")
    for n in details.nics:
        table.add_row(*_plain(n.mac or "?", n.kind, n.source or "-", n.model or "-",
                              n.target or "-", n.link_state or "up"))
        found = facts.addresses.get((n.mac or "").lower()) if facts else None
        if found:
            addresses.add_row(*_plain(n.mac or "?",
                                      f"{', '.join(found.addresses)}  (from the {found.source})"))
    parts: list[RenderableType] = [table, _heading("Addresses")]
    if addresses.row_count:
        parts.append(addresses)
    elif facts is not None:
        parts.append(Text(f"none known: {facts.addresses_note or 'no source answered'}", style="dim"))
    return Group(*parts)


def devices(details: DomainDetails, host: str) -> RenderableType:
    parts: list[RenderableType] = []
    if details.graphics:
        parts.append(Text("Graphics", style="bold underline"))
        for g in details.graphics:
            line = Text(g.describe())
            viewer = g.viewer(host)
            if viewer:
                line.append(f"  view: {viewer}", style="bold")
            parts.append(line)
    if details.channels:
        parts.append(_heading("Channels"))
        for ch in details.channels:
            line = Text(f"{ch.purpose}: {ch.type}")
            if ch.target_name:
                line.append(f" {ch.target_name}", style="dim")
            if ch.state:
                line.append(f" [{ch.state}]", style="bold")
            parts.append(line)
    if details.consoles:
        parts.append(_heading("Serial and consoles"))
        for con in details.consoles:
            parts.append(Text(f"{con.kind} {con.port if con.port is not None else ''} "
                              f"{con.type}{' ' + con.source if con.source else ''}"
                              f"{' (' + con.target_type + ')' if con.target_type else ''}"))
    known = [d for d in details.devices if d.known]
    unknown = [d for d in details.devices if not d.known]
    if known:
        parts.append(_heading("Other devices"))
        for dev in known:
            parts.append(Text(f"{dev.kind}: {dev.summary}"))
    if unknown:
        parts.append(_heading("Not read by kvmtui (see XML)"))
        for dev in unknown:
            parts.append(Text(dev.summary, style="dim"))
    return Group(*parts) if parts else Text("No other devices.")


def xml_view(xml: str) -> RenderableType:
    return Syntax(xml, "xml", theme="ansi_dark", word_wrap=False, background_color="default")
