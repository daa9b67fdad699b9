"""`kvmtui advise` on a real KVM guest in the private daemon: the evidence quotes the figures
of the very tick it was computed from.

The firmware-only guest has no <cpu> and no guest agent, so its live XML earns fixed findings;
its exit rates are low, so the rate rules are run again with every threshold at zero, on a
paused guest whose counters stand still: the totals they quote must equal `virsh domstats`
read afterwards, exactly."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
from xml.etree import ElementTree as ET

import libvirt

from kvmtui.virt.advice import Limits, advise
from kvmtui.virt.advice.reading import read_host, read_inputs
from kvmtui.virt.models import DomainKey
from kvmtui.virt.perf.stats import StatsSampler
from tests.integration.test_performance_real import paused_with_exits, virsh_exit_sums

ZERO = Limits(io_exits_warning=0.0, io_exits_problem=1e12, ept_faults_warning=0.0,
              steal_warning=0.0, steal_problem=1e12)


def advise_json(uri: str, name: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "kvmtui", "advise", "-c", uri, name,
                             "--json", "--interval", "0.5"], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    (item,) = json.loads(result.stdout)
    assert item["name"] == name
    return {f["id"]: f for f in item["findings"]}


def since_start(evidence: str) -> int:
    found = re.search(r"; ([\d,]+) since start$", evidence)
    assert found, evidence
    return int(found.group(1).replace(",", ""))


def only_ept_unknown(findings: dict) -> bool:
    """Nothing was left unchecked but, where the CPU shows no vmx or svm flag (nested
    without them, PVM), the host's EPT and VPID."""
    unchecked = findings.get("not-checked", {"evidence": []})["evidence"]
    return all(line.startswith("host EPT/NPT") for line in unchecked)


def test_advise_json_on_a_running_kvm_guest_quotes_its_live_xml(hypervisor, kvm_guest):
    hypervisor.virsh("start", kvm_guest.name)
    findings = advise_json(hypervisor.uri, kvm_guest.name)
    live = ET.fromstring(hypervisor.virsh("dumpxml", kvm_guest.name))
    model = live.findtext("cpu/model")
    assert findings["cpu-model-generic"]["evidence"] == [
        f"<cpu mode='{live.find('cpu').get('mode')}'> <model>{model}</model>"]
    assert "no-guest-agent" in findings
    # a KVM guest with libvirt's counters: its rates and steal were checked (EPT and VPID
    # stay unknown where the CPU shows no vmx or svm flag, as under PVM)
    assert only_ept_unknown(findings)
    after = virsh_exit_sums(hypervisor, kvm_guest.name)
    for rule, reason in (("io-exits", "io"), ("mmio-exits", "mmio")):
        if rule in findings:   # counters only grow: what the tick saw is at most what is now
            assert since_start(findings[rule]["evidence"][0]) <= after[reason]


def _tick_of(hypervisor, name: str):
    conn = libvirt.openReadOnly(hypervisor.uri)
    try:
        sampler = StatsSampler(lambda: [_Opened(conn.getURI(), conn)], interval=0.2,
                               detail_all=True)
        sampler.sample_once()
        time.sleep(0.2)
        (tick,) = sampler.sample_once()
        dom = conn.lookupByName(name)
        stats = tick.stats[DomainKey(conn.getURI(), dom.UUIDString())]
        return read_inputs(dom, stats, read_host(conn, conn.getURI()))
    finally:
        conn.close()


class _Opened:
    def __init__(self, uri: str, conn) -> None:
        self.uri = uri
        self.conn = conn


def test_rate_evidence_equals_virsh_domstats_on_a_paused_guest(hypervisor, kvm_guest):
    paused_with_exits(hypervisor, kvm_guest)
    inputs = dataclasses.replace(_tick_of(hypervisor, kvm_guest.name), limits=ZERO)
    findings = {f.id: f for f in advise(inputs)}
    after = virsh_exit_sums(hypervisor, kvm_guest.name)
    for rule, reason in (("io-exits", "io"), ("mmio-exits", "mmio")):
        first = findings[rule].evidence[0]
        assert first.startswith(f"{reason} exits 0/s (vCPU0 0/s); "), first
        assert since_start(first) == after[reason]
    pf = "pf_taken" if "pf_taken" in after else "pf_fixed"
    assert findings["ept-faults"].evidence[0] == f"{pf} 0/s (vCPU0 0/s)"
    # the CLI on the same paused guest: nothing measured to blame, nothing left unchecked
    cli = advise_json(hypervisor.uri, kvm_guest.name)
    assert not {"io-exits", "mmio-exits", "ept-faults", "vcpu-steal"} & set(cli)
    assert only_ept_unknown(cli)
