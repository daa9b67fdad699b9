"""What each tab of the details screen shows: rich renderables built from the parsed models.

Pure functions of (details, live facts), so every tab can be checked without a terminal. The
renderables fit themselves to the width they are given: a long value (a disk image path, a
socket, a title) is shown whole, on a line of its own when it must, and cut only after a '/'
when even a whole line is too short, never into narrow fragments of a column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from kvmtui.virt.domain.details import DomainDetails
from kvmtui.virt.domain.livefacts import LiveFacts
from kvmtui.virt.models import DomainSummary
from kvmtui.virt.session.uris import display_uri
from kvmtui.widgets.formatting import count, human_kib, wrap_spans, yes_no
from kvmtui.widgets.topology import topology_text

GAP = "  "      # between the columns of a device table
INDENT = 2      # a device's source and notes, under its row


def _plain(*cells: str) -> list[Text]:
    # Text, not str: rich would read '[fd00::1]' or ' [network]' from the XML as markup and
    # drop it from the screen
    return [Text(cell) for cell in cells]


class Wrapped:
    """Text wrapped at spaces to the width it is given, a too-long word cut after its '/'s;
    every line is indented by `indent`, the lines after the first by `hang` more. Styles of a
    rich Text are kept."""

    def __init__(self, text: Text | str, style: str = "", hang: int = 2, indent: int = 0) -> None:
        self.text = text if isinstance(text, Text) else Text(text, style=style)
        self.hang = hang
        self.indent = indent

    def lines(self, width: int) -> list[Text]:
        out: list[Text] = []
        for paragraph in self.text.split("\n", allow_blank=True):
            # a paragraph's own leading spaces (XML's nesting) are kept on each of its lines
            indent = self.indent + len(paragraph.plain) - len(paragraph.plain.lstrip(" "))
            paragraph = paragraph[indent - self.indent:]
            room = max(1, width - indent)
            hang = self.hang if room - self.hang >= 8 else 0  # as wrap_spans decides
            spans = wrap_spans(paragraph.plain, room, self.hang) or [(0, 0)]
            for i, (start, end) in enumerate(spans):
                out.append(Text(" " * (indent + (hang if i else 0))) + paragraph[start:end])
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            line.end = "\n"
            line.no_wrap = True
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        plain = self.text.plain
        longest_line = max((len(p) for p in plain.split("\n")), default=0)
        longest_word = max((len(w) for w in plain.split()), default=0)
        return Measurement(min(longest_word, 30) + self.indent,
                           longest_line + self.indent).clamp(max_width=options.max_width)


@dataclass(frozen=True, slots=True)
class DeviceRow:
    cells: tuple[str, ...]          # the short columns: target, bus, size, MAC…
    source: str                     # the long one: a path, a network, a socket
    notes: tuple[str, ...] = ()     # dim lines under the row (cache mode, backing chain…)


class DeviceTable:
    """Short columns as a table; the source as the last column when every source fits
    beside them, else whole on a line of its own under its row, as lsblk and virt-manager do."""

    def __init__(self, columns: Sequence[tuple[str, str]], rows: Sequence[DeviceRow],
                 source_label: str = "Source") -> None:
        self.columns = columns      # (header, "left" or "right")
        self.rows = rows
        self.source_label = source_label

    def _widths(self) -> list[int]:
        return [max([len(header), *(len(r.cells[i]) for r in self.rows)])
                for i, (header, _) in enumerate(self.columns)]

    def _line(self, cells: Sequence[str], widths: list[int], source: str | None) -> Text:
        padded = [cell.rjust(w) if justify == "right" else cell.ljust(w)
                  for cell, w, (_, justify) in zip(cells, widths, self.columns, strict=True)]
        if source is not None:
            padded.append(source)
        return Text(GAP.join(padded).rstrip())

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        widths = self._widths()
        short = sum(widths) + len(GAP) * (len(widths) - 1)
        longest = max([len(self.source_label), *(len(r.source) for r in self.rows)])
        inline = short + len(GAP) + longest <= width
        header = self._line([h for h, _ in self.columns], widths,
                            self.source_label if inline else None)
        header.stylize("bold")
        yield header
        for row in self.rows:
            yield self._line(row.cells, widths, row.source if inline else None)
            if not inline:
                yield Wrapped(row.source, hang=0, indent=INDENT)
            for note in row.notes:
                yield Wrapped(note, style="dim", hang=2, indent=INDENT)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)


def _facts_table(rows: Iterable[tuple[str, object]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        if value in (None, "", ()):
            continue
        table.add_row(label, Wrapped(value if isinstance(value, Text) else Text(str(value)),
                                     hang=0))
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


def _disk_notes(d, usage) -> tuple[str, ...]:
    notes = []
    tuning = ", ".join(f"{k} {v}" for k, v in (("cache", d.cache), ("io", d.io),
                                               ("discard", d.discard)) if v)
    if tuning or d.boot_order is not None:
        notes.append("; ".join(p for p in (tuning, d.boot_order is not None
                                           and f"boot order {d.boot_order}") if p))
    for depth, store in enumerate(d.backing_chain):
        notes.append(f"{'  ' * depth}└ backing {store.format or '?'} {store.source or '?'}")
    if usage is not None and usage.error and d.source:
        notes.append(f"size unknown: {usage.error}")
    return tuple(notes)


def disks(details: DomainDetails, facts: LiveFacts | None) -> RenderableType:
    if not details.disks:
        return Text("No disks.")
    rows = []
    for d in details.disks:
        usage = facts.disks.get(d.target or "") if facts else None
        flags = [f for f, on in (("ro", d.readonly), ("shared", d.shareable)) if on]
        device = d.device + (f" ({', '.join(flags)})" if flags else "")
        size = used = "-"
        if usage is not None and usage.error is None:
            size, used = _bytes(usage.capacity), _bytes(usage.allocation)
        source = (d.source or "(empty)") + ("" if d.type in ("file", "block") else f" [{d.type}]")
        rows.append(DeviceRow((d.target or "?", device, d.bus or "?", d.format or "?", size, used),
                              source, _disk_notes(d, usage)))
    return DeviceTable([("Target", "left"), ("Device", "left"), ("Bus", "left"),
                        ("Format", "left"), ("Size", "right"), ("Used", "right")], rows)


def nics(details: DomainDetails, facts: LiveFacts | None) -> RenderableType:
    if not details.nics:
        return Text("No network interfaces.")
    rows = [DeviceRow((n.mac or "?", n.kind, n.model or "-", n.target or "-",
                       n.link_state or "up"), n.source or "-")
            for n in details.nics]
    table = DeviceTable([("MAC", "left"), ("Kind", "left"), ("Model", "left"),
                         ("Target", "left"), ("Link", "left")], rows)
    addresses = Table.grid(padding=(0, 2))
    addresses.add_column(style="bold", no_wrap=True)
    addresses.add_column()
    for n in details.nics:
        found = facts.addresses.get((n.mac or "").lower()) if facts else None
        if found:
            addresses.add_row(Text(n.mac or "?"), Wrapped(
                f"{', '.join(found.addresses)}  (from the {found.source})", hang=0))
    parts: list[RenderableType] = [table, _heading("Addresses")]
    if addresses.row_count:
        parts.append(addresses)
    elif facts is not None:
        parts.append(Wrapped(f"none known: {facts.addresses_note or 'no source answered'}",
                             style="dim"))
    return Group(*parts)


def devices(details: DomainDetails, host: str) -> RenderableType:
    parts: list[Text] = []
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
    # a socket or pty path in a line wraps after a '/', not mid-name
    return Group(*(Wrapped(p) for p in parts)) if parts else Text("No other devices.")


def xml_view(xml: str) -> RenderableType:
    # wrapped under its own nesting, not cropped: a long path or title in the XML is read
    # whole at 80 columns, cut (when it must be) after a '/'
    highlighted = Syntax(xml, "xml", theme="ansi_dark", background_color="default").highlight(xml)
    highlighted.rstrip()
    return Wrapped(highlighted, hang=4)
