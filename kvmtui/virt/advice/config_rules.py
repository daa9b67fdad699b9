"""Rules on the VM's definition alone: what its XML asks QEMU to emulate, and how."""

from __future__ import annotations

import re

from kvmtui.virt.advice.model import INFO, PROBLEM, WARNING, Finding, Inputs
from kvmtui.virt.domain.details import Disk, Nic

# Buses QEMU emulates register by register: every request is several port or MMIO exits
# to QEMU (IDE's taskfile, AHCI's command lists, a USB controller's schedule), where virtio
# queues requests in shared memory and notifies with one exit, often handled in the kernel.
EMULATED_DISK_BUSES = {"ide": "IDE", "sata": "SATA (AHCI)", "usb": "USB storage",
                       "fdc": "floppy controller"}
# NIC models QEMU emulates as real hardware (Intel, Realtek, AMD, VMware chips).
EMULATED_NIC_MODELS = {"e1000", "e1000e", "rtl8139", "ne2k_pci", "pcnet", "i82551", "i82557b",
                       "i82559er", "vmxnet3", "igb"}
# CPU models that hide the host's instruction set (no SSE4.2, AVX, AES-NI, PCID...).
GENERIC_CPU_MODELS = {"qemu64", "qemu32", "kvm64", "kvm32"}
# Windows client editions use at most two sockets (Home: one); vCPUs in further sockets
# are left unused by the guest, however many libvirt gives it.
WINDOWS_SOCKETS = 2
GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0"
_QEMU = ("kvm", "qemu")
_X86 = ("", "x86_64", "i686")
_WINDOWS_MEDIA = re.compile(r"(?i)(virtio-win|win(dows)?[-_ ]?(\d|xp|vista|server))")


def windows_signs(inputs: Inputs) -> list[str]:
    """Why the guest is taken for Windows, in XML; empty when nothing says so."""
    os_id = inputs.hints.os_id
    if os_id:   # libosinfo's answer, as virt-install and virt-manager write it, settles it
        return [f"<libosinfo:os id='{os_id}'/>"] if "microsoft.com/win" in os_id else []
    signs = []
    if inputs.hints.clock_offset == "localtime":
        signs.append("<clock offset='localtime'> (Windows keeps its clock in local time)")
    for disk in inputs.domain.disks:
        if disk.device == "cdrom" and disk.source and _WINDOWS_MEDIA.search(disk.source):
            signs.append(f"CD-ROM {disk.target}: {disk.source}")
    # Hyper-V settings alone do not make a Windows guest (Linux can use them too); with
    # another sign they add to it
    cpu = inputs.domain.cpu
    if signs and (cpu.hyperv_mode or cpu.hyperv):
        signs.append("Hyper-V enlightenments configured (<features><hyperv>)")
    return signs


def _is_qemu(inputs: Inputs) -> bool:
    return inputs.domain.overview.hypervisor in _QEMU


def tcg(inputs: Inputs) -> list[Finding]:
    if inputs.domain.overview.hypervisor != "qemu":
        return []
    evidence = ["<domain type='qemu'>: QEMU translates every guest instruction (TCG)"]
    node = inputs.host.node if inputs.host else None
    severity = WARNING
    if node is not None:
        offered = "kvm" in node.guest_types
        evidence.append(f"host {node.hostname} offers domain types: {', '.join(node.guest_types)}")
        severity = PROBLEM if offered else WARNING
    return [Finding(
        "tcg", severity, "Runs under software emulation (TCG), not KVM", tuple(evidence),
        "<domain type='kvm'>  (virsh edit: change the type on the first line)\n"
        "TCG runs guest code through a translator, many times slower than hardware "
        "virtualization. If the host offers no 'kvm' type, enable VT-x/AMD-V in its "
        "firmware and load kvm_intel or kvm_amd.")]


def _disk_line(disk: Disk) -> str:
    where = f" ({disk.source})" if disk.source else ""
    return f"<target dev='{disk.target}' bus='{disk.bus}'/>{where}"


def emulated_disk_bus(inputs: Inputs) -> list[Finding]:
    disks = [d for d in inputs.domain.disks
             if d.device == "disk" and d.bus in EMULATED_DISK_BUSES]
    if not disks:
        return []
    buses = sorted({EMULATED_DISK_BUSES[d.bus or ""] for d in disks})
    return [Finding(
        "disk-bus-emulated", WARNING, f"Disk on an emulated bus: {', '.join(buses)}",
        tuple(_disk_line(d) for d in disks),
        "<target dev='vda' bus='virtio'/>  (and drop the disk's <address> line)\n"
        "An emulated controller costs several VM exits per request, each handled by QEMU; "
        "virtio queues requests in shared memory with one notification. A Windows guest "
        "needs the virtio-win storage driver (viostor) installed before the switch.")]


def _nic_line(nic: Nic) -> str:
    return f"<interface type='{nic.type}'> <mac address='{nic.mac}'/> <model type='{nic.model}'/>"


def emulated_nic(inputs: Inputs) -> list[Finding]:
    nics = [n for n in inputs.domain.nics if n.model in EMULATED_NIC_MODELS]
    if not nics:
        return []
    models = sorted({n.model or "" for n in nics})
    return [Finding(
        "nic-model-emulated", WARNING, f"Emulated network card: {', '.join(models)}",
        tuple(_nic_line(n) for n in nics),
        "<model type='virtio'/>\n"
        "An emulated NIC is a real chip's registers, each access an exit to QEMU; virtio-net "
        "moves packets through shared rings, in the host kernel with vhost-net. A Windows "
        "guest needs the virtio-win NetKVM driver first.")]


def nic_without_vhost(inputs: Inputs) -> list[Finding]:
    nics = [n for n in inputs.domain.nics if n.model == "virtio" and n.driver == "qemu"]
    if not nics:
        return []
    return [Finding(
        "nic-no-vhost", WARNING, "virtio NIC handled in QEMU, not in the kernel (vhost-net)",
        tuple(f"<interface type='{n.type}'> <mac address='{n.mac}'/> <driver name='qemu'/>"
              for n in nics),
        "<driver name='vhost'/>  (or remove <driver name='qemu'/>: libvirt uses vhost-net "
        "when /dev/vhost-net exists)\n"
        "With name='qemu' every packet goes through QEMU's main loop; vhost-net moves them in "
        "a host kernel thread, with less latency and CPU.")]


def generic_cpu_model(inputs: Inputs) -> list[Finding]:
    cpu = inputs.domain.cpu
    if cpu.mode == "custom" and (cpu.model or "") in GENERIC_CPU_MODELS:
        seen = f"<cpu mode='custom'> <model>{cpu.model}</model>"
    elif cpu.mode == "default" and _is_qemu(inputs):
        seen = "no <cpu> element: QEMU's default model (qemu64) is used"
    else:
        return []
    return [Finding(
        "cpu-model-generic", WARNING, "Generic CPU model hides the host's instructions",
        (seen,),
        "<cpu mode='host-passthrough' check='none' migratable='on'/>  "
        "(or mode='host-model' to migrate between different hosts)\n"
        "A generic model offers no SSE4.2, AVX, AES-NI or PCID, so the guest takes slower "
        "code paths and flushes more TLB entries.")]


_ENLIGHTENMENTS = {
    "relaxed": "<relaxed state='on'/>",
    "vapic": "<vapic state='on'/>",
    "spinlocks": "<spinlocks state='on' retries='8191'/>",
}


def windows_hyperv(inputs: Inputs) -> list[Finding]:
    cpu = inputs.domain.cpu
    signs = windows_signs(inputs)
    if not signs or cpu.hyperv_mode == "passthrough" \
            or inputs.domain.overview.arch not in _X86:
        return []
    on = {f.name for f in cpu.hyperv if f.on}
    missing = [name for name in _ENLIGHTENMENTS if name not in on]
    if not missing:
        return []
    evidence = [*signs, "Hyper-V enlightenments on: " + (", ".join(sorted(on)) or "none"),
                "missing: " + ", ".join(f"hv_{m}" for m in missing)]
    return [Finding(
        "windows-hyperv", PROBLEM if len(missing) == len(_ENLIGHTENMENTS) else WARNING,
        "Windows guest without Hyper-V enlightenments", tuple(evidence),
        "<features><hyperv mode='custom'>"
        + "".join(_ENLIGHTENMENTS[m] for m in missing) + "</hyperv></features>\n"
        "Windows then yields a spinning vCPU instead of burning its time slice (spinlocks), "
        "writes the APIC through a page rather than an exit per access (vapic), and stops "
        "treating a descheduled vCPU's lost time as a hang (relaxed).")]


def windows_hypervclock(inputs: Inputs) -> list[Finding]:
    signs = windows_signs(inputs)
    cpu = inputs.domain.cpu
    if not signs or cpu.hyperv_mode == "passthrough" \
            or inputs.domain.overview.arch not in _X86:
        return []
    if any(f.name == "time" and f.on for f in cpu.hyperv):
        return []
    return [Finding(
        "windows-hypervclock", WARNING, "Windows guest without the Hyper-V clock (hv_time)",
        (*signs, "no <timer name='hypervclock' present='yes'/> in <clock>"),
        "<clock offset='localtime'><timer name='hypervclock' present='yes'/></clock>\n"
        "Without it Windows reads time from emulated timers (HPET, PM timer, RTC), an exit "
        "per read; the Hyper-V reference page is read in the guest with no exit.")]


def windows_sockets(inputs: Inputs) -> list[Finding]:
    cpu = inputs.domain.cpu
    topo = cpu.topology
    if topo.sockets <= WINDOWS_SOCKETS or cpu.current <= WINDOWS_SOCKETS:
        return []
    signs = windows_signs(inputs)
    if not signs:
        return []
    if topo.implied:
        shape = (f"<vcpu>{cpu.maximum}</vcpu> with no <topology>: the guest sees "
                 f"{topo.sockets} sockets of 1 core")
    else:
        shape = (f"<topology sockets='{topo.sockets}' dies='{topo.dies}' "
                 f"cores='{topo.cores}' threads='{topo.threads}'/>")
    cores = max(cpu.maximum // max(topo.threads, 1), 1)
    return [Finding(
        "windows-sockets", WARNING, f"vCPUs presented as {topo.sockets} sockets to Windows",
        (*signs, shape),
        f"<cpu ...><topology sockets='1' dies='1' cores='{cores}' "
        f"threads='{topo.threads}'/></cpu>\n"
        f"Windows client editions use at most {WINDOWS_SOCKETS} sockets (Home: 1); the vCPUs "
        "of further sockets stay idle while the host still schedules them.")]


def no_guest_agent(inputs: Inputs) -> list[Finding]:
    if not _is_qemu(inputs) or any(c.target_name == GUEST_AGENT_CHANNEL
                                   for c in inputs.domain.channels):
        return []
    names = [c.target_name for c in inputs.domain.channels if c.target_name]
    return [Finding(
        "no-guest-agent", INFO, "No guest agent channel",
        (f"no <channel> with <target type='virtio' name='{GUEST_AGENT_CHANNEL}'/>"
         + (f" (channels: {', '.join(names)})" if names else ""),),
        f"<channel type='unix'><target type='virtio' name='{GUEST_AGENT_CHANNEL}'/>"
        "</channel>  and install qemu-guest-agent in the guest\n"
        "Without it snapshots cannot quiesce the file systems, and libvirt cannot ask the "
        "guest for its IP addresses or shut it down cleanly when ACPI is ignored.")]


_SLOW_CACHE = {
    "writethrough": "every write waits until the host has flushed it to the disk",
    "directsync": "every write waits until the host has flushed it to the disk",
    "unsafe": "flushes are ignored: a host crash loses the guest's written data",
}


def disk_cache_mode(inputs: Inputs) -> list[Finding]:
    evidence, notes = [], []
    for disk in inputs.domain.disks:
        if disk.cache in _SLOW_CACHE:
            evidence.append(f"<driver cache='{disk.cache}'/> on {disk.target}")
            notes.append(f"cache='{disk.cache}': {_SLOW_CACHE[disk.cache]}")
        elif disk.io == "native" and disk.cache not in ("none", "directsync"):
            evidence.append(f"<driver io='native' cache='{disk.cache or 'default'}'/> "
                            f"on {disk.target}")
            notes.append("io='native' needs O_DIRECT (cache='none'); QEMU refuses it or "
                         "falls back to threads otherwise")
    if not evidence:
        return []
    return [Finding(
        "disk-cache", WARNING, "Disk cache or I/O mode that costs speed or safety",
        tuple(evidence),
        "<driver name='qemu' type='...' cache='none' io='native' discard='unmap'/>\n"
        + "\n".join(dict.fromkeys(notes))
        + "\ncache='none' bypasses the host's page cache and still honours the guest's "
          "flushes.")]


RULES = (tcg, emulated_disk_bus, emulated_nic, nic_without_vhost, generic_cpu_model,
         windows_hyperv, windows_hypervclock, windows_sockets, no_guest_agent, disk_cache_mode)
