"""Why libvirt would not open a console, sorted into the cases the screen answers differently."""

from __future__ import annotations

import enum

import libvirt

from kvmtui.virt.session.errors import libvirt_message


class Refusal(enum.Enum):
    NOT_RUNNING = "not running"
    IN_USE = "in use"            # another client holds it: taking it over needs FORCE
    READ_ONLY = "read-only"
    UNSUPPORTED = "unsupported"  # a driver without consoles (the test driver)
    OTHER = "other"


def refusal_of(err: Exception) -> tuple[Refusal, str]:
    """The case, and libvirt's own message to show."""
    message = libvirt_message(err)
    if not isinstance(err, libvirt.libvirtError):
        return Refusal.OTHER, message
    code = err.get_error_code()
    lowered = message.lower()
    if code == libvirt.VIR_ERR_NO_SUPPORT:
        return Refusal.UNSUPPORTED, message
    if code == libvirt.VIR_ERR_OPERATION_DENIED or "read only" in lowered:
        return Refusal.READ_ONLY, message
    if "active console session" in lowered:
        return Refusal.IN_USE, message
    if "not running" in lowered:
        return Refusal.NOT_RUNNING, message
    return Refusal.OTHER, message
