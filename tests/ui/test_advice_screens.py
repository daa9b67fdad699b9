"""The advice on screen: the details screen's Advice tab (8) and the Advice section of `x`, on
the demo lab (win10: a SATA disk, an e1000e NIC and 4 sockets under Windows). What they show
is what kvmtui.virt.advice finds from the same inputs, and showing it changes no VM."""

from __future__ import annotations

import libvirt
import pytest

from kvmtui.screens.advice_reading import with_stats
from kvmtui.screens.details import DomainDetailsScreen
from kvmtui.screens.performance import PerformanceScreen
from kvmtui.virt.advice import NOT_CHECKED, Finding, advise
from kvmtui.virt.advice.reading import read_host, read_inputs
from kvmtui.virt.models import Counter, DomainState, DomainStats, StatsTick, VcpuStats
from kvmtui.widgets.advice_view import NOTHING, counts
from tests.helpers import (
    copy_demo_fleet,
    libvirt_domain,
    open_app,
    open_from_list,
    screen_text,
    wait_for,
)

SIZE = (80, 24)
TALL = (80, 120)   # every line of the advice on screen at once, for reading it whole
WIN10_TITLES = ("Disk on an emulated bus: SATA (AHCI)", "Emulated network card: e1000e",
                "vCPUs presented as 4 sockets to Windows")


def lines_of(app) -> list[str]:
    return [line.strip() for line in screen_text(app).splitlines()]


def expected(app, name: str, stats: DomainStats | None = None) -> list[Finding]:
    """What the engine finds, read here through the app's own connection (the test driver
    keeps one in-memory copy per open)."""
    dom = libvirt_domain(app, name)
    (connection,) = app.fleet.connections.values()
    return advise(read_inputs(dom, stats, read_host(connection.conn, connection.uri)))


def xml_of(app, name: str) -> tuple[str, str, int]:
    dom = libvirt_domain(app, name)
    return (dom.XMLDesc(0), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), dom.state()[0])


async def open_advice_tab(pilot, name: str) -> DomainDetailsScreen:
    screen = await open_from_list(pilot, name, "enter", DomainDetailsScreen,
                                  lambda s: s.advice_inputs is not None, timeout=10)
    await pilot.press("8")
    await pilot.pause(0.1)
    return screen


def assert_shown(app, findings: list[Finding]) -> None:
    """Each finding's severity word and title on one line, its evidence and fix under it."""
    lines = lines_of(app)
    text = "".join(screen_text(app).split())  # wrapped: a long path is cut after a '/'
    for f in findings:
        assert f"{f.severity:<9}{f.title}" in lines, f.title
        for evidence in f.evidence:
            assert "".join(evidence.split()) in text, evidence
        assert "fix:" + "".join(f.fix.split()) in text, f.fix


# -- details: tab 8 ----------------------------------------------------------------------------

async def test_details_advice_tab_lists_win10s_findings(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=TALL) as pilot:
        screen = await open_advice_tab(pilot, "win10")
        findings = expected(app, "win10", app.figures.latest.get(screen.key))
        assert [f.title for f in findings if f.severity == "warning"] == list(WIN10_TITLES)
        assert f"Advice: {counts(findings)}" in lines_of(app)
        assert_shown(app, findings)
        # a snippet keeps its tag whole, on the fix's first line
        assert "fix: <target dev='vda' bus='virtio'/>  (and drop the disk's <address>" \
            in lines_of(app)
        # details asks for no detailed figures: the live checks are left to `x`
        assert "checked live on x (performance)" in " ".join(screen_text(app).split())


async def test_a_vm_with_no_findings_says_so(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=TALL) as pilot:
        await open_advice_tab(pilot, "vm1")
        assert expected(app, "vm1") == []
        assert "Advice: none" in lines_of(app)
        assert NOTHING in lines_of(app)


async def test_tab_8_and_the_arrows_reach_the_advice_tab(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_advice_tab(pilot, "win10")
        assert screen.query_one("TabbedContent").active == "advice"
        await pilot.press("right")
        assert screen.query_one("TabbedContent").active == "overview"
        await pilot.press("left")
        assert screen.query_one("TabbedContent").active == "advice"
        assert "1-8 tabs" in screen_text(app)


def test_details_advice_tab_at_80x24(snap_compare, tmp_path):
    app = open_app(copy_demo_fleet(tmp_path))

    async def run_before(pilot):
        await open_advice_tab(pilot, "win10")

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        app.fleet.close()


# -- `x`: the Advice section -----------------------------------------------------------------

def busy_stats(key, name: str) -> DomainStats:
    """A running 4-vCPU KVM guest's tick in detail (as on `x`): 60,000 mmio exits a second on
    each vCPU, what an emulated AHCI disk and e1000e NIC cause under load."""
    exits = {"total": Counter(98_213_775, 300_000.0), "mmio": Counter(71_120_533, 240_000.0),
             "halt": Counter(20_114_090, 52_000.0), "io": Counter(974_120, 800.0),
             "irq": Counter(5_002_101, 7_200.0)}
    per_vcpu = tuple({r: c.total // 4 for r, c in exits.items()} for _ in range(4))
    before = tuple({r: int(n - exits[r].rate / 4) for r, n in v.items()} for v in per_vcpu)
    return DomainStats(key, name, DomainState.RUNNING, at=0.0, cpu_percent=81.0,
                       memory_kib=8 * 1024 * 1024, memory_used_kib=6 * 1024 * 1024,
                       memory_used_source="guest", disk_read_bps=52.0 * 2**20,
                       disk_write_bps=12.5 * 2**20, net_rx_bps=3.1 * 2**20, net_tx_bps=812.0,
                       vcpus=tuple(VcpuStats(i, 80.0 + i, 1.0, 0.5) for i in range(4)),
                       exits=exits, exits_source="libvirt", vcpu_exits=per_vcpu,
                       vcpu_exits_before=before, interval_s=1.0, exits_detail=True)


async def show_busy_win10(pilot) -> PerformanceScreen:
    """The sampler stopped, a fixed history, `x` opened on win10 with a busy tick in detail."""
    app = pilot.app
    app.sampler.stop(wait=True)
    await pilot.pause(0.3)  # the last ticks' messages reach the app
    summary = next(s for s in app.domain_list.domains.values() if s.name == "win10")
    app.figures.forget(summary.key.uri)
    for i in range(60):
        shape = DomainStats(summary.key, "win10", DomainState.RUNNING, at=float(i),
                            cpu_percent=float(40 + i % 40),
                            vcpus=tuple(VcpuStats(v, float(40 + (i + v) % 40), 0.0, 0.0)
                                        for v in range(4)))
        app.figures.record(StatsTick(summary.key.uri, {summary.key: shape}, 0.0, 1))
    screen = PerformanceScreen(app.fleet, summary, busy_stats(summary.key, "win10"))
    await app.push_screen(screen)
    await wait_for(pilot, lambda: screen.findings is not None, timeout=10)
    await pilot.pause(0.1)
    return screen


async def test_x_shows_the_advice_the_engine_gives_for_its_figures(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=TALL) as pilot:
        screen = await show_busy_win10(pilot)
        findings = expected(app, "win10", screen.stats)
        assert screen.findings == findings
        # busiest problems first: the mmio exits the emulated devices cost, then the XML's
        assert findings[0].id == "mmio-exits" and findings[0].severity == "problem"
        assert "vCPU0 60,000/s" in findings[0].evidence[0]
        assert [f.title for f in findings if f.severity == "warning"][:3] == list(WIN10_TITLES)
        assert not any(f.id == NOT_CHECKED and "exit rates" in " ".join(f.evidence)
                       for f in findings)
        assert lines_of(app)[1].startswith(f"Advice: {counts(findings)} · ")
        assert counts(findings).startswith("1 problem, 3 warnings")
        # the tables take the first screenful, the exits table focused, as before the advice
        assert screen.focused is screen.query_one("#exits")
        assert screen.query_one("#exits").row_values()["mmio"][:3] == ["mmio", "71,120,533",
                                                                        "240k"]
        assert "problem  Many mmio exits" not in screen_text(app)
        await pilot.press("end")    # past the tables: the advice
        await pilot.pause(0.1)
        assert_shown(app, findings)
        await pilot.press("home")
        await pilot.pause(0.1)
        assert "problem  Many mmio exits" not in screen_text(app)


async def test_the_arrows_walk_the_exits_then_scroll_on_to_the_advice(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await show_busy_win10(pilot)
        exits, body = screen.query_one("#exits"), screen.query_one("#body")
        for _ in range(exits.row_count - 1):
            await pilot.press("down")
        assert exits.cursor_row == exits.row_count - 1 and body.scroll_y == 0
        await pilot.press("down", "pagedown")   # past the last row: the screen scrolls
        await pilot.pause(0.2)
        assert body.scroll_y > 0 and exits.cursor_row == exits.row_count - 1
        assert "problem  Many mmio exits: devices emulated in QEMU" in lines_of(app)
        await pilot.press("home")
        await pilot.pause(0.2)
        assert body.scroll_y == 0
        await pilot.press("up")                 # the tables in view again: the cursor moves
        assert exits.cursor_row == exits.row_count - 2


async def test_x_on_the_test_driver_says_what_was_not_checked(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=TALL) as pilot:
        screen = await open_from_list(pilot, "win10", "x", PerformanceScreen,
                                      lambda s: s.findings is not None and s.stats is not None,
                                      timeout=10)
        await wait_for(pilot, lambda: screen.findings == advise(
            with_stats(screen.advice_inputs, screen.stats)))
        assert [f.title for f in screen.findings if f.severity == "warning"] == list(WIN10_TITLES)
        assert "exit rates: libvirt's test driver has no KVM exit counters" in lines_of(app)


async def test_x_reads_the_xml_again_after_an_event(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=TALL) as pilot:
        screen = await show_busy_win10(pilot)
        assert any(f.title == WIN10_TITLES[1] for f in screen.findings)
        dom = libvirt_domain(app, "win10")
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        assert "<model type='e1000e'/>" in xml
        # another client changes the NIC to virtio (for the next boot) and stops the VM:
        # its XML is now the new one, and the advice follows
        dom.connect().defineXML(xml.replace("<model type='e1000e'/>", "<model type='virtio'/>"))
        dom.destroy()
        await wait_for(pilot, lambda: not any(f.title == WIN10_TITLES[1]
                                              for f in screen.findings), timeout=10)
        await pilot.press("end")
        await pilot.pause(0.1)
        assert WIN10_TITLES[1] not in screen_text(app)
        assert WIN10_TITLES[0] in screen_text(app)


def test_x_with_advice_at_80x24(snap_compare, tmp_path):
    app = open_app(copy_demo_fleet(tmp_path))
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=show_busy_win10)
    finally:
        app.fleet.close()


def test_x_scrolled_to_the_advice_at_80x24(snap_compare, tmp_path):
    app = open_app(copy_demo_fleet(tmp_path))

    async def to_the_advice(pilot):
        await show_busy_win10(pilot)
        await pilot.press("end")
        await pilot.pause(0.2)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=to_the_advice)
    finally:
        app.fleet.close()


# -- advice reads; it never changes a VM -----------------------------------------------------

@pytest.mark.parametrize("name", ["win10", "vm1", "fedora-paused"])
async def test_the_advice_screens_change_no_vm(make_app, demo_uri, name):
    app = make_app(demo_uri)
    async with app.run_test(size=SIZE) as pilot:
        before = xml_of(app, name)
        await open_advice_tab(pilot, name)
        await pilot.press("escape")
        screen = await open_from_list(pilot, name, "x", PerformanceScreen,
                                      lambda s: s.findings is not None, timeout=10)
        await pilot.pause(1.5)   # a few ticks, the advice recomputed
        assert screen.findings is not None
        await pilot.press("escape")
        assert xml_of(app, name) == before
