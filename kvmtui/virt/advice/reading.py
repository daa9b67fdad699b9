"""What the rules read, gathered through libvirt (blocking calls: run them off the UI thread).
Every call here reads; none changes a VM."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import libvirt

from kvmtui.virt.advice.model import HostFacts, Inputs, inputs_from_xml
from kvmtui.virt.models import DomainState, DomainStats
from kvmtui.virt.perf.host import local_virt_features, node_facts, remote_virt_features
from kvmtui.virt.perf.stats import is_local

_RUNS = (DomainState.RUNNING, DomainState.BLOCKED)   # paused vCPUs take no host CPU

# What worst_of_domains is given to reach a connection's handle: Connection.using, which keeps
# it open for a block.
Use = Callable[[], AbstractContextManager[libvirt.virConnect]]


def read_host(conn: libvirt.virConnect, uri: str) -> HostFacts:
    """Node facts, virtualization features and the running VMs' vCPUs of one connection.

    The features come from this machine's /proc and /sys for a local URI, from libvirt's
    capabilities for a remote one (EPT and VPID then stay unknown), and not at all from the
    test driver, which has no hardware."""
    try:
        node = node_facts(conn)
    except libvirt.libvirtError:
        node = None
    if is_local(uri):
        virt = local_virt_features()
    elif node is not None and not uri.startswith("test:"):
        virt = remote_virt_features(node)
    else:
        virt = None
    vms = vcpus = 0
    try:
        for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            state, _max_mem, _mem, nr_vcpus, _cpu_time = dom.info()
            if DomainState.coerce(state) in _RUNS:
                vms += 1
                vcpus += nr_vcpus
    except libvirt.libvirtError:
        return HostFacts(node, virt)
    return HostFacts(node, virt, vms, vcpus)


def read_inputs(dom: libvirt.virDomain, stats: DomainStats | None,
                host: HostFacts | None) -> Inputs:
    """One domain's inputs: its live XML and state, with a tick's stats and its host."""
    state = DomainState.coerce(dom.state()[0])
    return inputs_from_xml(dom.XMLDesc(0), stats, host, state)


def worst_of_domains(use: Use, uri: str,
                     uuids: list[str]) -> Iterator[tuple[str, str | None]]:
    """(uuid, worst severity or None) of each domain, from what needs no live figures: its XML
    and its host (read once). For the list's mark: the rates are only sampled in detail for
    the VM on `x`. A domain that went away meanwhile is skipped.

    `use` (Connection.using) gives the connection's handle for a few calls at a time and
    raises libvirtError once it is not connected: a reconnect closes the old handle, after
    the calls in flight on it, so no handle is held across the loop, nor while the rules run.
    The loop ends when the connection goes."""
    from kvmtui.virt.advice.engine import NOT_CHECKED, advise, worst

    with use() as conn:
        host = read_host(conn, uri)
    for uuid in uuids:
        try:
            with use() as conn:
                dom = conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError:
            if not _connected(use):
                return
            continue  # undefined meanwhile
        try:
            # calls on a domain need no hold: it keeps its connection alive after a close
            inputs = read_inputs(dom, None, host)
        except libvirt.libvirtError:
            continue
        # what could not be checked here (the rates) is `x`'s to say, not the list's
        findings = [f for f in advise(inputs) if f.id != NOT_CHECKED]
        yield uuid, worst(findings)


def _connected(use: Use) -> bool:
    try:
        with use():
            return True
    except libvirt.libvirtError:
        return False
