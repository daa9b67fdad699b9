"""`kvmtui advise`: findings for scripts, on the demo lab and on a fleet of fixtures."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import copy_demo_fleet, fixture_node, write_fleet

FINDING_KEYS = ["id", "severity", "title", "evidence", "fix"]
TEST_DRIVER_NOTE = "exit rates: libvirt's test driver has no KVM exit counters"


def advise(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kvmtui", "advise", *args],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def as_json(*args: str) -> list[dict]:
    result = advise(*args, "--json", "--interval", "0.2")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def by_id(item: dict) -> dict[str, dict]:
    return {f["id"]: f for f in item["findings"]}


def test_demo_lab_gives_every_domain_in_the_issue_shape():
    results = as_json("--demo")
    assert len(results) == 12
    assert [r["name"] for r in results] == sorted(r["name"] for r in results)
    for item in results:
        assert list(item) == ["name", "uri", "findings"]
        assert item["uri"].startswith("test://")
        for finding in item["findings"]:
            assert list(finding) == FINDING_KEYS
            assert finding["severity"] in ("info", "warning", "problem")
            assert isinstance(finding["evidence"], list) and finding["evidence"]
    win10 = by_id(next(r for r in results if r["name"] == "win10"))
    assert {"disk-bus-emulated", "nic-model-emulated", "windows-sockets"} <= set(win10)
    assert win10["disk-bus-emulated"]["evidence"] == [
        "<target dev='sda' bus='sata'/> (/var/lib/libvirt/images/win10.qcow2)"]
    # win10 has every enlightenment and the Hyper-V clock: nothing to say about them
    assert not {"windows-hyperv", "windows-hypervclock"} & set(win10)


def test_the_test_driver_has_no_rates_so_running_vms_say_so_once_and_off_vms_not_at_all():
    results = {r["name"]: by_id(r) for r in as_json("--demo")}
    rate_rules = {"io-exits", "mmio-exits", "ept-faults", "vcpu-steal"}
    for name, findings in results.items():
        assert not rate_rules & set(findings), name
    assert results["win10"]["not-checked"]["evidence"] == [TEST_DRIVER_NOTE]
    assert "not-checked" not in results["vm1"]          # shut off


def test_fixture_fleet_names_domains_by_name_or_uuid(tmp_path):
    uri = fixture_node(tmp_path, "advice/windows-emulated.xml", "advice/linux-tuned.xml")
    (slow,) = as_json("-c", uri, "win-slow")
    assert slow["name"] == "win-slow" and slow["uri"] == uri
    findings = by_id(slow)
    assert findings["windows-hyperv"]["severity"] == "problem"
    assert findings["windows-hyperv"]["evidence"][0] == \
        "<libosinfo:os id='http://microsoft.com/win/10'/>"
    assert {"disk-bus-emulated", "nic-model-emulated", "cpu-model-generic",
            "windows-hypervclock", "windows-sockets", "disk-cache"} <= set(findings)
    (fast,) = as_json("-c", uri, "a1b2c3d4-0000-4000-8000-0000000a0002")
    assert fast["name"] == "linux-fast"
    assert {f["id"] for f in fast["findings"]} <= {"not-checked", "host-overcommit"}


def test_problems_come_first(tmp_path):
    uri = fixture_node(tmp_path, "advice/windows-emulated.xml")
    (slow,) = as_json("-c", uri)
    order = [("problem", "warning", "info").index(f["severity"]) for f in slow["findings"]]
    assert order == sorted(order) and order[0] == 0


def test_text_output_has_a_header_and_each_finding_indented(tmp_path):
    uri = fixture_node(tmp_path, "advice/windows-emulated.xml")
    result = advise("-c", uri, "--interval", "0.2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"win-slow on {uri}: 1 problem, ")
    assert lines[1] == "  problem  Windows guest without Hyper-V enlightenments"
    assert lines[2] == "      <libosinfo:os id='http://microsoft.com/win/10'/>"
    assert "      fix: <features><hyperv mode='custom'><relaxed state='on'/>" in result.stdout
    assert "  warning  Disk on an emulated bus: IDE, SATA (AHCI)" in lines


def test_unknown_domain_exits_1_with_one_line(tmp_path):
    uri = copy_demo_fleet(tmp_path)
    result = advise("win10", "nosuchvm", "-c", uri, "--json")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"kvmtui advise: no domain named 'nosuchvm' on {uri}\n"


def test_no_running_vm_means_no_wait_for_samples(tmp_path):
    uri = write_fleet(tmp_path / "off.xml", 3, running_every=0)
    # an interval of a minute would be waited for if anything were sampled
    result = advise("-c", uri, "--json", "--interval", "60", timeout=30)
    assert result.returncode == 0, result.stderr
    assert [r["name"] for r in json.loads(result.stdout)] == ["vm0000", "vm0001", "vm0002"]


def test_a_bad_interval_is_refused_by_the_parser():
    result = advise("--demo", "--interval", "0")
    assert result.returncode == 2 and "--interval" in result.stderr
