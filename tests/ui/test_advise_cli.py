"""`kvmtui advise`: findings for scripts, on the demo lab and on a fleet of fixtures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.helpers import copy_demo_fleet, fixture_node, write_fleet

FINDING_KEYS = ["id", "severity", "title", "evidence", "fix"]
TEST_DRIVER_NOTE = "exit rates: libvirt's test driver has no KVM exit counters"


def advise(*args: str, timeout: float = 60,
           columns: int | None = None) -> subprocess.CompletedProcess:
    """`kvmtui advise`, its stdout a pipe (not a terminal): the text is as wide as $COLUMNS
    (`columns`; without it, none: 80)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "kvmtui", "advise", *args],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env)


def as_json(*args: str) -> list[dict]:
    result = advise(*args, "--json", "--interval", "0.2")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def by_id(item: dict) -> dict[str, dict]:
    return {f["id"]: f for f in item["findings"]}


def test_demo_lab_gives_every_domain_in_the_issue_shape():
    results = as_json("--demo")
    assert len(results) == 17
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
    result = advise("-c", uri, "--interval", "0.2", columns=200)   # the long URI on one line
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"win-slow on {uri}: 1 problem, ")
    assert lines[1] == "  problem  Windows guest without Hyper-V enlightenments"
    assert lines[2] == "      <libosinfo:os id='http://microsoft.com/win/10'/>"
    assert "      fix: <features><hyperv mode='custom'><relaxed state='on'/>" in result.stdout
    assert "  warning  Disk on an emulated bus: IDE, SATA (AHCI)" in lines


def demo_text(columns: int | None) -> str:
    result = advise("--demo", "--interval", "0.2", columns=columns)
    assert result.returncode == 0, result.stderr
    return result.stdout


def assert_only_rewrapped(wide: str, narrow: str) -> None:
    """`narrow` is `wide` with only its spaces and line breaks changed, each new break where
    `wide` has a space or between two tags (`><`): no word or tag is cut, none is lost."""
    w = [i for i, c in enumerate(wide) if not c.isspace()]
    n = [i for i, c in enumerate(narrow) if not c.isspace()]
    assert [wide[i] for i in w] == [narrow[i] for i in n], "the words differ"
    for k in range(1, len(n)):
        if "\n" in narrow[n[k - 1] + 1:n[k]] and not wide[w[k - 1] + 1:w[k]]:
            assert wide[w[k - 1]] + wide[w[k]] == "><", \
                f"broken inside {wide[max(w[k] - 30, 0):w[k] + 30]!r}"
    for line in narrow.splitlines():
        assert not re.search(r"<[^<>]*$", line), f"a tag cut at the line's end: {line!r}"


def test_text_is_wrapped_to_columns_at_spaces_keeping_words_tags_and_indents():
    wide, narrow = demo_text(1000), demo_text(60)
    assert max(len(line) for line in wide.splitlines()) > 100     # there is something to wrap
    assert_only_rewrapped(wide, narrow)
    for line in narrow.splitlines():
        if len(line) > 60:
            # only where a word or a tag is longer than any line (a path, a long element):
            # kept whole, never cut
            longest = max(re.findall(r"<[^<>]*>|[^\s<]+", line), key=len)
            assert len(longest) > 60 - 11, line
    # continuation lines keep their paragraph's indent: evidence hangs under its first line,
    # a fix goes on under its text, a title under the title
    win10 = narrow[narrow.index("\nwin10 on ") + 1:].split("\n\n")[0].splitlines()
    title = next(i for i, line in enumerate(win10) if line.startswith("  warning "))
    header = win10[:title]   # its further lines at 4, under none of the findings' columns
    assert all(line.startswith("    ") and line[4] != " " for line in header[1:])
    assert re.fullmatch(r"win10 on test:///\S+: \d+ warnings, \d+ info",
                        " ".join(line.strip() for line in header))
    assert win10[title:title + 3] == [
        "  warning  Disk on an emulated bus: SATA (AHCI)",
        "      <target dev='sda' bus='sata'/>",
        "        (/var/lib/libvirt/images/win10.qcow2)"]
    assert "      fix: <target dev='vda' bus='virtio'/>  (and drop the\n" \
           "           disk's <address> line)\n" in narrow
    assert "      <interface type='bridge'>\n        <mac address='52:54:00:6b:3c:01'/>\n" \
           "        <model type='e1000e'/>\n" in narrow
    assert "  warning  virtio NIC handled in QEMU, not in the kernel\n           (vhost-net)\n" \
        in narrow


def test_text_is_80_columns_when_stdout_is_no_terminal_and_json_is_never_wrapped():
    assert demo_text(None) == demo_text(80)
    as_is = advise("--demo", "--json", "--interval", "0.2", columns=1000)
    narrow = advise("--demo", "--json", "--interval", "0.2", columns=40)
    assert narrow.returncode == 0 and narrow.stdout == as_is.stdout


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
