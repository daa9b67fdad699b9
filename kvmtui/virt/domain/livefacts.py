"""What the XML cannot say: disk sizes, NIC addresses, where each vCPU runs now.

Read with a handful of libvirt calls per domain; each fact is optional, and a fact libvirt
cannot give (a shut-off VM has no vCPUs running, the test driver has no guest agent) carries the
reason instead of failing the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

from kvmtui.virt.domain.details import DomainDetails
from kvmtui.virt.session.errors import libvirt_message

_VCPU_STATES = {0: "offline", 1: "running", 2: "blocked"}

ADDRESS_SOURCES = (  # tried in this order; the first that answers is named
    ("guest agent", libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT),
    ("DHCP lease", libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE),
    ("ARP table", libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP),
)


@dataclass(frozen=True, slots=True)
class DiskUsage:
    capacity: int | None = None      # bytes the guest sees
    allocation: int | None = None    # bytes written on the host
    physical: int | None = None      # bytes the image file takes
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NicAddresses:
    addresses: tuple[str, ...]
    source: str                      # guest agent / DHCP lease / ARP table


@dataclass(frozen=True, slots=True)
class VcpuNow:
    id: int
    state: str
    host_cpu: int | None
    cpu_time_ns: int


@dataclass(frozen=True, slots=True)
class LiveFacts:
    disks: dict[str, DiskUsage]
    addresses: dict[str, NicAddresses]
    addresses_note: str              # why none were found, when none were
    vcpus: tuple[VcpuNow, ...]
    vcpus_note: str


def read_disks(dom: libvirt.virDomain, details: DomainDetails) -> dict[str, DiskUsage]:
    usage = {}
    for disk in details.disks:
        if not disk.target:
            continue
        if disk.source is None:
            usage[disk.target] = DiskUsage(error="no medium")
            continue
        try:
            capacity, allocation, physical = dom.blockInfo(disk.target)
            usage[disk.target] = DiskUsage(capacity, allocation, physical)
        except libvirt.libvirtError as err:
            usage[disk.target] = DiskUsage(error=libvirt_message(err))
    return usage


def read_addresses(dom: libvirt.virDomain) -> tuple[dict[str, NicAddresses], str]:
    reasons = []
    for label, source in ADDRESS_SOURCES:
        try:
            found = dom.interfaceAddresses(source, 0)
        except libvirt.libvirtError as err:
            reasons.append(f"{label}: {libvirt_message(err)}")
            continue
        result = {}
        for info in found.values():
            mac = (info.get("hwaddr") or "").lower()
            addrs = tuple(f"{a['addr']}/{a['prefix']}" for a in info.get("addrs") or [])
            if mac and addrs:
                result[mac] = NicAddresses(addrs, label)
        if result:
            return result, ""
        reasons.append(f"{label}: none")
    return {}, "; ".join(reasons)


def read_vcpus(dom: libvirt.virDomain) -> tuple[tuple[VcpuNow, ...], str]:
    try:
        info, _maps = dom.vcpus()
    except libvirt.libvirtError as err:
        return (), libvirt_message(err)
    return tuple(VcpuNow(n, _VCPU_STATES.get(state, str(state)), cpu if cpu >= 0 else None, t)
                 for n, state, t, cpu in info), ""


def read_live_facts(dom: libvirt.virDomain, details: DomainDetails) -> LiveFacts:
    if dom.isActive():
        addresses, address_note = read_addresses(dom)
        vcpus, vcpu_note = read_vcpus(dom)
    else:  # nothing runs, so nothing to ask the agent, the leases or the scheduler
        addresses, address_note = {}, "the VM is not running"
        vcpus, vcpu_note = (), "the VM is not running"
    return LiveFacts(read_disks(dom, details), addresses, address_note, vcpus, vcpu_note)
