"""libvirt failures turned into one clear line a user can act on."""

from __future__ import annotations

import libvirt

from kvmtui.virt.models import ConnectionStatus


def libvirt_message(err: BaseException) -> str:
    """libvirt's own message, without the 'libvirtError:' decoration."""
    if isinstance(err, libvirt.libvirtError):
        msg = err.get_error_message()
        if msg:
            return msg
    return str(err) or type(err).__name__


PERMISSION_HINT = ("you may lack permission: try 'kvmtui -c qemu:///session', or join the "
                   "'libvirt' group (sudo usermod -aG libvirt $USER, then log in again)")
POLKIT_HINT = ("the daemon is running, but its permission check through polkit failed: is polkit "
               "running (systemctl status polkit)? Or try 'kvmtui -c qemu:///session'")


def access_hint(err: BaseException) -> str | None:
    """The hint when a running daemon refused this user, or could not check its rights; None
    when the failure is something else (no daemon, a bad URI…).

    This comes first because a polkit check that cannot reach the system bus reports "No such
    file or directory", which alone reads like a daemon that is not running.
    """
    if not isinstance(err, libvirt.libvirtError):
        return None
    code, domain = err.get_error_code(), err.get_error_domain()
    text = libvirt_message(err).lower()
    if code in (libvirt.VIR_ERR_AUTH_FAILED, libvirt.VIR_ERR_AUTH_CANCELLED,
                libvirt.VIR_ERR_AUTH_UNAVAILABLE, libvirt.VIR_ERR_ACCESS_DENIED):
        return PERMISSION_HINT
    if (domain in (libvirt.VIR_FROM_POLKIT, libvirt.VIR_FROM_DBUS)
            or any(words in text for words in ("polkit", "policykit", "system bus"))):
        return POLKIT_HINT
    if any(words in text for words in ("permission denied", "authentication", "access denied",
                                       "not authorized")):
        return PERMISSION_HINT
    return None


def connect_hint(uri: str, err: BaseException) -> str:
    """What to try next, judged from libvirt's error (permissions, no daemon, anything else)."""
    access = access_hint(err)
    if access:
        return access
    text = libvirt_message(err).lower()
    if ("no such file or directory" in text or "connection refused" in text
            or "failed to connect socket" in text):
        return ("is the daemon running? start it with 'sudo systemctl start libvirtd' "
                "(or 'virtqemud.socket' on modular daemons), or try 'kvmtui --demo'")
    if uri.startswith("test:") and ("failed to parse" in text or "failed to load" in text):
        return ("check that the file exists and holds a libvirt test-driver <node>, "
                "or try 'kvmtui --demo'")
    if "no connection driver" in text or "not supported" in text:
        return "this libvirt has no driver for that URI; check the URI, or try 'kvmtui --demo'"
    return "check the URI and that libvirt is reachable, or try 'kvmtui --demo'"


def connect_failure_line(uri: str, err: BaseException) -> str:
    return f"kvmtui: cannot connect to {uri}: {libvirt_message(err)} — {connect_hint(uri, err)}"


def is_no_domain(err: BaseException) -> bool:
    return (isinstance(err, libvirt.libvirtError)
            and err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN)



_REFUSALS = ("connection refused", "permission denied", "authentication", "access denied",
             "not authorized", "host key verification failed",
             # a local socket nobody listens on: the daemon is not running there
             "no such file or directory")


def failure_status(err: BaseException) -> ConnectionStatus:
    """Whether a failed connect was refused (the host answered no: closed port, no daemon on its
    socket, auth) or the host was unreachable (no route, no name, ssh could not get through…)."""
    if access_hint(err) == PERMISSION_HINT:
        return ConnectionStatus.REFUSED
    text = libvirt_message(err).lower()
    if any(words in text for words in _REFUSALS):
        return ConnectionStatus.REFUSED
    return ConnectionStatus.UNREACHABLE
