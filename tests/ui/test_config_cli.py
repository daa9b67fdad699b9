"""The config file from the command line: a broken file is one line naming the file and the
line, and nothing is drawn; its settings are the options' defaults; its hosts are opened with
their names unless -c or --demo says otherwise."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path

import pytest

from kvmtui.cli.main import build_parser, load_settings, resolve_hosts
from kvmtui.virt.session.config import HostEntry
from kvmtui.virt.session.demo import demo_uri
from kvmtui.virt.session.fleet import Fleet
from tests.helpers import copy_demo_fleet, write_fleet
from tests.ui.test_cli import KVMTUI, run

REFUSED = "qemu+tcp://127.0.0.1:1/system"


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    """$XDG_CONFIG_HOME for this test, for kvmtui run here and as a subprocess; its config
    file's path (not written yet)."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    return home / "kvmtui" / "config.toml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- a broken file -------------------------------------------------------------------------------

BROKEN = {
    "syntax": ("refresh = 2\nshutdown_timeout = \n", 2, "line 2, column 20: invalid value"),
    "unknown-setting": ("refresh = 2\n\ncolour = 'red'\n", 3, "unknown setting 'colour'"),
    "host-without-uri": ("refresh = 2\n\n# the lab\n[[hosts]]\nname = 'kvm1'\n", 4,
                         "host 1 has no uri"),
    "refresh-out-of-range": ("# faster!\nrefresh = 0.1\n", 2,
                             "refresh = 0.1 is out of range: give 0.2 to 3600 seconds"),
}


def assert_one_line_naming(result, path: Path, line: int | None, what: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    where = f"kvmtui: {path.absolute()}" + (f", line {line}" if line else "")
    assert lines[0].startswith(where + ":") or lines[0].startswith(where + ","), lines[0]
    assert what in lines[0]
    assert "Traceback" not in result.stderr
    # nothing drawn (Textual draws on stderr): the console never started
    assert "\x1b" not in result.stderr + result.stdout
    assert result.stdout == ""


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_config_file_is_one_line_naming_file_and_line(xdg, case):
    text, line, what = BROKEN[case]
    write(xdg, text)
    # no terminal needed: the file is read, and found broken, before the terminal is checked
    assert_one_line_naming(run(terminal=False), xdg, line, what)
    # in a terminal too, and with -c: a broken file is never half-used
    result = run("-c", "test:///default")
    assert_one_line_naming(result, xdg, line, what)


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_file_given_with_config_is_named_by_its_absolute_path(tmp_path, xdg, case):
    text, line, what = BROKEN[case]
    write(tmp_path / "mine.toml", text)
    result = subprocess.run([*KVMTUI, "--config", "mine.toml"], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert_one_line_naming(result, tmp_path / "mine.toml", line, what)


def test_config_naming_a_missing_file_is_one_line(tmp_path, xdg):
    missing = tmp_path / "no-such.toml"
    result = run("--config", str(missing), terminal=False)
    assert_one_line_naming(result, missing, None, "no such file")


def test_a_missing_default_file_is_no_error(xdg):
    # no config file at all: on to the terminal check, as before config files existed
    result = run(terminal=False)
    assert result.returncode == 1
    assert result.stderr.startswith("kvmtui: needs a terminal"), result.stderr


# -- settings are the options' defaults ----------------------------------------------------------

def settings(*argv: str):
    args = build_parser().parse_args(list(argv))
    config = load_settings(args)
    assert config is not None
    return args, config


def test_config_refresh_and_shutdown_timeout_are_the_defaults(xdg):
    args, _ = settings()
    assert (args.refresh, args.shutdown_timeout) == (1.0, 60.0)  # no file: the built-in ones
    write(xdg, "refresh = 2.5\nshutdown_timeout = 120\n")
    args, _ = settings()
    assert (args.refresh, args.shutdown_timeout) == (2.5, 120.0)
    args, _ = settings("--refresh", "0.5")
    assert (args.refresh, args.shutdown_timeout) == (0.5, 120.0)
    args, _ = settings("--shutdown-timeout", "30", "--refresh", "3")
    assert (args.refresh, args.shutdown_timeout) == (3.0, 30.0)


def test_config_option_reads_that_file_instead(tmp_path, xdg):
    write(xdg, "refresh = 2.5\n")
    other = write(tmp_path / "other.toml", "shutdown_timeout = 10\n")
    args, config = settings("--config", str(other))
    assert (args.refresh, args.shutdown_timeout) == (1.0, 10.0)
    assert config.path == other  # where `H` saves added hosts


def test_a_broken_file_is_said_by_load_settings_in_one_line(xdg, capsys):
    write(xdg, "refresh = 'fast'\n")
    args = build_parser().parse_args([])
    assert load_settings(args) is None
    err = capsys.readouterr().err
    assert err == (f"kvmtui: {xdg}, line 1: refresh must be a number of seconds, "
                   "not a string\n")


# -- which hosts are opened ----------------------------------------------------------------------

HOSTS = """\
refresh = 2

[[hosts]]
name = "alpha"
uri = "{a}"

[[hosts]]
name = "beta"
uri = "{b}"
readonly = true
"""


def test_configured_hosts_are_opened_with_their_names(xdg, tmp_path):
    a, b = copy_demo_fleet(tmp_path, "a.xml"), write_fleet(tmp_path / "b.xml", 2)
    write(xdg, HOSTS.format(a=a, b=b))
    args, config = settings()
    hosts = resolve_hosts(args, config)
    assert hosts == [HostEntry("alpha", a), HostEntry("beta", b, readonly=True)]
    fleet = Fleet(hosts)
    assert [(c.host, c.readonly) for c in fleet.connections.values()] == [
        ("alpha", False), ("beta", True)]


def test_c_replaces_the_configured_hosts_but_keeps_a_configured_name(xdg, tmp_path):
    a, b = copy_demo_fleet(tmp_path, "a.xml"), write_fleet(tmp_path / "b.xml", 2)
    other = write_fleet(tmp_path / "other.xml", 1)
    write(xdg, HOSTS.format(a=a, b=b))
    args, config = settings("-c", b, "-c", other)
    assert resolve_hosts(args, config) == [HostEntry("beta", b, readonly=True),
                                           HostEntry("", other)]
    fleet = Fleet(resolve_hosts(args, config))
    assert [c.host for c in fleet.connections.values()] == ["beta", "other"]


def test_demo_alone_opens_only_the_demo(xdg, tmp_path):
    a, b = copy_demo_fleet(tmp_path, "a.xml"), write_fleet(tmp_path / "b.xml", 2)
    write(xdg, HOSTS.format(a=a, b=b))
    args, config = settings("--demo")
    assert resolve_hosts(args, config) == [HostEntry("", demo_uri())]


def test_without_hosts_configured_the_default_uri_is_opened(xdg, monkeypatch):
    write(xdg, "refresh = 2\n")
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default")
    args, config = settings()
    assert resolve_hosts(args, config) == [HostEntry("", "test:///default")]


# -- in a terminal -------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][A-Z0-9]|[=>78])")


def run_until(args: list[str], shown: list[str], env: dict, timeout: float = 30.0):
    """kvmtui in a 120x30 pseudo-terminal until everything in `shown` was drawn, then `q`.
    Returns (return code, what the terminal showed as text: Textual draws on stderr)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    proc = subprocess.Popen([*KVMTUI, *args], stdin=slave, stdout=slave, stderr=slave,
                            env={**os.environ, **env, "TERM": "xterm-256color"})
    os.close(slave)
    drawn = bytearray()
    done = threading.Event()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn.extend(chunk)
        done.set()

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            text = ANSI.sub("", drawn.decode(errors="replace"))
            if all(s in text for s in shown):
                break
            time.sleep(0.05)
        if proc.poll() is None:
            os.write(master, b"q")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        done.wait(5)
        os.close(master)
    return proc.returncode, ANSI.sub("", drawn.decode(errors="replace"))


def test_the_configured_hosts_start_in_the_console_by_their_names(xdg, tmp_path):
    a, b = copy_demo_fleet(tmp_path, "a.xml"), write_fleet(tmp_path / "b.xml", 2)
    write(xdg, HOSTS.format(a=a, b=b))
    code, text = run_until([], ["hosts: alpha, beta (H)"],
                           {"XDG_CONFIG_HOME": str(xdg.parent.parent)})
    assert "hosts: alpha, beta (H)" in text, text[-3000:]
    assert "19 domains" in text
    assert code == 0, text[-3000:]


def test_a_single_configured_host_that_refuses_is_one_line_and_exit_1(xdg):
    write(xdg, f'[[hosts]]\nname = "lab"\nuri = "{REFUSED}"\n')
    result = run()  # in a terminal: past the terminal check, to the connection
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"kvmtui: cannot connect to {REFUSED}: ")
    assert "Connection refused" in line
    assert "Traceback" not in result.stderr


def test_with_several_hosts_one_that_refuses_does_not_stop_the_start(xdg, tmp_path):
    a = copy_demo_fleet(tmp_path, "a.xml")
    write(xdg, f'[[hosts]]\nname = "alpha"\nuri = "{a}"\n\n'
               f'[[hosts]]\nname = "gone"\nuri = "{REFUSED}"\n')
    code, text = run_until([], ["gone refused", "1 of 2 connected: alpha (H)"],
                           {"XDG_CONFIG_HOME": str(xdg.parent.parent)})
    assert "gone refused" in text and "1 of 2 connected: alpha (H)" in text, text[-3000:]
    assert "17 domains" in text
    assert code == 0, text[-3000:]
