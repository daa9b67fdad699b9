"""Which console devices a VM has, as libvirt names them for virDomainOpenConsole."""

from __future__ import annotations

import libvirt

from kvmtui.virt.console.devices import console_devices
from kvmtui.virt.console.errors import Refusal, refusal_of

LIVE = """<domain type='kvm'><name>web</name><devices>
  <serial type='pty'><source path='/dev/pts/3'/><target type='isa-serial' port='0'/>
    <alias name='serial0'/></serial>
  <serial type='file'><source path='/var/log/x.log'/><target port='1'/><alias name='serial1'/></serial>
  <console type='pty' tty='/dev/pts/3'><target type='serial' port='0'/><alias name='serial0'/></console>
  <console type='pty'><target type='virtio' port='1'/><alias name='console1'/></console>
</devices></domain>"""

INACTIVE = """<domain type='kvm'><name>web</name><devices>
  <serial type='pty'><target type='isa-serial' port='0'/></serial>
  <console type='pty'><target type='serial' port='0'/></console>
</devices></domain>"""


def test_the_first_serial_port_is_one_device_though_listed_twice():
    devices = console_devices(LIVE)
    assert [d.alias for d in devices] == ["serial0", "console1"]  # the file one cannot stream
    assert devices[0].label == "serial0 (serial port 0)"
    assert devices[1].label == "console1 (virtio console 1)"


def test_without_aliases_shut_off_xml_still_names_one_device():
    devices = console_devices(INACTIVE)
    assert len(devices) == 1 and devices[0].alias is None and devices[0].kind == "serial"


def test_no_devices():
    assert console_devices("<domain><name>x</name><devices/></domain>") == []


def _error(code: int, message: str) -> libvirt.libvirtError:
    err = libvirt.libvirtError(message)
    err.err = (code, 0, message, 2, None, None, None, 0, 0)
    return err


def test_refusals_are_sorted_by_what_the_screen_offers():
    cases = {
        (libvirt.VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver: "
         "virDomainOpenConsole"): Refusal.UNSUPPORTED,
        (libvirt.VIR_ERR_OPERATION_DENIED, "operation forbidden: read only access prevents "
         "virDomainOpenConsole"): Refusal.READ_ONLY,
        (libvirt.VIR_ERR_OPERATION_FAILED, "operation failed: Active console session exists for "
         "this domain"): Refusal.IN_USE,
        (libvirt.VIR_ERR_OPERATION_INVALID, "Requested operation is not valid: domain is not "
         "running"): Refusal.NOT_RUNNING,
        (libvirt.VIR_ERR_INTERNAL_ERROR, "internal error: cannot find character device x"):
            Refusal.OTHER,
    }
    for (code, message), want in cases.items():
        refusal, shown = refusal_of(_error(code, message))
        assert (refusal, shown) == (want, message)
