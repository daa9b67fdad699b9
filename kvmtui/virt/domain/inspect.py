"""Parsed domain models as JSON, for `kvmtui inspect --json` (schema in the README)."""

from __future__ import annotations

import dataclasses
from typing import Any

from kvmtui.virt.domain.details import DomainDetails


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def domain_json(uri: str, state: str, details: DomainDetails, host: str = "localhost") -> dict:
    ov, cpu, mem = details.overview, details.cpu, details.memory
    topo = cpu.topology
    return {
        "uri": uri,
        "name": ov.name,
        "uuid": ov.uuid,
        "state": state,
        "title": ov.title,
        "description": ov.description,
        "hypervisor": ov.hypervisor,
        "os": {"type": ov.os_type, "arch": ov.arch, "machine": ov.machine,
               "firmware": _plain(ov.firmware), "boot_order": list(ov.boot_order),
               "kernel": ov.kernel, "initrd": ov.initrd, "cmdline": ov.cmdline},
        "on_poweroff": ov.on_poweroff,
        "on_reboot": ov.on_reboot,
        "on_crash": ov.on_crash,
        "emulator": ov.emulator,
        "vcpu": {
            "current": cpu.current,
            "max": cpu.maximum,
            "placement": cpu.placement,
            "cpuset": cpu.cpuset,
            "topology": {"sockets": topo.sockets, "dies": topo.dies, "clusters": topo.clusters,
                         "cores": topo.cores, "threads": topo.threads, "implied": topo.implied},
        },
        "cpu": {"mode": cpu.mode, "model": cpu.model, "fallback": cpu.fallback,
                "vendor": cpu.vendor, "match": cpu.match, "check": cpu.check,
                "features": [{"name": f.name, "policy": f.policy} for f in cpu.features],
                "pins": [{"what": p.what, "cpuset": p.cpuset} for p in cpu.pins],
                "iothreads": cpu.iothreads, "numa": _plain(cpu.numa_cells)},
        "memory_kib": mem.current_kib,
        "max_memory_kib": mem.max_kib,
        "memory": _plain(mem),
        "disks": [{"device": d.device, "type": d.type, "bus": d.bus, "target": d.target,
                   "source": d.source, "format": d.format, "readonly": d.readonly,
                   "shareable": d.shareable, "cache": d.cache, "io": d.io,
                   "discard": d.discard, "boot_order": d.boot_order,
                   "backing_chain": _plain(d.backing_chain)} for d in details.disks],
        "interfaces": [{"type": n.type, "mac": n.mac, "model": n.model, "source": n.source,
                        "target": n.target, "mode": n.mode, "link_state": n.link_state,
                        "boot_order": n.boot_order} for n in details.nics],
        "hyperv": {f.name: (f.value if f.value is not None else True)
                   for f in cpu.hyperv if f.on},
        "graphics": [{"type": g.type, "summary": g.describe(), "listen": g.listen,
                      "listen_type": g.listen_type, "port": g.port, "autoport": g.autoport,
                      "tls_port": g.tls_port, "socket": g.socket, "display": g.display,
                      "viewer": g.viewer(host)} for g in details.graphics],
        "channels": [{"type": c.type, "target_type": c.target_type, "name": c.target_name,
                      "purpose": c.purpose, "state": c.state} for c in details.channels],
        "consoles": _plain(details.consoles),
        "devices": [{"kind": d.kind, "summary": d.summary, "known": d.known}
                    for d in details.devices],
        "other": list(details.other),
    }
