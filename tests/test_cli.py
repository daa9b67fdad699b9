"""The command line as a user meets it: errors are one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

KVMTUI = [sys.executable, "-m", "kvmtui"]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*KVMTUI, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def test_missing_node_file_is_one_line_with_uri_reason_and_hint(tmp_path):
    uri = f"test://{tmp_path}/no-such-fleet.xml"
    result = run("-c", uri)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"kvmtui: cannot connect to {uri}: ")
    assert "no-such-fleet.xml" in lines[0]  # libvirt's own reason names the file
    assert "--demo" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_no_daemon_hint_says_how_to_start_it(tmp_path):
    uri = f"qemu:///system?socket={tmp_path}/absent-sock"
    result = run("-c", uri)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "absent-sock" in line and "systemctl start libvirtd" in line


def test_default_uri_comes_from_the_environment(tmp_path):
    uri = f"test://{tmp_path}/env-fleet.xml"
    result = run(env={"LIBVIRT_DEFAULT_URI": uri})
    assert result.returncode == 1
    assert f"cannot connect to {uri}:" in result.stderr


def test_unknown_driver_is_one_line():
    result = run("-c", "nosuchdriver:///x")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("kvmtui: cannot connect to nosuchdriver:///x: ")


@pytest.mark.parametrize("args", [["--shutdown-timeout", "soon"], ["--shutdown-timeout", "0"],
                                  ["--bogus"]])
def test_bad_arguments_exit_2_with_usage(args):
    result = run(*args)
    assert result.returncode == 2
    assert "usage: kvmtui" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_names_kvmtui_and_libvirt():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("kvmtui 0.")
    assert "libvirt 9." in result.stdout or "libvirt 1" in result.stdout


def test_help_lists_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in ("-c URI", "--readonly", "--demo", "--version", "--shutdown-timeout"):
        assert option in result.stdout


def test_console_script_is_installed():
    bindir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bindir, "kvmtui"), "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("kvmtui ")
