"""`x` and `H` on libvirt's test driver; `+`/`-`; stats columns fed by the sampler.

The test driver reports only domain states, so here the screens must say exactly why there are
no counters; real figures are checked against virsh in tests/integration/test_performance_real.py.
"""

from __future__ import annotations

import threading

from kvmtui.screens.host import HostScreen
from kvmtui.screens.hosts import HostsScreen
from kvmtui.screens.performance import PerformanceScreen
from tests.helpers import open_from_list, screen_text, select, wait_for


async def test_x_opens_performance_with_the_reason_there_are_no_exits(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_from_list(pilot, "win10", "x", PerformanceScreen,
                                      lambda s: s.stats is not None, timeout=10)
        await wait_for(pilot, lambda: "test driver" in screen_text(app))
        text = screen_text(app)
        assert "Performance: win10 · running" in text
        assert "libvirt's test driver has no KVM exit counters" in text
        assert not screen.query_one("#exits").display
        await pilot.press("escape")
        assert app.screen is app.domain_list


async def test_a_stopped_vm_says_it_is_not_running(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_from_list(pilot, "vm1", "x", PerformanceScreen,
                             lambda s: s.stats is not None, timeout=10)
        await wait_for(pilot, lambda: "vm1 is not running" in screen_text(app))


async def test_a_managed_save_and_the_vcpu_count_are_worded_as_elsewhere(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_from_list(pilot, "ci-runner", "x", PerformanceScreen,
                             lambda s: s.stats is not None, timeout=10)
        await wait_for(pilot, lambda: "ci-runner is not running" in screen_text(app))
        text = screen_text(app)
        assert "Performance: ci-runner · shut off (saved) · 4 vCPUs ·" in text
        assert "of 4 vCPUs" in text
        await pilot.press("escape")
        await open_from_list(pilot, "router", "x", PerformanceScreen,
                             lambda s: s.stats is not None, timeout=10)
        text = screen_text(app)
        assert "Performance: router · idle · 1 vCPU ·" in text and "of 1 vCPU " in text


async def test_host_screen_shows_libvirts_node_facts(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("H")  # the hosts overview, on the selected VM's host
        await wait_for(pilot, lambda: isinstance(app.screen, HostsScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.facts is not None)
        info = app.fleet.connection(demo_uri).conn.getInfo()
        text = screen_text(app)
        assert f"{info[2]} CPUs" in text and f"{info[3]} MHz" in text
        assert "Virtualization (libvirt capabilities)" in text
        await wait_for(pilot, lambda: "no VM here reports any" in screen_text(app), 10)


async def test_plus_and_minus_change_the_sampling_interval(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.sampler.interval == 1.0
        await pilot.press("plus")
        assert app.sampler.interval == 2.0
        await pilot.press("minus", "minus", "minus")
        assert app.sampler.interval == 0.5
        ticks = app.sampler.ticks
        await wait_for(pilot, lambda: app.sampler.ticks >= ticks + 2, 5)


class CountingConnection:
    """Passes every call through to the real libvirt connection, counting them."""

    def __init__(self, conn) -> None:
        self._conn = conn
        self.calls: list[str] = []

    def __getattr__(self, name):
        attr = getattr(self._conn, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            # the sampler's calls only (its lanes' threads): the list reads each VM's XML
            # for its advice marks on a worker of its own
            if threading.current_thread().name.startswith("stats "):
                self.calls.append(name)
            return attr(*args, **kwargs)
        return call


async def test_every_tick_is_one_libvirt_call_per_connection(make_app, demo_uri, tmp_path):
    from tests.helpers import write_fleet

    other = write_fleet(tmp_path / "other.xml", 40)
    app = make_app(demo_uri, other)
    counters = {}
    for uri, connection in app.fleet.connections.items():
        counters[uri] = connection._conn = CountingConnection(connection._conn)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.sampler.ticks >= 6, 10)
        app.sampler.stop(wait=True)
        await pilot.pause(0.3)  # the last ticks' messages reach the app
        for uri, counter in counters.items():
            ticks = sum(1 for cost in app.tick_costs if cost[0] == uri)
            assert ticks >= 2 and counter.calls == ["getAllDomainStats"] * ticks
        # and every domain of both connections got a sample
        assert len(app.domain_list.stats) == 17 + 40
