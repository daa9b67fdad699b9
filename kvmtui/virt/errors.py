"""libvirt failures turned into one clear line a user can act on."""

from __future__ import annotations

import libvirt


def libvirt_message(err: BaseException) -> str:
    """libvirt's own message, without the 'libvirtError:' decoration."""
    if isinstance(err, libvirt.libvirtError):
        msg = err.get_error_message()
        if msg:
            return msg
    return str(err) or type(err).__name__


def connect_hint(uri: str, err: BaseException) -> str:
    """What to try next, judged from libvirt's error (permissions, no daemon, anything else)."""
    text = libvirt_message(err).lower()
    code = err.get_error_code() if isinstance(err, libvirt.libvirtError) else None
    if code == libvirt.VIR_ERR_AUTH_FAILED or "permission denied" in text or "authentication" in text:
        return ("you may lack permission: try 'kvmtui -c qemu:///session', or join the 'libvirt' "
                "group (sudo usermod -aG libvirt $USER, then log in again)")
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

