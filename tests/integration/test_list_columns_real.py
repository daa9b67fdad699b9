"""The list's live columns on a real KVM guest: CPU% and Exits/s appear because the host reports
them, and the list's exit rate is the sum over vCPUs that `x` shows for the same tick."""

from __future__ import annotations

from kvmtui.screens.performance import PerformanceScreen
from kvmtui.virt.domain.filtering import exit_rate
from kvmtui.widgets.formatting import per_second
from tests.helpers import open_from_list, screen_text, wait_for
from tests.integration.conftest import running_kvmtui


async def test_exits_per_second_equals_the_sum_over_vcpus_on_x(hypervisor, kvm_guest):
    hypervisor.virsh("start", kvm_guest.name)
    async with running_kvmtui(hypervisor.uri, size=(80, 24), refresh=0.5) as (app, pilot):
        table = app.domain_list.table
        await wait_for(pilot, lambda: "Exits/s" in table.visible_labels(), 15)
        assert table.visible_labels()[:6] == ["Id", "Name", "State", "CPU%", "vCPUs", "Memory"]
        screen = await open_from_list(
            pilot, kvm_guest.name, "x", PerformanceScreen,
            lambda s: s.stats is not None and s.stats.exits_detail
            and all(v["total"].rate is not None for v in s.stats.exits_per_vcpu())
            and (exit_rate(s.stats) or 0) > 0, 20)
        # the figures of one tick: stop sampling so the list is drawn from the very same one
        app.sampler.stop(wait=True)
        await pilot.pause(0.1)
        shown = screen.stats
        assert shown is app.figures.latest[shown.key]
        per_vcpu = sum(v["total"].rate for v in shown.exits_per_vcpu())
        assert per_vcpu > 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)
        cell = table.row_text(shown.key)["exits"]
        assert cell == per_second(per_vcpu) == per_second(exit_rate(shown))
        assert cell in screen_text(app)


async def test_sorting_by_exits_puts_the_busiest_first(hypervisor, kvm_guest, linux_guest):
    # the KVM guest runs its firmware (exits); the other is shut off (no figure): last
    hypervisor.virsh("start", kvm_guest.name)
    async with running_kvmtui(hypervisor.uri, size=(80, 24), refresh=0.5) as (app, pilot):
        table = app.domain_list.table
        await wait_for(pilot, lambda: exit_rate(app.figures.latest.get(
            next(k for k in table.shown_keys() if table.row_text(k)["name"] == kvm_guest.name)
        )) is not None, 15)
        app.domain_list.sort_by("exits")
        await pilot.pause(0.05)
        names = [table.row_text(k)["name"] for k in table.shown_keys()]
        assert names.index(kvm_guest.name) < names.index(linux_guest.name)
        assert "Exits/s ▼" in screen_text(app)
