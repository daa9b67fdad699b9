"""The list's advice marks and the `advice:` filter, on the demo lab (libvirt's test driver)."""

from __future__ import annotations

from kvmtui.virt.advice import NOT_CHECKED, advise, worst
from kvmtui.virt.advice.reading import read_host, read_inputs
from tests.helpers import libvirt_domain, screen_text, wait_for

WINDOWS_IDE_DISK = """
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/vm1-old.img'/>
      <target dev='hda' bus='ide'/>
    </disk>
"""


def expected_marks(app) -> dict[str, str]:
    """What the engine itself says of each VM, from its XML and its host, as the list should."""
    (connection,) = app.fleet.connections.values()
    host = read_host(connection.conn, connection.uri)
    marks = {}
    for dom in connection.conn.listAllDomains(0):
        findings = [f for f in advise(read_inputs(dom, None, host)) if f.id != NOT_CHECKED]
        severity = worst(findings)
        if severity in ("problem", "warning"):
            marks[dom.name()] = severity
    return marks


def shown_marks(app) -> dict[str, str]:
    table = app.domain_list.table
    return {app.domain_list.domains[key].name: severity
            for key, severity in table.advice.items()}


def row_line(app, name: str) -> str:
    return next(line for line in screen_text(app).splitlines() if f" {name} " in line)


async def test_vms_with_warnings_are_marked_as_the_engine_says(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        expected = expected_marks(app)
        assert expected == {"win10": "warning", "legacy-crashed": "warning",
                            "erp-centos7": "warning", "tcg-sandbox": "warning",
                            "render-node": "problem", "office-win11": "problem"}
        await wait_for(pilot, lambda: shown_marks(app) == expected)
        await pilot.pause(0.05)
        assert row_line(app, "win10").startswith(" ! ")
        assert row_line(app, "router").startswith("   ")


async def test_filter_by_advice(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(shown_marks(app)) == 6)
        names = lambda: [app.domain_list.domains[k].name for k in app.domain_list.table.shown_keys()]  # noqa: E731
        await pilot.press("slash", *"advice:warning")
        # warning: a warning or worse
        await wait_for(pilot, lambda: names() == ["erp-centos7", "legacy-crashed", "office-win11",
                                                  "render-node", "tcg-sandbox", "win10"])
        await pilot.press(*" -name:win")
        await wait_for(pilot, lambda: names() == ["erp-centos7", "legacy-crashed", "render-node",
                                                  "tcg-sandbox"])
        for _ in " -name:win":
            await pilot.press("backspace")
        for _ in "warning":
            await pilot.press("backspace")
        await pilot.press(*"problem")
        await wait_for(pilot, lambda: names() == ["office-win11", "render-node"])
        await pilot.press(*" state:paused")
        await wait_for(pilot, lambda: names() == [])
        assert "no VM matches the filter" in screen_text(app)
        for _ in " state:paused":
            await pilot.press("backspace")
        await wait_for(pilot, lambda: names() == ["office-win11", "render-node"])
        for _ in "problem":
            await pilot.press("backspace")
        await pilot.press(*"bad")
        await pilot.pause(0.05)
        # a value that cannot mean anything: said in one line, the last good filter stays
        assert "unknown advice 'bad' (one of: problem, warning, none)" in screen_text(app)
        assert names() == ["office-win11", "render-node"]
        await pilot.press("backspace", "backspace", "backspace", *"none")
        await wait_for(pilot, lambda: len(names()) == 11 and "win10" not in names())


async def test_a_redefined_vm_is_read_again(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(shown_marks(app)) == 6)
        assert "vm1" not in shown_marks(app)
        dom = libvirt_domain(app, "vm1")
        xml = dom.XMLDesc(0).replace("</devices>", WINDOWS_IDE_DISK + "</devices>")
        dom.connect().defineXML(xml)  # another client redefines it: a libvirt event
        await wait_for(pilot, lambda: shown_marks(app).get("vm1") == "warning", 5)
        assert shown_marks(app) == expected_marks(app)
