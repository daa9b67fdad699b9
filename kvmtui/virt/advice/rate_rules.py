"""Rules on one tick's rates: exits by reason, steal, page faults. Silent without rates (a VM
that does not run, a driver without counters, a first sample): the engine's note says so."""

from __future__ import annotations

from kvmtui.virt.advice.config_rules import EMULATED_DISK_BUSES, EMULATED_NIC_MODELS
from kvmtui.virt.advice.model import PROBLEM, WARNING, Finding, Inputs, count
from kvmtui.virt.models import DomainStats

# What makes each kind of exit, among the devices an XML names.
_PORT_IO_NICS = {"rtl8139", "ne2k_pci", "pcnet"}
_PORT_IO_BUSES = {"ide", "fdc"}
_VIDEO_MODELS = {"cirrus", "vga", "qxl", "bochs"}


# Rate rules need exits by reason: sampled for a VM on `x` (StatsSampler.watch_detail) or
# with detail_all (`kvmtui advise`, `kvmtui top`); the list's total alone names no reason.


def _busiest(stats: DomainStats, reason: str) -> tuple[float | None, str]:
    """The reason's rate on its busiest vCPU, and how that is said in the evidence.

    libvirt gives every vCPU's counters; debugfs only their sum, shared out evenly."""
    counter = stats.exits.get(reason) if stats.exits else None
    if counter is None or counter.rate is None:
        return None, ""
    per_vcpu = [(i, c[reason].rate) for i, c in enumerate(stats.exits_per_vcpu())
                if reason in c and c[reason].rate is not None]
    if per_vcpu:
        index, rate = max(per_vcpu, key=lambda item: item[1] or 0.0)
        return rate, f"vCPU{index} {count(rate or 0.0)}/s"
    vcpus = max(len(stats.vcpus), 1)
    return counter.rate / vcpus, f"{count(counter.rate / vcpus)}/s per vCPU over {vcpus}"


def _emulated_devices(inputs: Inputs, port_io: bool) -> list[str]:
    found = []
    for disk in inputs.domain.disks:
        bus = disk.bus or ""
        # a CD-ROM sits idle once the guest is installed: the disks are what exit
        if disk.device == "disk" and bus in EMULATED_DISK_BUSES \
                and (bus in _PORT_IO_BUSES) == port_io:
            found.append(f"disk {disk.target} <target bus='{bus}'/>")
    for nic in inputs.domain.nics:
        model = nic.model or ""
        if model in EMULATED_NIC_MODELS and (model in _PORT_IO_NICS) == port_io:
            found.append(f"NIC {nic.mac} <model type='{model}'/>")
    for device in inputs.domain.devices:
        if device.kind == "video" and not port_io:
            # the summary starts 'video <model>': the model is not an attribute
            model = device.summary.split()[1].rstrip(",") if " " in device.summary else ""
            if model in _VIDEO_MODELS:
                found.append(f"video <model type='{model}'/>")
        elif device.kind == "controller" and device.attrs.get("type") == "usb":
            # UHCI's registers are I/O ports; EHCI, OHCI and xHCI's are memory-mapped.
            # (libvirt writes the model it chose; without one the kind is unknown: not named)
            model = device.attrs.get("model", "")
            if model and ("uhci" in model) == port_io and model != "none":
                found.append(f"USB controller <controller type='usb' model='{model}'/>")
    return found


def _io_rule(rule_id: str, reason: str, label: str, port_io: bool):
    def rule(inputs: Inputs) -> list[Finding]:
        stats = inputs.stats
        if stats is None or stats.exits is None or not stats.exits_detail:
            return []
        busiest, where = _busiest(stats, reason)
        if busiest is None or busiest < inputs.limits.io_exits_warning:
            return []
        total = stats.exits[reason]
        devices = _emulated_devices(inputs, port_io)
        evidence = [f"{label} exits {count(total.rate or 0.0)}/s ({where}); "
                    f"{count(total.total)} since start"]
        evidence.append("emulated devices in the XML that exit this way: " + "; ".join(devices) if devices
                        else "no emulated disk, NIC or display in the XML: the guest itself "
                             "polls a device or timer")
        return [Finding(
            rule_id, PROBLEM if busiest >= inputs.limits.io_exits_problem else WARNING,
            f"Many {label} exits: devices emulated in QEMU", tuple(evidence),
            "Move the devices named above to virtio (<target bus='virtio'/>, "
            "<model type='virtio'/>, <model type='virtio'/> for video).\n"
            f"Each {label} exit stops the vCPU while QEMU emulates one register access; "
            "virtio batches requests in shared memory.")]

    rule.__name__ = rule_id.replace("-", "_")
    return rule


io_exits = _io_rule("io-exits", "io", "io", port_io=True)
mmio_exits = _io_rule("mmio-exits", "mmio", "mmio", port_io=False)


def ept_faults(inputs: Inputs) -> list[Finding]:
    stats = inputs.stats
    if stats is None or stats.exits is None or not stats.exits_detail \
            or inputs.domain.memory.uses_hugepages:
        return []
    reason = "pf_taken" if "pf_taken" in stats.exits else "pf_fixed"
    busiest, where = _busiest(stats, reason)
    if busiest is None or busiest < inputs.limits.ept_faults_warning:
        return []
    memory = inputs.domain.memory.current_kib or 0
    pages = -(-memory // 2048)
    return [Finding(
        "ept-faults", WARNING, "Many EPT page faults, memory not on huge pages",
        (f"{reason} {count(stats.exits[reason].rate or 0.0)}/s ({where})",
         "no <memoryBacking><hugepages/></memoryBacking>"),
        "<memoryBacking><hugepages/></memoryBacking>  and on the host "
        f"`sysctl vm.nr_hugepages={pages}` (2 MiB pages for {count(memory / 1024)} MiB)\n"
        "Each fault maps 4 KiB of guest memory; a 2 MiB page maps 512 times as much per "
        "fault and needs far fewer TLB entries.")]


def vcpu_steal(inputs: Inputs) -> list[Finding]:
    stats = inputs.stats
    if stats is None:
        return []
    steals = [(v.index, v.steal_percent) for v in stats.vcpus if v.steal_percent is not None]
    if not steals:
        return []
    index, worst = max(steals, key=lambda item: item[1] or 0.0)
    if worst is None or worst < inputs.limits.steal_warning:
        return []
    over = [f"vCPU{i} {s:.1f}%" for i, s in steals if s is not None and s >= inputs.limits.steal_warning]
    evidence = [f"steal (vcpu.N.delay): {', '.join(over)}"]
    host = inputs.host
    if host and host.node and host.running_vcpus is not None:
        evidence.append(f"host has {host.node.cpus} CPUs; {host.running_vms} running VMs "
                        f"have {host.running_vcpus} vCPUs")
    return [Finding(
        "vcpu-steal", PROBLEM if worst >= inputs.limits.steal_problem else WARNING,
        f"vCPUs wait for host CPUs (steal up to {worst:.1f}%)", tuple(evidence),
        "Give this or the other busy VMs fewer vCPUs, pin busy VMs to separate host CPUs "
        "(<cputune><vcpupin vcpu='0' cpuset='2'/>), or move VMs to another host.\n"
        "Steal is time a runnable vCPU waits for the host to schedule it: the guest simply "
        "runs slower, and its locks are held longer.")]


RULES = (vcpu_steal, io_exits, mmio_exits, ept_faults)
