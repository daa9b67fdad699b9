"""The list: what it shows, filter and sort, events from other clients, cursor that stays put."""

from __future__ import annotations

import libvirt

from kvmtui.screens.sort_dialog import SortScreen
from tests.helpers import asking, copy_demo_fleet, libvirt_domain, select, wait_for, write_fleet


def shown_names(app) -> list[str]:
    table = app.domain_list.table
    return [app.domain_list.domains[k].name for k in table.shown_keys()]


def header_text(app) -> str:
    return str(app.domain_list.query_one("#header").render())


async def sort_by(pilot, label: str) -> None:
    """`o`, then the column by the name its header shows (typing its first letter), enter."""
    await pilot.press("o")
    await wait_for(pilot, lambda: asking(pilot.app, SortScreen))
    chooser = pilot.app.screen
    labels = dict(chooser.columns)
    for _ in labels:
        if labels[chooser.highlighted_key] == label:
            break
        await pilot.press(label[0].lower())
    else:
        raise AssertionError(f"no column {label!r} to sort by")
    await pilot.press("enter")
    await wait_for(pilot, lambda: pilot.app.screen is pilot.app.domain_list)


def virsh_view(app) -> dict[str, tuple[str, str]]:
    """name -> (id, state word) as libvirt reports it, in virsh's words."""
    words = {0: "no state", 1: "running", 2: "idle", 3: "paused", 4: "in shutdown",
             5: "shut off", 6: "crashed", 7: "pmsuspended"}
    (connection,) = app.fleet.connections.values()
    return {d.name(): (str(d.ID()) if d.ID() >= 0 else "-", words[d.state()[0]])
            for d in connection.conn.listAllDomains(0)}


async def test_every_domain_is_shown_with_libvirts_id_and_state(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)):
        table = app.domain_list.table
        shown = {}
        for key in table.shown_keys():
            row = table.row_text(key)
            shown[row["name"]] = (row["id"], row["state"].replace(" (saved)", ""))
        assert shown == virsh_view(app)
        assert len(shown) == 17


async def test_header_counts_the_fleet(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)):
        assert header_text(app).startswith("17 domains · 10 running · 1 paused · 2 shut off")
        assert "demo-fleet.xml" in header_text(app)


async def test_a_change_by_another_client_appears_from_events(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        libvirt_domain(app, "db-storage").suspend()  # not through kvmtui
        await wait_for(pilot, lambda: app.domain_list.table.row_text(
            _key(app, "db-storage"))["state"] == "paused")
        assert header_text(app).startswith("17 domains · 9 running · 2 paused")


async def test_defined_and_undefined_domains_appear_and_disappear(make_app, demo_uri):
    app = make_app(demo_uri)
    xml = ("<domain type='test'><name>newcomer</name><memory unit='MiB'>256</memory>"
           "<vcpu>1</vcpu><os><type>hvm</type></os></domain>")
    async with app.run_test(size=(100, 30)) as pilot:
        (connection,) = app.fleet.connections.values()
        dom = connection.conn.defineXML(xml)
        await wait_for(pilot, lambda: "newcomer" in shown_names(app))
        assert header_text(app).startswith("18 domains")
        dom.undefine()
        await wait_for(pilot, lambda: "newcomer" not in shown_names(app))
        assert header_text(app).startswith("17 domains")


async def test_cursor_stays_on_its_vm_when_events_reorder_the_list(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await sort_by(pilot, "State")  # a state change moves rows
        await select(pilot, "win10")
        before = app.domain_list.table.cursor_row
        for name in ("build-smp", "db-storage", "scratch-transient"):
            libvirt_domain(app, name).destroy()  # running rows above win10 move to the end
        await wait_for(pilot, lambda: app.domain_list.table.cursor_row != before)
        assert app.domain_list.selected.name == "win10"


async def test_cursor_stays_when_the_selected_vm_changes_state(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await sort_by(pilot, "State")
        await select(pilot, "db-storage")
        libvirt_domain(app, "db-storage").destroy()
        await wait_for(pilot, lambda: app.domain_list.selected.state.word == "shut off")
        assert app.domain_list.selected.name == "db-storage"


async def test_filter_by_name_and_state_terms(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"win")
        await wait_for(pilot, lambda: shown_names(app) == ["office-win11", "win10"])
        assert "showing 2" in header_text(app)
        await pilot.press("enter")  # keeps the filter, back to the list
        assert app.focused is app.domain_list.table
        await pilot.press("slash", *["backspace"] * 3, *"state:running")
        await wait_for(pilot, lambda: shown_names(app) == [
            "build-smp", "db-storage", "erp-centos7", "nextcloud", "office-win11",
            "render-node", "scratch-transient", "tcg-sandbox", "web-macvtap", "win10"])
        await pilot.press(*" -web")
        await wait_for(pilot, lambda: "web-macvtap" not in shown_names(app))
        await pilot.press("escape")  # clears it
        await wait_for(pilot, lambda: len(shown_names(app)) == 17)


async def test_a_bad_filter_term_says_why_and_changes_nothing(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"state:runing")
        box = app.domain_list.query_one("#filter")
        await wait_for(pilot, lambda: "unknown state 'runing'" in str(box.border_subtitle))
        assert box.has_class("-invalid")
        # the last good filter ("state:run", a prefix of running) stays in force
        assert len(shown_names(app)) == 10


async def test_filter_survives_events_and_new_rows_respect_it(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"state:paused", "enter")
        await wait_for(pilot, lambda: shown_names(app) == ["fedora-paused"])
        libvirt_domain(app, "win10").suspend()
        await wait_for(pilot, lambda: shown_names(app) == ["fedora-paused", "win10"])


async def test_sort_by_picked_columns_and_reverse(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        assert shown_names(app)[0] == "build-smp"
        await pilot.press("O")
        assert shown_names(app)[0] == "win10"
        await pilot.press("O")
        await sort_by(pilot, "vCPUs")  # fewest first, ties by name
        assert shown_names(app)[0] == "legacy-crashed" and "sort: vCPUs ▲" in header_text(app)
        await sort_by(pilot, "State")  # running first, shut off last
        names = shown_names(app)
        assert names[:10] == [
            "build-smp", "db-storage", "erp-centos7", "nextcloud", "office-win11",
            "render-node", "scratch-transient", "tcg-sandbox", "web-macvtap", "win10"]
        assert names[-2:] == ["ci-runner", "vm1"]
        assert "sort: State ▲" in header_text(app)
        await sort_by(pilot, "Id")  # active domains by id, then the inactive ones
        assert shown_names(app)[:3] == ["win10", "web-macvtap", "db-storage"]
        await sort_by(pilot, "Memory")
        assert shown_names(app)[-1] == "render-node"
        await sort_by(pilot, "Memory")  # the column sorted by again: the other way round
        assert shown_names(app)[0] == "render-node"


async def test_several_connections_add_a_host_column(make_app, tmp_path):
    a = copy_demo_fleet(tmp_path, "lab-a.xml")
    b = write_fleet(tmp_path / "lab-b.xml", 3)
    app = make_app(a, b)
    async with app.run_test(size=(120, 30)):
        table = app.domain_list.table
        # the test driver reports no figures: no live column is shown
        assert table.column_labels() == [
            "Id", "Name", "Host", "State", "vCPUs", "Memory", "Auto", "Persist"]
        assert header_text(app).startswith("20 domains")
        assert "hosts: lab-a, lab-b (H)" in header_text(app)
        hosts = {table.row_text(k)["host"] for k in table.shown_keys()}
        assert hosts == {"lab-a", "lab-b"}


async def test_same_name_on_two_hosts_are_two_rows(make_app, tmp_path):
    a = copy_demo_fleet(tmp_path, "lab-a.xml")
    b = copy_demo_fleet(tmp_path, "lab-b.xml")
    app = make_app(a, b)
    async with app.run_test(size=(120, 30)) as pilot:
        assert shown_names(app).count("win10") == 2
        app.fleet.connection(b).conn.lookupByName("win10").suspend()
        await wait_for(pilot, lambda: sorted(
            s.state.word for s in app.domain_list.domains.values() if s.name == "win10")
            == ["paused", "running"])
        assert app.fleet.connection(a).conn.lookupByName("win10").state()[0] == libvirt.VIR_DOMAIN_RUNNING


def _key(app, name: str):
    for s in app.domain_list.domains.values():
        if s.name == name:
            return s.key
    raise KeyError(name)


async def test_keys_typed_fast_after_slash_go_to_the_filter_not_to_power_keys(make_app, demo_uri):
    # Over SSH a burst of keys arrives at once; 's' and 'd' typed into the filter must
    # never start or shut down the VM under the cursor.
    from textual import events

    from tests.helpers import state_of

    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "vm1")
        for char in "/sd":
            key = "slash" if char == "/" else char
            app.post_message(events.Key(key, char))  # all queued before any is handled
        await wait_for(pilot, lambda: app.domain_list.query_one("#filter").value == "sd")
        await pilot.pause(0.2)
        assert state_of(app, "vm1") == libvirt.VIR_DOMAIN_SHUTOFF
