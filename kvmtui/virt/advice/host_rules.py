"""Rules on the VM against its host: hardware virtualization features, CPUs, NUMA."""

from __future__ import annotations

from kvmtui.virt.advice.model import INFO, PROBLEM, WARNING, Finding, Inputs

_KVM = "kvm"


def _virt(inputs: Inputs):
    return inputs.host.virt if inputs.host else None


def host_without_ept(inputs: Inputs) -> list[Finding]:
    virt = _virt(inputs)
    # None: not known (a remote host's /proc is not ours to read): the note says so
    if inputs.domain.overview.hypervisor != _KVM or virt is None \
            or virt.cpu_extension is None or virt.second_level_paging is not False:
        return []
    return [Finding(
        "host-no-ept", PROBLEM, "Host CPU without EPT/NPT: shadow page tables",
        (f"{virt.source}: CPU flags list {virt.cpu_extension} but neither ept nor npt",),
        "Enable EPT/NPT in the host's firmware, or check `cat /sys/module/kvm_intel/parameters/"
        "ept` (kvm_amd: npt) and load the module with ept=1 / npt=1.\n"
        "Without second-level paging KVM keeps shadow page tables: every guest page-table "
        "change and context switch exits, which can cost a third of the guest's speed.")]


def host_without_vpid(inputs: Inputs) -> list[Finding]:
    virt = _virt(inputs)
    if inputs.domain.overview.hypervisor != _KVM or virt is None \
            or virt.cpu_extension != "vmx" or virt.vpid is not False:
        return []
    return [Finding(
        "host-no-vpid", WARNING, "Host CPU without VPID: the TLB is flushed on every exit",
        (f"{virt.source}: CPU flags list vmx but not vpid",),
        "Enable VPID in the host's firmware if it offers it; check "
        "`cat /sys/module/kvm_intel/parameters/vpid`.\n"
        "VPID tags TLB entries per vCPU, so a VM exit and entry keep them; without it each "
        "exit flushes the TLB and the guest refills it from its page tables.")]


def vcpus_exceed_host(inputs: Inputs) -> list[Finding]:
    node = inputs.host.node if inputs.host else None
    cpu = inputs.domain.cpu
    if node is None or node.cpus <= 0 or cpu.current <= node.cpus:
        return []
    return [Finding(
        "vcpus-exceed-host", PROBLEM, "More vCPUs than the host has CPUs",
        (f"<vcpu>{cpu.current}</vcpu>; host {node.hostname} has {node.cpus} CPUs",),
        f"<vcpu placement='static'>{node.cpus}</vcpu>  (at most the host's CPUs; fewer "
        "is better)\n"
        "vCPUs beyond the host's CPUs can never all run at once: a vCPU holding a guest "
        "lock gets descheduled and the others spin waiting for it.")]


def host_overcommit(inputs: Inputs) -> list[Finding]:
    host = inputs.host
    node = host.node if host else None
    if host is None or node is None or host.running_vcpus is None or not inputs.running \
            or node.cpus <= 0 or host.running_vcpus <= node.cpus:
        return []
    return [Finding(
        "host-overcommit", INFO, "The host's CPUs are overcommitted",
        (f"host has {node.cpus} CPUs; {host.running_vms} running VMs have "
         f"{host.running_vcpus} vCPUs",),
        "Fine while the VMs are mostly idle; when they are busy their vCPUs wait for a host "
        "CPU (steal: vcpu.N.delay). Give busy VMs fewer vCPUs, or move some VMs to another "
        "host.")]


def numa_unpinned(inputs: Inputs) -> list[Finding]:
    node = inputs.host.node if inputs.host else None
    cpu = inputs.domain.cpu
    if node is None or node.numa_nodes <= 1 or not inputs.running:
        return []
    pinned = any(p.what.startswith("vcpu") for p in cpu.pins)
    if pinned or cpu.cpuset or cpu.placement == "auto" or inputs.hints.numatune:
        return []
    per_node = max(node.cpus // node.numa_nodes, 1)
    # within one node's CPUs the host's scheduler keeps a VM together well enough (and
    # automatic NUMA balancing moves its memory after it); beyond, it must span
    if cpu.current <= per_node:
        return []
    return [Finding(
        "numa-unpinned", WARNING, "vCPUs span NUMA nodes without pinning",
        (f"host has {node.numa_nodes} NUMA nodes of {per_node} CPUs",
         f"<vcpu placement='{cpu.placement or 'static'}'>{cpu.current}</vcpu> with no "
         "<vcpupin>, no cpuset and no <numatune>"),
        "<cpu ...><numa><cell id='0' cpus='0-N' memory='...'/><cell id='1' .../></numa></cpu>"
        "  with <cputune><vcpupin .../> per node and <numatune>, or fewer vCPUs than one "
        "node has\n"
        "The VM needs more CPUs than one node has: unpinned, its vCPUs and memory land on "
        "any node and cache misses cross the interconnect; a guest shown the host's NUMA "
        "layout keeps threads near their memory.")]


RULES = (host_without_ept, host_without_vpid, vcpus_exceed_host, host_overcommit, numa_unpinned)
