"""Host facts: libvirt's node info and capabilities, psutil usage, and — for this machine —
the hardware virtualization features KVM depends on, read from /proc, /sys and /dev.

Each fact says where it came from; a remote host's /proc is not ours to read, so for remote
URIs the virtualization features are what libvirt's capabilities list, and unknown otherwise.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import libvirt
import psutil

from kvmtui.virt.session.uris import version_text


@dataclass(frozen=True, slots=True)
class NodeFacts:
    hostname: str
    hypervisor: str             # 'QEMU 7.2.0'
    libvirt_version: str
    cpu_model: str
    cpu_vendor: str
    arch: str
    cpus: int
    mhz: int
    numa_nodes: int
    sockets: int
    cores: int
    threads: int
    memory_kib: int
    free_memory_kib: int | None
    guest_types: tuple[str, ...]     # domain types this host can run: 'kvm', 'qemu'
    cpu_features: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VirtFeatures:
    source: str                      # 'this machine' or 'libvirt capabilities'
    cpu_extension: str | None        # 'vmx' (Intel VT-x), 'svm' (AMD-V), or None
    second_level_paging: bool | None  # EPT (Intel) / NPT (AMD)
    vpid: bool | None                # tagged TLB (VPID on Intel, ASID always on AMD)
    nested: str | None               # 'enabled' / 'disabled' / None when unknown
    iommu: bool | None
    dev_kvm: str                     # 'read-write', 'present, not accessible', 'missing'
    kvm_modules: tuple[str, ...] = field(default=())



def node_facts(conn: libvirt.virConnect) -> NodeFacts:
    """Four calls: getInfo, getCapabilities, versions and free memory."""
    model, memory_mib, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()
    caps = ET.fromstring(conn.getCapabilities())
    host_cpu = caps.find("host/cpu")
    features = tuple(sorted(f.get("name", "") for f in caps.findall("host/cpu/feature")))
    guest_types = sorted({d.get("type", "") for d in caps.findall("guest/arch/domain")})
    try:
        hypervisor = f"{conn.getType()} {version_text(conn.getVersion())}"
    except libvirt.libvirtError:
        hypervisor = conn.getType()
    try:
        free = conn.getFreeMemory() // 1024
    except libvirt.libvirtError:
        free = None
    return NodeFacts(
        hostname=conn.getHostname(), hypervisor=hypervisor,
        libvirt_version=version_text(conn.getLibVersion()),
        cpu_model=(host_cpu.findtext("model") if host_cpu is not None else None) or model,
        cpu_vendor=(host_cpu.findtext("vendor") if host_cpu is not None else None) or "",
        arch=(host_cpu.findtext("arch") if host_cpu is not None else None) or model,
        cpus=cpus, mhz=mhz, numa_nodes=nodes, sockets=sockets, cores=cores, threads=threads,
        memory_kib=memory_mib * 1024, free_memory_kib=free, guest_types=tuple(guest_types),
        cpu_features=features)


def local_virt_features(proc: Path = Path("/proc"), sys: Path = Path("/sys"),
                        dev: Path = Path("/dev")) -> VirtFeatures:
    flags: set[str] = set()
    try:
        for line in (proc / "cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "vmx flags")):
                flags.update(line.split(":", 1)[1].split())
    except OSError:
        pass
    extension = "vmx" if "vmx" in flags else "svm" if "svm" in flags else None
    modules = tuple(sorted(m for m in _listdir(sys / "module")
                           if m == "kvm" or m.startswith("kvm_")))
    nested = None
    for module in ("kvm_intel", "kvm_amd"):
        value = _read(sys / "module" / module / "parameters" / "nested")
        if value is not None:
            nested = "enabled" if value.strip() in ("1", "Y", "y") else "disabled"
    iommu = bool(_listdir(sys / "class" / "iommu")) or bool(_listdir(sys / "kernel" /
                                                                     "iommu_groups"))
    if not (dev / "kvm").exists():
        dev_kvm = "missing"
    elif os.access(dev / "kvm", os.R_OK | os.W_OK):
        dev_kvm = "read-write"
    else:
        dev_kvm = "present, not accessible to this user"
    return VirtFeatures(
        source="this machine", cpu_extension=extension,
        second_level_paging=bool(flags & {"ept", "npt"}) if extension else None,
        vpid=("vpid" in flags) if extension == "vmx" else (True if extension == "svm" else None),
        nested=nested, iommu=iommu, dev_kvm=dev_kvm, kvm_modules=modules)


def remote_virt_features(facts: NodeFacts) -> VirtFeatures:
    features = set(facts.cpu_features)
    extension = "vmx" if "vmx" in features else "svm" if "svm" in features else None
    return VirtFeatures(
        source="libvirt capabilities", cpu_extension=extension, second_level_paging=None,
        vpid=None, nested=None, iommu=None,
        dev_kvm="offered" if "kvm" in facts.guest_types else "not offered")


@dataclass(frozen=True, slots=True)
class HostUsage:
    cpu_percent: float
    per_cpu: tuple[float, ...]
    load: tuple[float, float, float]
    memory_total: int
    memory_available: int
    swap_used: int
    swap_total: int


def host_usage() -> HostUsage:
    """This machine's CPU (since the previous call, as top does) and memory, via psutil."""
    per_cpu = tuple(psutil.cpu_percent(percpu=True))
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    return HostUsage(sum(per_cpu) / max(len(per_cpu), 1), per_cpu, os.getloadavg(),
                     memory.total, memory.available, swap.used, swap.total)


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
