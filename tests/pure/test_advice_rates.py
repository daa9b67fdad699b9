"""The advice rules on rates and on the host: DomainStats made by rates.compute from samples
of a real KVM guest's record (benchmarks/kvm_record.json) moved on by known amounts, and host
facts built by hand. Plus the engine: order, the one note of what was not checked."""

from __future__ import annotations

import json
from pathlib import Path

from kvmtui.virt.advice import INFO, NOT_CHECKED, PROBLEM, WARNING, HostFacts, worst
from kvmtui.virt.models import DomainKey, DomainState, ExitCounts, RawSample
from kvmtui.virt.perf.rates import compute
from kvmtui.virt.perf.records import parse_record
from tests.pure.test_advice_rules import LINUX, WINDOWS, edit, features, found, node

REAL = json.loads((Path(__file__).resolve().parents[2] / "benchmarks" / "kvm_record.json")
                  .read_text())
KEY = DomainKey("qemu:///system", "a1b2c3d4-0000-4000-8000-0000000a0001")
RUNNING = DomainState.RUNNING


def tick(per_second: dict[str, list[int]] | None = None, steal_ms: list[int] | None = None,
         dt: float = 2.0):
    """One tick's stats: the real record, then `dt` seconds later with each vCPU's counter
    (kernel names: io_exits, pf_taken…) moved by its rate, and steal (vcpu.N.delay) by
    `steal_ms` per second."""
    after = dict(REAL)
    for stat, rates in (per_second or {}).items():
        for i, rate in enumerate(rates):
            after[f"vcpu.{i}.{stat}.sum"] += int(rate * dt)
            if stat.endswith("_exits"):   # every exit is counted in the total too
                after[f"vcpu.{i}.exits.sum"] += int(rate * dt)
    for i, ms in enumerate(steal_ms or []):
        after[f"vcpu.{i}.delay"] += int(ms * 1_000_000 * dt)
    before = parse_record(KEY, "win-slow", 7, REAL, 100.0, detail=True)
    return compute(before, parse_record(KEY, "win-slow", 7, after, 100.0 + dt, detail=True))


def running(xml: str, stats, host: HostFacts | None = None):
    return found(xml, stats=stats, host=host, state=RUNNING)


# -- exits -----------------------------------------------------------------------------------

def test_io_exits_name_the_busiest_vcpu_and_the_port_io_devices():
    f = running(WINDOWS, tick({"io_exits": [9_100, 3_300]}))["io-exits"]
    assert f.severity == WARNING
    total = REAL["vcpu.0.io_exits.sum"] + REAL["vcpu.1.io_exits.sum"] + 2 * 12_400
    assert f.evidence == (
        f"io exits 12,400/s (vCPU0 9,100/s); {total:,} since start",
        "emulated devices in the XML that exit this way: disk hda <target bus='ide'/>; "
        "NIC 52:54:00:aa:00:02 <model type='rtl8139'/>")


def test_io_exits_past_fifty_thousand_on_one_vcpu_are_a_problem():
    assert running(WINDOWS, tick({"io_exits": [60_000, 0]}))["io-exits"].severity == PROBLEM


def test_io_exits_below_the_threshold_say_nothing():
    assert "io-exits" not in running(WINDOWS, tick({"io_exits": [4_000, 4_000]}))


def test_mmio_exits_name_ahci_e1000e_usb_and_video():
    f = running(WINDOWS, tick({"mmio_exits": [500, 7_000]}))["mmio-exits"]
    assert f.evidence[0].startswith("mmio exits 7,500/s (vCPU1 7,000/s); ")
    assert f.evidence[1] == (
        "emulated devices in the XML that exit this way: disk sda <target bus='sata'/>; "
        "NIC 52:54:00:aa:00:01 <model type='e1000e'/>; "
        "USB controller <controller type='usb' model='qemu-xhci'/>; video <model type='qxl'/>")


def test_a_uhci_usb_controller_is_named_for_io_exits_not_mmio():
    uhci = WINDOWS.replace("model='qemu-xhci'", "model='piix3-uhci'")
    assert uhci != WINDOWS
    io = running(uhci, tick({"io_exits": [9_100, 3_300]}))["io-exits"]
    mmio = running(uhci, tick({"mmio_exits": [500, 7_000]}))["mmio-exits"]
    assert io.evidence[1].endswith(
        "; USB controller <controller type='usb' model='piix3-uhci'/>")  # its registers: ports
    assert "USB" not in mmio.evidence[1]


def test_mmio_exits_on_an_all_virtio_vm_blame_the_guest_not_a_device():
    f = running(LINUX, tick({"mmio_exits": [6_000, 0]}))["mmio-exits"]
    assert "no emulated disk, NIC or display" in f.evidence[1]


def test_debugfs_sums_are_shared_out_over_the_vcpus():
    def raw(at: float, io: int) -> RawSample:
        return RawSample(KEY, "win-slow", RUNNING, 7, at, cpu_time_ns=1,
                         vcpus=REAL_VCPUS, exits=ExitCounts("debugfs", {"total": io, "io": io}))
    stats = compute(raw(10.0, 1_000), raw(11.0, 13_000))
    f = running(WINDOWS, stats)["io-exits"]
    assert f.evidence[0] == "io exits 12,000/s (6,000/s per vCPU over 2); 13,000 since start"


REAL_VCPUS = parse_record(KEY, "k", 7, REAL, 0.0).vcpus


def test_no_exit_rates_without_detail_or_on_a_first_sample():
    totals_only = compute(parse_record(KEY, "k", 7, REAL, 0.0),
                          parse_record(KEY, "k", 7, REAL, 1.0))
    assert not totals_only.exits_detail
    assert not {"io-exits", "mmio-exits", "ept-faults"} & set(running(WINDOWS, totals_only))
    first = compute(None, parse_record(KEY, "k", 7, REAL, 0.0, detail=True))
    assert not {"io-exits", "mmio-exits", "ept-faults"} & set(running(WINDOWS, first))


# -- EPT faults and huge pages ---------------------------------------------------------------

def test_ept_faults_without_huge_pages_ask_for_them_with_the_page_count():
    f = running(WINDOWS, tick({"pf_taken": [3_000, 1_000]}))["ept-faults"]
    assert f.evidence == ("pf_taken 4,000/s (vCPU0 3,000/s)",
                          "no <memoryBacking><hugepages/></memoryBacking>")
    assert "vm.nr_hugepages=4096" in f.fix   # 8 GiB in 2 MiB pages


def test_ept_faults_on_huge_pages_or_few_of_them_say_nothing():
    assert "ept-faults" not in running(LINUX, tick({"pf_taken": [30_000, 0]}))
    assert "ept-faults" not in running(WINDOWS, tick({"pf_taken": [1_500, 1_500]}))


# -- steal -----------------------------------------------------------------------------------

def test_steal_names_the_vcpus_and_the_overcommit_that_explains_it():
    host = HostFacts(node=node(cpus=4), running_vms=3, running_vcpus=12)
    f = running(LINUX, tick(steal_ms=[230, 40]), host)["vcpu-steal"]
    assert f.severity == WARNING and f.title.endswith("(steal up to 23.0%)")
    assert f.evidence == ("steal (vcpu.N.delay): vCPU0 23.0%",
                          "host has 4 CPUs; 3 running VMs have 12 vCPUs")


def test_steal_past_thirty_percent_is_a_problem_and_below_ten_nothing():
    assert running(LINUX, tick(steal_ms=[50, 350]))["vcpu-steal"].severity == PROBLEM
    assert "vcpu-steal" not in running(LINUX, tick(steal_ms=[90, 90]))


# -- host ------------------------------------------------------------------------------------

def test_a_host_without_ept_is_a_problem_for_kvm_guests():
    f = found(WINDOWS, host=HostFacts(node=node(), virt=features(ept=False)))["host-no-ept"]
    assert f.severity == PROBLEM
    assert f.evidence == ("this machine: CPU flags list vmx but neither ept nor npt",)
    assert "host-no-ept" not in found(WINDOWS, host=HostFacts(node=node(), virt=features()))


def test_a_host_without_vpid_is_a_warning():
    f = found(WINDOWS, host=HostFacts(node=node(), virt=features(vpid=False)))["host-no-vpid"]
    assert f.severity == WARNING
    assert "host-no-vpid" not in found(WINDOWS, host=HostFacts(node=node(), virt=features()))


def test_unknown_ept_says_so_once_and_flags_nothing():
    remote = features(ept=None, vpid=None, source="libvirt capabilities")
    got = found(WINDOWS, host=HostFacts(node=node(), virt=remote))
    assert not {"host-no-ept", "host-no-vpid"} & set(got)
    assert got[NOT_CHECKED].evidence == ("host EPT/NPT and VPID: unknown (libvirt capabilities)",)


def test_more_vcpus_than_host_cpus_is_a_problem():
    f = found(WINDOWS, host=HostFacts(node=node(cpus=4)))["vcpus-exceed-host"]
    assert f.evidence == ("<vcpu>8</vcpu>; host kvm1 has 4 CPUs",)
    assert "vcpus-exceed-host" not in found(WINDOWS, host=HostFacts(node=node(cpus=8)))


def test_overcommit_is_told_for_a_running_vm_only():
    host = HostFacts(node=node(cpus=4), running_vms=3, running_vcpus=12)
    f = running(LINUX, None, host)["host-overcommit"]
    assert f.severity == INFO
    assert f.evidence == ("host has 4 CPUs; 3 running VMs have 12 vCPUs",)
    assert "host-overcommit" not in found(LINUX, host=host)   # shut off
    fits = HostFacts(node=node(cpus=16), running_vms=2, running_vcpus=12)
    assert "host-overcommit" not in running(LINUX, None, fits)


def test_vcpus_beyond_one_numa_node_without_pinning():
    host = HostFacts(node=node(cpus=8, numa_nodes=2))
    f = running(WINDOWS, None, host)["numa-unpinned"]
    assert f.evidence == ("host has 2 NUMA nodes of 4 CPUs",
                          "<vcpu placement='static'>8</vcpu> with no <vcpupin>, no cpuset and "
                          "no <numatune>")


def test_pinned_small_or_single_node_vms_need_no_numa_advice():
    two_nodes = HostFacts(node=node(cpus=8, numa_nodes=2))
    assert "numa-unpinned" not in running(LINUX, None, two_nodes)        # pinned
    assert "numa-unpinned" not in running(WINDOWS, None, HostFacts(node=node(cpus=8)))
    small = edit(WINDOWS, ">8</vcpu>", ">4</vcpu>")
    assert "numa-unpinned" not in running(small, None, two_nodes)
    tuned = edit(WINDOWS, "  <os>", "  <numatune><memory mode='strict' nodeset='0'/>"
                                    "</numatune>\n  <os>")
    assert "numa-unpinned" not in running(tuned, None, two_nodes)


# -- the engine ------------------------------------------------------------------------------

def test_findings_come_worst_first():
    host = HostFacts(node=node(cpus=4), virt=features(), running_vms=3, running_vcpus=12)
    findings = list(running(WINDOWS, tick({"io_exits": [6_000, 0]}, [120, 0]), host).values())
    ranks = [("problem", "warning", "info").index(f.severity) for f in findings]
    assert ranks == sorted(ranks) and ranks[0] == 0 and ranks[-1] == 2
    warnings = [f.id for f in findings if f.severity == WARNING]
    assert warnings[:2] == ["vcpu-steal", "io-exits"]   # measured now, before the XML's
    assert worst(findings) == PROBLEM and worst([]) is None


def test_a_running_vm_without_rates_gets_one_note_for_everything_not_checked():
    got = running(WINDOWS, None)
    assert got[NOT_CHECKED].evidence == ("exit rates and steal: not sampled",
                                         "host: CPU count, NUMA and guest types not read",
                                         "host EPT/NPT and VPID: unknown")
    no_counters = compute(None, RawSample(KEY, "k", RUNNING, 7, 1.0,
                                          exits_unavailable_reason="no counters here"))
    assert running(WINDOWS, no_counters)[NOT_CHECKED].evidence[0] == \
        "exit rates: no counters here"
    first = compute(None, parse_record(KEY, "k", 7, REAL, 0.0, detail=True))
    assert running(WINDOWS, first)[NOT_CHECKED].evidence[0] == \
        "exit rates: one sample only, a rate needs two"


def test_nothing_is_noted_when_everything_was_checked_or_the_vm_is_off():
    host = HostFacts(node=node(), virt=features(), running_vms=1, running_vcpus=8)
    assert NOT_CHECKED not in running(WINDOWS, tick(steal_ms=[1, 1]), host)
    assert NOT_CHECKED not in found(WINDOWS, host=host)   # shut off: nothing to sample
