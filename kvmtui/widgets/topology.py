"""The vCPU topology as a small diagram: sockets → dies → clusters → cores → threads.

vCPU numbers follow QEMU's order (threads vary fastest, then cores, clusters, dies, sockets);
each vCPU shows ● online / ○ offline, its pinning (→ host CPUs) and, for a running VM, the host
CPU it is on now (@N).
"""

from __future__ import annotations

from rich.text import Text

from kvmtui.virt.domain.details import Cpu
from kvmtui.virt.domain.livefacts import VcpuNow
from kvmtui.widgets.formatting import count


def vcpu_online(cpu: Cpu) -> set[int]:
    if cpu.vcpu_slots:
        return {s.id for s in cpu.vcpu_slots if s.enabled}
    return set(range(cpu.current))


def vcpu_pins(cpu: Cpu) -> dict[int, str]:
    pins = {}
    for pin in cpu.pins:
        if pin.what.startswith("vcpu "):
            try:
                pins[int(pin.what.split()[1])] = pin.cpuset
            except ValueError:
                continue
    return pins


def topology_text(cpu: Cpu, now: tuple[VcpuNow, ...] = ()) -> Text:
    topo = cpu.topology
    online = vcpu_online(cpu)
    pins = vcpu_pins(cpu)
    running_on = {v.id: v.host_cpu for v in now}
    out = Text()
    # dies and clusters are named only when there is more than one: most guests have neither
    parts = [count(topo.sockets, "socket")]
    if topo.dies > 1:
        parts.append(count(topo.dies, "die"))
    if topo.clusters > 1:
        parts.append(count(topo.clusters, "cluster"))
    parts += [count(topo.cores, "core"), count(topo.threads, "thread")]
    out.append(f"{' × '.join(parts)} = {count(topo.total, 'vCPU slot')}, {len(online)} online",
               style="bold")
    if topo.implied:
        out.append("  (no <topology>: libvirt gives one socket per vCPU)", style="dim")
    out.append("\n")
    vcpu = 0
    many_cores = topo.cores * topo.clusters > 1
    for socket in range(topo.sockets):
        out.append(f"socket {socket}", style="bold")
        out.append("\n")
        for die in range(topo.dies):
            for cluster in range(topo.clusters):
                for core in range(topo.cores):
                    label = "  "
                    if topo.dies > 1:
                        label += f"die {die} "
                    if topo.clusters > 1:
                        label += f"cluster {cluster} "
                    label += f"core {core}:" if many_cores or topo.threads > 1 else "core:"
                    out.append(label)
                    for _thread in range(topo.threads):
                        out.append(" ")
                        is_online = vcpu in online
                        out.append(f"v{vcpu}", style="bold" if is_online else "dim")
                        out.append("●" if is_online else "○",
                                   style="green" if is_online else "dim")
                        if vcpu in pins:
                            out.append(f"→{pins[vcpu]}", style="cyan")
                        if running_on.get(vcpu) is not None:
                            out.append(f"@{running_on[vcpu]}", style="magenta")
                        vcpu += 1
                    out.append("\n")
    if vcpu < cpu.maximum:
        out.append(f"({count(cpu.maximum - vcpu, 'vCPU')} beyond the topology)\n", style="dim")
    out.append("● online  ○ offline  →pinned host CPUs  @host CPU now", style="dim")
    return out
