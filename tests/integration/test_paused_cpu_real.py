"""A paused guest runs no guest code: its CPU% is 0.0 on the list and on `x` alike.

libvirt's cpu.time also counts QEMU's own threads, which keep ticking over while the vCPUs are
stopped (about 0.1% of a host CPU), while every vcpu.N.time stands still. Shown as the guest's
CPU, that made the list say 0.1 for a paused VM whose vCPUs `x` showed at 0.0.
"""

from __future__ import annotations

from kvmtui.screens.performance import PerformanceScreen
from kvmtui.virt.models import DomainState
from tests.helpers import open_from_list, screen_text, wait_for
from tests.integration.conftest import running_kvmtui


async def test_a_paused_guest_uses_no_cpu_on_the_list_and_on_x(hypervisor, kvm_guest):
    hypervisor.virsh("start", kvm_guest.name)
    hypervisor.virsh("suspend", kvm_guest.name)
    async with running_kvmtui(hypervisor.uri) as (app, pilot):
        key = next(k for k, s in app.domain_list.domains.items() if s.name == kvm_guest.name)
        table = app.domain_list.table

        def paused_figure() -> bool:
            st = app.domain_list.stats.get(key)
            return st is not None and st.state is DomainState.PAUSED and st.cpu_percent is not None

        await wait_for(pilot, paused_figure, 15)
        # QEMU's housekeeping shows in cpu.time within a tick or two: watch a few
        for _ in range(3):
            ticks = app.sampler.ticks
            await wait_for(pilot, lambda: app.sampler.ticks > ticks, 10)
            await pilot.pause(0.05)
            assert table.row_text(key)["cpu"] == "0.0"
            assert app.domain_list.stats[key].cpu_percent == 0.0
        screen = await open_from_list(pilot, kvm_guest.name, "x", PerformanceScreen,
                                      lambda s: s.stats is not None and s.stats.vcpus
                                      and s.stats.vcpus[0].cpu_percent is not None, 15)
        ticks = app.sampler.ticks
        await wait_for(pilot, lambda: app.sampler.ticks > ticks + 1, 10)
        await pilot.pause(0.05)
        assert "CPU   0.0% of 1 vCPU" in screen_text(app)
        assert screen.query_one("#vcpus").row_values()["0"][1] == "0.0"
