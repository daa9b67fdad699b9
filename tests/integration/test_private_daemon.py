"""The private daemon is really private: its own socket and state, the host's left alone."""

from __future__ import annotations

from tests.integration.conftest import host_libvirt_snapshot


def test_private_daemon_has_its_own_socket_and_state(hypervisor):
    assert f"socket={hypervisor.daemon.dir}" in hypervisor.uri
    conn = hypervisor.client()
    try:
        names = {d.name() for d in conn.listAllDomains(0)}
        assert all(n.startswith(("linux", "firmware", "kvm", "visitor", "leaving")) for n in names)
        assert conn.listAllNetworks(0) == []  # the host's networks are not visible
    finally:
        conn.close()


def test_host_libvirt_directories_are_untouched(hypervisor, linux_guest, host_before):
    hypervisor.virsh("start", linux_guest.name)
    linux_guest.wait_booted()
    hypervisor.virsh("destroy", linux_guest.name)
    assert host_libvirt_snapshot() == host_before
