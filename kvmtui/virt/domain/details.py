"""Typed models of a domain's definition: what `virsh dominfo`, `domblklist`, `domiflist`,
`vcpuinfo` and `dumpxml` tell, read once from the domain XML (see domxml.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Firmware:
    kind: str                    # "bios" or "uefi"
    secure_boot: bool | None = None
    loader: str | None = None
    loader_type: str | None = None   # rom / pflash
    loader_readonly: bool | None = None
    nvram: str | None = None
    autoselect: str | None = None    # <os firmware='efi'>


@dataclass(frozen=True, slots=True)
class Overview:
    name: str
    uuid: str
    title: str = ""
    description: str = ""
    hypervisor: str = ""         # domain type: kvm, qemu, test, xen...
    os_type: str = ""
    arch: str = ""
    machine: str = ""
    firmware: Firmware = Firmware("bios")
    boot_order: tuple[str, ...] = ()    # os/boot dev list, or per-device order, as shown
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    on_poweroff: str = ""
    on_reboot: str = ""
    on_crash: str = ""
    emulator: str | None = None


@dataclass(frozen=True, slots=True)
class HugePage:
    size_kib: int | None
    nodeset: str | None = None


@dataclass(frozen=True, slots=True)
class NumaCell:
    id: int | None
    cpus: str
    memory_kib: int | None
    mem_access: str | None = None    # shared / private
    distances: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Memory:
    current_kib: int | None
    max_kib: int | None
    hotplug_max_kib: int | None = None
    hotplug_slots: int | None = None
    balloon_model: str | None = None
    hugepages: tuple[HugePage, ...] = ()
    uses_hugepages: bool = False
    shared: bool = False             # memoryBacking access mode='shared'
    backing_source: str | None = None    # file / anonymous / memfd
    locked: bool = False
    numa_cells: tuple[NumaCell, ...] = ()


@dataclass(frozen=True, slots=True)
class Topology:
    sockets: int
    dies: int
    clusters: int
    cores: int
    threads: int
    implied: bool   # True when the XML gave none: libvirt's default, one socket per vCPU

    @property
    def total(self) -> int:
        return self.sockets * self.dies * self.clusters * self.cores * self.threads


@dataclass(frozen=True, slots=True)
class CpuFeature:
    name: str
    policy: str


@dataclass(frozen=True, slots=True)
class HypervFeature:
    name: str
    on: bool
    value: str | None = None         # spinlocks: "0x1fff"; vendor_id: the id string


@dataclass(frozen=True, slots=True)
class Pin:
    what: str                        # "vcpu 0", "emulator", "iothread 1"
    cpuset: str


@dataclass(frozen=True, slots=True)
class VcpuSlot:
    id: int
    enabled: bool
    hotpluggable: bool | None = None
    order: int | None = None


@dataclass(frozen=True, slots=True)
class Cpu:
    current: int
    maximum: int
    placement: str | None = None
    cpuset: str | None = None
    mode: str = "default"            # host-passthrough / host-model / custom / maximum / default
    model: str | None = None
    fallback: str | None = None
    vendor: str | None = None
    match: str | None = None
    check: str | None = None
    migratable: str | None = None
    topology: Topology = Topology(1, 1, 1, 1, 1, True)
    features: tuple[CpuFeature, ...] = ()
    hyperv_mode: str | None = None
    hyperv: tuple[HypervFeature, ...] = ()
    kvm_features: tuple[HypervFeature, ...] = ()
    pins: tuple[Pin, ...] = ()
    iothreads: int = 0
    vcpu_slots: tuple[VcpuSlot, ...] = ()
    numa_cells: tuple[NumaCell, ...] = ()


@dataclass(frozen=True, slots=True)
class BackingStore:
    type: str | None
    format: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class Disk:
    device: str                      # disk / cdrom / floppy / lun
    type: str                        # file / block / network / volume / dir / nvme
    target: str | None
    bus: str | None
    source: str | None               # one readable string: path, device, proto://host/name, pool/vol
    path: str | None = None          # file or block device
    protocol: str | None = None
    source_name: str | None = None
    hosts: tuple[str, ...] = ()
    pool: str | None = None
    volume: str | None = None
    format: str | None = None        # driver type: qcow2, raw...
    driver: str | None = None
    cache: str | None = None
    io: str | None = None
    discard: str | None = None
    readonly: bool = False
    shareable: bool = False
    boot_order: int | None = None
    serial: str | None = None
    backing_chain: tuple[BackingStore, ...] = ()


@dataclass(frozen=True, slots=True)
class Nic:
    type: str                        # network / bridge / direct / user / vhostuser / hostdev / ethernet...
    mac: str | None
    model: str | None
    source: str | None               # network name, bridge, host device, socket path...
    mode: str | None = None          # macvtap mode (bridge/vepa/private/passthrough), vhostuser mode
    target: str | None = None
    link_state: str | None = None    # up / down (absent: up)
    boot_order: int | None = None
    portgroup: str | None = None
    virtualport: str | None = None
    driver: str | None = None
    queues: int | None = None

    @property
    def kind(self) -> str:
        """How it reaches the network, in the words of the study notes."""
        if self.type == "direct":
            return f"macvtap ({self.mode or 'vepa'})"
        return {"bridge": "bridge", "network": "virtual network", "user": "user (SLIRP)",
                "vhostuser": "vhost-user", "hostdev": "PCI passthrough",
                "ethernet": "tap (ethernet)"}.get(self.type, self.type)


# How each kind of display is reached when it has no network port of its own to name.
_LOCAL_DISPLAYS = {
    "sdl": "SDL (local window{on})",
    "egl-headless": "EGL headless (OpenGL rendering for the other displays)",
    "dbus": "D-Bus display (local clients through QEMU's D-Bus interface)",
}
_DISPLAY_NAMES = {"spice": "SPICE", "vnc": "VNC", "rdp": "RDP"}


@dataclass(frozen=True, slots=True)
class Graphics:
    type: str                        # spice / vnc / sdl / rdp / egl-headless / dbus
    listen: str | None
    port: int | None
    autoport: bool
    tls_port: int | None = None
    socket: str | None = None
    listen_type: str | None = None   # address / network / socket / none
    display: str | None = None       # SDL: the X display its window opens on

    def describe(self) -> str:
        """Where it is seen, in words: 'SDL (local window)', 'SPICE, no network listener',
        'VNC, socket /run/…', 'SPICE, listen 0.0.0.0, port 5901, TLS port 5902'."""
        if self.type in _LOCAL_DISPLAYS:
            return _LOCAL_DISPLAYS[self.type].format(
                on=f" on display {self.display}" if self.display else "")
        name = _DISPLAY_NAMES.get(self.type, self.type.upper())
        if self.listen_type == "none":
            return f"{name}, no network listener"
        if self.socket:
            return f"{name}, socket {self.socket}"
        parts = [f"listen {self.listen or 'default'}"]
        if self.port is not None and self.port >= 0:
            parts.append(f"port {self.port}")
        elif self.autoport:
            parts.append("port auto (assigned at start)")
        if self.tls_port is not None and self.tls_port >= 0:
            parts.append(f"TLS port {self.tls_port}")
        if len(parts) == 1:
            parts.append("no port set")
        return ", ".join([name, *parts])

    def viewer(self, host: str = "localhost") -> str | None:
        """The command that views it, e.g. `remote-viewer spice://host:5900`."""
        if self.type not in ("spice", "vnc") or self.listen_type == "none":
            return None
        if self.socket:
            return f"remote-viewer {self.type}+unix://{self.socket}"
        if self.listen and self.listen.startswith("network "):
            return None  # the network's address is in the live XML only, once it runs
        where = self.listen if self.listen and self.listen not in ("0.0.0.0", "::") else host
        if ":" in where and not where.startswith("["):
            where = f"[{where}]"  # an IPv6 address in a URL
        if self.port is not None and self.port >= 0:
            return f"remote-viewer {self.type}://{where}:{self.port}"
        if self.type == "spice" and self.tls_port is not None and self.tls_port >= 0:
            return f"remote-viewer spice://{where}?tls-port={self.tls_port}"
        return None  # autoport before the VM runs: no port yet


@dataclass(frozen=True, slots=True)
class Channel:
    type: str                        # spicevmc / spiceport / unix / pty...
    target_type: str | None
    target_name: str | None
    purpose: str                     # clipboard / file sharing / guest agent / ...
    state: str | None = None         # connected / disconnected (guest side), when libvirt knows
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Console:
    kind: str                        # serial / console / parallel
    type: str                        # pty / file / tcp / unix / stdio...
    target_type: str | None
    port: int | None
    source: str | None               # pty path, file, host:port, socket


@dataclass(frozen=True, slots=True)
class Device:
    """Any other device, listed by kind: controllers, input, sound, video, hostdev, TPM..."""

    kind: str                        # the element: controller, input, sound, video, hostdev...
    summary: str                     # one line a user reads
    attrs: dict[str, str] = field(default_factory=dict)
    known: bool = True               # False: an element kvmtui has no reader for ("other")


@dataclass(frozen=True, slots=True)
class DomainDetails:
    overview: Overview
    memory: Memory
    cpu: Cpu
    disks: tuple[Disk, ...]
    nics: tuple[Nic, ...]
    graphics: tuple[Graphics, ...]
    channels: tuple[Channel, ...]
    consoles: tuple[Console, ...]
    devices: tuple[Device, ...]
    other: tuple[str, ...] = ()      # top-level elements kvmtui does not read, by tag
