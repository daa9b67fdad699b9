"""`kvmtui top`: per-domain samples for scripts, in JSON and CSV, on libvirt's test driver.

The test driver reports only each domain's state (no CPU, I/O or KVM counters), so these tests
check the shape, the states libvirt reports, and the stated reason for missing exits; the real
numbers are checked against `virsh domstats` in tests/integration/test_performance_real.py.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import libvirt
import pytest

from kvmtui.virt.models import DomainState
from kvmtui.virt.perf.exitnames import CSV_REASONS
from tests.helpers import copy_demo_fleet

FIELDS = {"name", "uuid", "uri", "state", "cpu_percent", "vcpus", "memory_kib",
          "memory_used_kib", "memory_used_source", "disk_read_bytes_per_s",
          "disk_write_bytes_per_s", "net_rx_bytes_per_s", "net_tx_bytes_per_s", "exits",
          "exits_source", "exits_unavailable_reason", "exits_fallback_reason"}


def top(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kvmtui", "top", *args], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_once_json_lists_every_domain_with_libvirts_state(tmp_path):
    uri = copy_demo_fleet(tmp_path)
    result = top("-c", uri, "--once", "--json")
    assert result.returncode == 0, result.stderr
    (sample,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert sample["iteration"] == 1
    conn = libvirt.openReadOnly(uri)
    try:
        expected = {d.name(): DomainState.coerce(d.state()[0]).word
                    for d in conn.listAllDomains(0)}
    finally:
        conn.close()
    assert {d["name"]: d["state"] for d in sample["domains"]} == expected
    for domain in sample["domains"]:
        assert set(domain) == FIELDS
        assert domain["uri"] == uri
        assert domain["exits"] is None and domain["exits_source"] is None
    win10 = next(d for d in sample["domains"] if d["name"] == "win10")
    assert win10["exits_unavailable_reason"] == "libvirt's test driver has no KVM exit counters"
    vm1 = next(d for d in sample["domains"] if d["name"] == "vm1")
    assert vm1["exits_unavailable_reason"] == "vm1 is not running"


def test_iterations_print_one_line_each_and_csv_has_one_header(tmp_path):
    uri = copy_demo_fleet(tmp_path)
    result = top("-c", uri, "--iterations", "2", "--interval", "0.2", "--csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["iteration"] for r in rows].count("1") == 17
    assert [r["iteration"] for r in rows].count("2") == 17
    assert {f"exits_{r}_rate" for r in CSV_REASONS} <= set(rows[0])
    assert {r["name"] for r in rows} >= {"win10", "vm1", "build-smp"}


def test_bad_arguments_are_one_line_and_nothing_runs(tmp_path):
    result = top("--once", "--iterations", "3")
    assert result.returncode == 2 and "not allowed with argument" in result.stderr
    result = top("--iterations", "0")
    assert result.returncode == 2 and "it must be 1 or more" in result.stderr
    result = top("-c", f"test://{tmp_path}/missing.xml", "--once")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot connect" in result.stderr
    assert "Traceback" not in result.stderr


# -- issue #10: --interval is bounded, and the output is always valid JSON ---------------------

def strict_json(line: str):
    """json.loads that refuses NaN and Infinity, as every JSON parser but Python's does."""
    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")
    return json.loads(line, parse_constant=refuse)


@pytest.mark.parametrize("value", ["nan", "inf", "1e308", "-inf", "0", "1e-9", "3601", "soon"])
def test_an_out_of_range_interval_is_one_error_line_naming_the_range(value):
    result = top("--demo", f"--interval={value}", "--iterations", "2", "--json")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines()
               if ln.strip() and not ln.startswith(("usage:", " "))]
    assert line.startswith("kvmtui top: error: argument --interval: ")
    assert value in line and "give 0.2 to 3600" in line
    assert result.stdout == ""  # nothing was sampled


def test_json_samples_are_strict_json_with_the_interval_kept(tmp_path):
    uri = copy_demo_fleet(tmp_path)
    result = top("-c", uri, "--iterations", "2", "--interval", "0.2", "--json")
    assert result.returncode == 0, result.stderr
    samples = [strict_json(line) for line in result.stdout.splitlines()]
    assert [s["iteration"] for s in samples] == [1, 2]
    assert {s["interval"] for s in samples} == {0.2}


def test_top_samples_every_domain_with_every_exit_reason():
    """The console reads every reason only for the VMs on screen; `top` prints them all, for
    every domain of every host, so its sampler parses every record in detail."""
    import json as json_
    from pathlib import Path

    from kvmtui.cli.top import build_parser, make_sampler, sample_json
    from kvmtui.virt.perf.rates import RateTracker

    record = json_.loads((Path(__file__).resolve().parents[2] / "benchmarks" / "kvm_record.json")
                         .read_text())
    reasons = {name.split(".")[2] for name in record
               if name.startswith("vcpu.") and name.endswith(".sum")}
    sampler = make_sampler([], build_parser().parse_args(["--once"]))
    uri = "qemu+ssh://root@kvm1/system"
    tracker = RateTracker()
    for at in (1.0, 2.0):
        stats = tracker.update(sampler.samples(uri, [("k1", 3, "0b5a5ba2-9ff5-4d47-8bd5-"
                                                      "3a3c7ab0f0f1", record)], at))
    (st,) = stats.values()
    row = sample_json(uri, st, None)
    assert len(row["exits"]) == len(reasons) >= 40  # the recorded guest has 40
    assert row["exits"]["total"]["total"] == record["vcpu.0.exits.sum"] + record["vcpu.1.exits.sum"]
    assert row["exits"]["io"] == {"total": record["vcpu.0.io_exits.sum"]
                                  + record["vcpu.1.io_exits.sum"], "rate": 0.0}
