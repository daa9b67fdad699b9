"""The advice rules on the VM's definition: each fires on XML that earns it and stays silent
on XML that does not (tests/fixtures/domains/advice/, and edits of them inline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kvmtui.virt.advice import PROBLEM, WARNING, Finding, HostFacts, advise
from kvmtui.virt.advice.model import inputs_from_xml, read_hints
from kvmtui.virt.models import DomainState
from kvmtui.virt.perf.host import NodeFacts, VirtFeatures

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "domains"
WINDOWS = (FIXTURES / "advice" / "windows-emulated.xml").read_text()
LINUX = (FIXTURES / "advice" / "linux-tuned.xml").read_text()
HYPERV_FULL = (FIXTURES / "16-hyperv-full.xml").read_text()


def node(cpus: int = 16, numa_nodes: int = 1, guest_types=("kvm", "qemu")) -> NodeFacts:
    return NodeFacts(
        hostname="kvm1", hypervisor="QEMU 7.2.0", libvirt_version="9.0.0",
        cpu_model="Skylake-Client", cpu_vendor="Intel", arch="x86_64", cpus=cpus, mhz=3000,
        numa_nodes=numa_nodes, sockets=1, cores=cpus, threads=1, memory_kib=64 << 20,
        free_memory_kib=None, guest_types=tuple(guest_types), cpu_features=("vmx",))


def features(ept: bool | None = True, vpid: bool | None = True,
             source: str = "this machine") -> VirtFeatures:
    return VirtFeatures(source=source, cpu_extension="vmx", second_level_paging=ept, vpid=vpid,
                        nested=None, iommu=None, dev_kvm="read-write")


def edit(xml: str, old: str, new: str) -> str:
    assert old in xml, old  # an edit that misses would test nothing
    return xml.replace(old, new)


def found(xml: str, *, host: HostFacts | None = None, stats=None,
          state: DomainState = DomainState.SHUTOFF) -> dict[str, Finding]:
    findings = advise(inputs_from_xml(xml, stats, host, state))
    ids = [f.id for f in findings]
    assert len(ids) == len(set(ids)), ids   # one finding per rule
    return {f.id: f for f in findings}


# -- TCG -------------------------------------------------------------------------------------

def test_tcg_where_the_host_offers_kvm_is_a_problem_naming_both():
    f = found(edit(LINUX, "<domain type='kvm'>", "<domain type='qemu'>"),
              host=HostFacts(node=node()))["tcg"]
    assert f.severity == PROBLEM
    assert f.evidence == ("<domain type='qemu'>: QEMU translates every guest instruction (TCG)",
                          "host kvm1 offers domain types: kvm, qemu")
    assert "<domain type='kvm'>" in f.fix


def test_tcg_on_a_host_without_kvm_is_a_warning_and_kvm_is_silent():
    xml = edit(LINUX, "<domain type='kvm'>", "<domain type='qemu'>")
    assert found(xml, host=HostFacts(node=node(guest_types=("qemu",))))["tcg"].severity == WARNING
    assert "tcg" not in found(LINUX, host=HostFacts(node=node()))


# -- emulated devices ------------------------------------------------------------------------

def test_emulated_disk_buses_are_quoted_and_cdroms_left_out():
    f = found(WINDOWS)["disk-bus-emulated"]
    assert f.severity == WARNING
    assert f.evidence == (
        "<target dev='sda' bus='sata'/> (/var/lib/libvirt/images/win-slow.qcow2)",
        "<target dev='hda' bus='ide'/> (/var/lib/libvirt/images/win-data.img)")
    assert f.title == "Disk on an emulated bus: IDE, SATA (AHCI)"
    assert "bus='virtio'" in f.fix


def test_virtio_disks_and_a_sata_cdrom_give_no_disk_bus_finding():
    assert "disk-bus-emulated" not in found(LINUX)


def test_emulated_nic_models_are_named_with_their_mac():
    f = found(WINDOWS)["nic-model-emulated"]
    assert f.evidence == (
        "<interface type='network'> <mac address='52:54:00:aa:00:01'/> <model type='e1000e'/>",
        "<interface type='bridge'> <mac address='52:54:00:aa:00:02'/> <model type='rtl8139'/>")
    assert "<model type='virtio'/>" in f.fix


def test_a_virtio_nic_gives_no_nic_model_finding():
    assert "nic-model-emulated" not in found(LINUX)


def test_a_virtio_nic_kept_in_qemu_is_told_to_use_vhost():
    f = found(edit(LINUX, "<driver name='vhost' queues='4'/>", "<driver name='qemu'/>"))
    assert f["nic-no-vhost"].evidence == (
        "<interface type='network'> <mac address='52:54:00:aa:00:03'/> <driver name='qemu'/>",)
    assert "nic-no-vhost" not in found(LINUX)


# -- CPU model -------------------------------------------------------------------------------

def test_qemu64_is_a_generic_cpu_model():
    f = found(WINDOWS)["cpu-model-generic"]
    assert f.evidence == ("<cpu mode='custom'> <model>qemu64</model>",)
    assert "host-passthrough" in f.fix


def test_no_cpu_element_under_qemu_means_its_default_model():
    xml = edit(LINUX, LINUX[LINUX.index("  <cpu mode"):LINUX.index("  <clock")], "")
    assert found(xml)["cpu-model-generic"].evidence == (
        "no <cpu> element: QEMU's default model (qemu64) is used",)


def test_host_passthrough_and_named_models_are_not_generic():
    assert "cpu-model-generic" not in found(LINUX)
    named = edit(WINDOWS, "qemu64", "Skylake-Client-IBRS")
    assert "cpu-model-generic" not in found(named)
    # the test driver's domains are no QEMU: no <cpu> there says nothing about qemu64
    bare = (FIXTURES / "32-minimal.xml").read_text()
    assert "cpu-model-generic" not in found(bare)
    assert "cpu-model-generic" in found(edit(bare, "type='test'", "type='kvm'"))


# -- Windows ---------------------------------------------------------------------------------

def test_windows_without_any_enlightenment_is_a_problem_listing_them():
    f = found(WINDOWS)["windows-hyperv"]
    assert f.severity == PROBLEM
    assert f.evidence == ("<libosinfo:os id='http://microsoft.com/win/10'/>",
                          "Hyper-V enlightenments on: none",
                          "missing: hv_relaxed, hv_vapic, hv_spinlocks")
    assert "<spinlocks state='on' retries='8191'/>" in f.fix


def test_windows_missing_some_enlightenments_is_a_warning_naming_those():
    xml = edit(WINDOWS, "<features><acpi/><apic/></features>",
               "<features><acpi/><hyperv mode='custom'><relaxed state='on'/>"
               "<vapic state='on'/></hyperv></features>")
    f = found(xml)["windows-hyperv"]
    assert f.severity == WARNING and f.evidence[-1] == "missing: hv_spinlocks"
    assert "<relaxed" not in f.fix


def test_windows_with_every_enlightenment_and_linux_without_give_nothing():
    assert not {"windows-hyperv", "windows-hypervclock"} & set(found(HYPERV_FULL))
    assert not {"windows-hyperv", "windows-hypervclock"} & set(found(LINUX))
    passthrough = edit(WINDOWS, "<features><acpi/><apic/></features>",
                       "<features><hyperv mode='passthrough'/></features>")
    assert not {"windows-hyperv", "windows-hypervclock"} & set(found(passthrough))


def test_libosinfo_naming_another_os_outweighs_telling_signs():
    xml = edit(WINDOWS, "http://microsoft.com/win/10", "http://debian.org/debian/12")
    assert not {"windows-hyperv", "windows-sockets"} & set(found(xml))


def test_without_libosinfo_a_localtime_clock_and_windows_media_tell_windows():
    start, end = WINDOWS.index("  <metadata>"), WINDOWS.index("  <memory")
    xml = WINDOWS[:start] + WINDOWS[end:]
    assert read_hints(xml).os_id is None
    f = found(xml)["windows-hyperv"]
    assert f.evidence[:2] == ("<clock offset='localtime'> (Windows keeps its clock in local time)",
                              "CD-ROM sdb: /var/lib/libvirt/iso/virtio-win.iso")


def test_windows_without_the_hyperv_clock():
    f = found(WINDOWS)["windows-hypervclock"]
    assert f.evidence[-1] == "no <timer name='hypervclock' present='yes'/> in <clock>"
    assert "<timer name='hypervclock' present='yes'/>" in f.fix


def test_windows_shown_eight_sockets_is_told_to_use_cores():
    f = found(WINDOWS)["windows-sockets"]
    assert f.evidence[-1] == ("<vcpu>8</vcpu> with no <topology>: the guest sees 8 sockets "
                              "of 1 core")
    assert "<topology sockets='1' dies='1' cores='8' threads='1'/>" in f.fix


def test_few_sockets_for_windows_and_many_for_linux_are_fine():
    one_socket = edit(WINDOWS, "<model fallback='forbid'>qemu64</model>",
                      "<model fallback='forbid'>qemu64</model>"
                      "<topology sockets='1' cores='8' threads='1'/>")
    assert "windows-sockets" not in found(one_socket)
    assert "windows-sockets" not in found(LINUX)   # 8 sockets, but not Windows


# -- guest agent, disk cache -----------------------------------------------------------------

def test_no_guest_agent_channel_is_an_info():
    f = found(WINDOWS)["no-guest-agent"]
    assert f.severity == "info"
    assert f.evidence == ("no <channel> with <target type='virtio' "
                          "name='org.qemu.guest_agent.0'/>",)
    assert "no-guest-agent" not in found(LINUX)


def test_writethrough_and_native_io_without_direct_io_are_flagged():
    f = found(WINDOWS)["disk-cache"]
    assert f.evidence == ("<driver cache='writethrough'/> on sda",
                          "<driver io='native' cache='default'/> on hda")


def test_cache_none_with_native_io_is_fine():
    assert "disk-cache" not in found(LINUX)
    assert "disk-cache" in found(edit(LINUX, "cache='none'", "cache='unsafe'"))


# -- the tuned VM ----------------------------------------------------------------------------

def test_a_tuned_linux_vm_on_a_good_host_gets_no_advice_at_all():
    host = HostFacts(node=node(cpus=16, numa_nodes=2), virt=features(), running_vms=1,
                     running_vcpus=8)
    assert found(LINUX, host=host) == {}


@pytest.mark.parametrize("xml", [WINDOWS, LINUX, HYPERV_FULL])
def test_findings_have_the_issue_shape_and_words(xml):
    for f in found(xml, host=HostFacts(node=node(cpus=4))).values():
        shape = f.as_json()
        assert list(shape) == ["id", "severity", "title", "evidence", "fix"]
        assert shape["severity"] in ("info", "warning", "problem")
        assert shape["evidence"] and all(isinstance(e, str) and e for e in shape["evidence"])
        assert shape["fix"].strip()
