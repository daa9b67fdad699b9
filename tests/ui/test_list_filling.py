"""The list at start-up with several hosts: rows arrive host by host, and the user sees the top
of the list, not wherever the first VM listed ended up once the others sorted in above it."""

from __future__ import annotations

from kvmtui.virt.session.config import HostEntry
from tests.helpers import start_app, wait_for, write_fleet


def two_hosts(tmp_path):
    """(the app on host a, the URI of host b): b's 60 VMs (vm0000…) sort before a's 3 (zz-…)."""
    late = write_fleet(tmp_path / "late.xml", 60)
    first = write_fleet(tmp_path / "first.xml", 3)
    (tmp_path / "first.xml").write_text(
        (tmp_path / "first.xml").read_text().replace("<name>vm", "<name>zz-vm"))
    return start_app(HostEntry("a", first), config_path=tmp_path / "config.toml"), late


async def test_the_cursor_stays_on_top_while_hosts_fill_the_list(tmp_path):
    app, late = two_hosts(tmp_path)
    try:
        async with app.run_test(size=(100, 20)) as pilot:
            table = app.domain_list.table
            await wait_for(pilot, lambda: table.row_count == 3)
            assert app.domain_list.selected.name == "zz-vm0000"
            app.fleet.add(HostEntry("b", late))  # a host that answers later
            await wait_for(pilot, lambda: table.row_count == 63)
            # the top of the list, as a user expects of a list that was just opened
            assert app.domain_list.selected.name == "vm0000"
            assert table.scroll_y == 0
    finally:
        app.fleet.close()


async def test_once_the_user_moved_the_cursor_stays_on_the_vm_they_chose(tmp_path):
    app, late = two_hosts(tmp_path)
    try:
        async with app.run_test(size=(100, 20)) as pilot:
            table = app.domain_list.table
            await wait_for(pilot, lambda: table.row_count == 3)
            await pilot.press("down")
            assert app.domain_list.selected.name == "zz-vm0001"
            app.fleet.add(HostEntry("b", late))
            await wait_for(pilot, lambda: table.row_count == 63)
            assert app.domain_list.selected.name == "zz-vm0001"  # what a power key acts on
    finally:
        app.fleet.close()
