"""The shell guest's console, opened as kvmtui will open it, without any kvmtui UI.

A non-blocking stream attached with virDomainOpenConsole and read on libvirt's event loop
(RawConsole); and `virsh console` in a pseudo-terminal, as a user would run it. These pin down
what the console screen will meet: the exact libvirt errors, taking a console over, picking a
device, the end of the stream when the guest goes.
"""

from __future__ import annotations

import os
import pty
import select
import time

import libvirt
import pytest
from build_test_guest import HVC_PROMPT, SHELL_PROMPT

from tests.integration.conftest import RawConsole

PROMPT = SHELL_PROMPT.encode()


def attached(hypervisor, guest, dev: str | None = None, flags: int = 0) -> RawConsole:
    """A console on a booted guest, at a fresh prompt (output before attaching is lost)."""
    console = RawConsole(hypervisor.uri, guest.name, dev, flags)
    console.send(b"\r")
    return console


def error_of(call) -> tuple[int, int, str]:
    with pytest.raises(libvirt.libvirtError) as caught:
        call()
    err = caught.value
    return err.get_error_code(), err.get_error_domain(), err.get_error_message()


@pytest.fixture
def booted_shell_guest(hypervisor, shell_guest):
    hypervisor.virsh("start", shell_guest.name)
    shell_guest.wait_booted()
    return shell_guest


def test_the_shell_answers_on_the_raw_stream(hypervisor, booted_shell_guest):
    console = attached(hypervisor, booted_shell_guest)
    try:
        at = console.wait_for(PROMPT)
        console.send(b"echo $((6*7))\r")
        at = console.wait_for(b"echo $((6*7))\r\n", start=at)  # the guest's tty echoes
        console.wait_for(b"42\r\n" + PROMPT, start=at)  # onlcr: the guest's \n arrives as \r\n
        mark = len(console.data)
        console.send(b"tty\r")
        console.wait_for(b"/dev/ttyS0\r\n", start=mark)
    finally:
        console.close()
    assert b"KVMTUI-GUEST-READY" in booted_shell_guest.serial.read_bytes()  # ready line: ttyS1
    assert PROMPT not in booted_shell_guest.serial.read_bytes()


def test_ctrl_c_and_job_control_reach_the_guest_shell(hypervisor, booted_shell_guest):
    console = attached(hypervisor, booted_shell_guest)
    try:
        at = console.wait_for(PROMPT)
        console.send(b"sleep 600\r")
        at = console.wait_for(b"sleep 600\r\n", start=at)
        time.sleep(0.3)
        console.send(b"\x03")  # ISIG on ttyS0, the shell's controlling terminal
        at = console.wait_for(b"^C", start=at)
        console.send(b"echo after-$((1+1))\r")
        at = console.wait_for(b"after-2\r\n", timeout=5, start=at)
        console.send(b"sleep 600\r")
        time.sleep(0.3)
        console.send(b"\x1a")  # ctrl+z: job control
        at = console.wait_for(b"Stopped", start=at)
        console.send(b"kill %1; echo killed-$((2+2))\r")
        console.wait_for(b"killed-4\r\n", start=at)
    finally:
        console.close()


def test_a_second_session_needs_force_and_force_takes_over(hypervisor, booted_shell_guest):
    first = attached(hypervisor, booted_shell_guest)
    try:
        first.wait_for(PROMPT)
        code, domain, message = error_of(lambda: RawConsole(hypervisor.uri,
                                                            booted_shell_guest.name))
        assert (code, domain) == (libvirt.VIR_ERR_OPERATION_FAILED, libvirt.VIR_FROM_QEMU)
        assert message == "operation failed: Active console session exists for this domain"
        second = attached(hypervisor, booted_shell_guest, None,
                          libvirt.VIR_DOMAIN_CONSOLE_FORCE)
        try:
            ended = first.wait_ended()
            assert isinstance(ended, libvirt.libvirtError)
            assert (ended.get_error_code(), ended.get_error_domain(),
                    ended.get_error_message()) == (libvirt.VIR_ERR_RPC, libvirt.VIR_FROM_STREAMS,
                                                   "stream had I/O failure")
            at = second.wait_for(PROMPT)
            second.send(b"echo $((6*7))\r")
            second.wait_for(b"42\r\n", start=at)
        finally:
            second.close()
    finally:
        first.close()
    again = attached(hypervisor, booted_shell_guest)  # closed sessions free the console
    again.wait_for(PROMPT)
    again.close()


def test_a_console_is_picked_by_its_alias(hypervisor):
    guest = hypervisor.define_shell_guest("shell-two-consoles", consoles=2)
    try:
        hypervisor.virsh("start", guest.name)
        guest.wait_booted()
        serial = attached(hypervisor, guest, "serial0")
        virtio = attached(hypervisor, guest, "console1")  # a separate lock: no force needed
        try:
            serial.wait_for(PROMPT)
            virtio.wait_for(HVC_PROMPT.encode(), timeout=15)
            virtio.send(b"tty\r")
            virtio.wait_for(b"/dev/hvc0\r\n")
            serial.send(b"tty\r")
            serial.wait_for(b"/dev/ttyS0\r\n")
        finally:
            serial.close()
            virtio.close()
        code, domain, message = error_of(lambda: RawConsole(hypervisor.uri, guest.name,
                                                            "serial1"))
        assert (code, domain) == (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_QEMU)
        assert message == "internal error: character device serial1 is not using a PTY"
        code, domain, message = error_of(lambda: RawConsole(hypervisor.uri, guest.name, "nope"))
        assert (code, domain) == (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_QEMU)
        assert message == "internal error: cannot find character device nope"
    finally:
        guest.remove()


def test_the_stream_ends_when_the_guest_is_destroyed(hypervisor, booted_shell_guest):
    console = attached(hypervisor, booted_shell_guest)
    try:
        console.wait_for(PROMPT)
        conn = hypervisor.client()
        conn.lookupByName(booted_shell_guest.name).destroy()
        conn.close()
        assert console.wait_ended() == "eof"  # recv returns b"": no error, no hangup event
    finally:
        console.close()


def test_where_a_console_cannot_be_opened(hypervisor, shell_guest):
    code, domain, message = error_of(lambda: RawConsole(hypervisor.uri, shell_guest.name))
    assert (code, domain) == (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_DOMAIN)
    assert message == "Requested operation is not valid: domain is not running"

    hypervisor.virsh("start", shell_guest.name)
    ro = libvirt.openReadOnly(hypervisor.uri)
    try:
        stream = ro.newStream(libvirt.VIR_STREAM_NONBLOCK)
        code, domain, message = error_of(
            lambda: ro.lookupByName(shell_guest.name).openConsole(None, stream, 0))
    finally:
        ro.close()
    assert (code, domain) == (libvirt.VIR_ERR_OPERATION_DENIED, libvirt.VIR_FROM_DOMAIN)
    assert message == "operation forbidden: read only access prevents virDomainOpenConsole"

    test = libvirt.open("test:///default")
    try:
        stream = test.newStream(libvirt.VIR_STREAM_NONBLOCK)
        code, domain, message = error_of(
            lambda: test.lookupByName("test").openConsole(None, stream, 0))
    finally:
        test.close()
    assert (code, domain) == (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_FROM_DOMAIN)
    assert message == ("this function is not supported by the connection driver: "
                       "virDomainOpenConsole")


# -- virsh console in a pseudo-terminal ------------------------------------------------------

def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"no {marker!r} from virsh in {timeout} s: {seen[-400:]!r}")
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: virsh has gone and the pty closed
            chunk = b""
        if not chunk:
            raise AssertionError(f"virsh ended before {marker!r}: {seen[-400:]!r}")
        seen += chunk
    return seen


def _virsh_console(uri: str, *args: str) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvp("virsh", ["virsh", "-c", uri, "console", *args])
    return pid, fd


def _exit_status(pid: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    raise AssertionError("virsh console did not exit")


def test_virsh_console_in_a_pty(hypervisor, booted_shell_guest):
    pid, fd = _virsh_console(hypervisor.uri, booted_shell_guest.name)
    try:
        banner = _read_until(fd, b"Escape character is ^] (Ctrl + ])\r\n", 10)
        assert f"Connected to domain '{booted_shell_guest.name}'".encode() in banner
        for _ in range(10):  # an enter right after attaching was once lost: no prompt in 10 s
            os.write(fd, b"\r")
            try:
                _read_until(fd, PROMPT, 1.0)
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("no prompt through virsh console after 10 enters")
        os.write(fd, b"echo $((6*7))\r")
        _read_until(fd, b"42\r\n", 10)
        # meanwhile the raw API is refused, and a second virsh prints the same message
        code, _, message = error_of(lambda: RawConsole(hypervisor.uri, booted_shell_guest.name))
        assert code == libvirt.VIR_ERR_OPERATION_FAILED
        pid2, fd2 = _virsh_console(hypervisor.uri, booted_shell_guest.name)
        try:
            # "Connected to domain" comes first, then the error, then exit status 1
            _read_until(fd2, b"error: " + message.encode(), 10)
            assert _exit_status(pid2) == 1
        finally:
            os.close(fd2)
        os.write(fd, b"\x1d")  # ctrl+]: virsh detaches
        assert _exit_status(pid) == 0
    finally:
        os.close(fd)
