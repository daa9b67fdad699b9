"""`c` on the test driver, which has no consoles: every case is answered in words, with
libvirt's own message, and nothing crashes. (Attaching to real guests: tests/integration.)"""

from __future__ import annotations

import libvirt

from kvmtui.keys import help_rows
from kvmtui.screens.console import ConsoleScreen
from tests.helpers import screen_text, select, state_of, wait_for
from tests.ui.random_keys import post_burst


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def open_console(pilot, vm: str) -> ConsoleScreen:
    await select(pilot, vm)
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConsoleScreen))
    return pilot.app.screen


async def test_a_driver_without_consoles_says_so_with_libvirts_words(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_console(pilot, "win10")
        await wait_for(pilot, lambda: "libvirt says" in screen_text(app))
        text = screen_text(app)
        assert "This connection's driver has no consoles" in text
        assert "not supported" in text  # libvirt's own message
        assert "Console of win10" in text and "ctrl+] leaves" in text  # the title line
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)


async def test_a_shut_off_vm_offers_to_start_it_and_attach(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_console(pilot, "vm1")
        await wait_for(pilot, lambda: "s starts it and attaches" in screen_text(app))
        assert "vm1 is shut off" in screen_text(app)
        await pilot.pause(0.5)  # keys typed before the offer was seen never take it
        await pilot.press("s")
        await wait_for(pilot, lambda: state_of(app, "vm1") == libvirt.VIR_DOMAIN_RUNNING)
        # then it attaches by itself, as virsh start --console does: here the driver refuses
        await wait_for(pilot, lambda: "no consoles" in screen_text(app))
        assert app.screen is screen


async def test_read_only_explains_in_one_line_and_opens_nothing(make_app, demo_uri):
    app = make_app(demo_uri, readonly=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await select(pilot, "win10")
        await pilot.press("c")
        await wait_for(pilot, lambda: any("Read-only" in n and "console" in n
                                          for n in notices(app)))
        assert app.screen is app.domain_list
        assert not any("console" in what for _, what, _ in help_rows(readonly=True))


async def test_c_on_every_vm_screen_and_in_help(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DomainDetailsScreen")
        await pilot.press("c")  # from the details of the VM: its console
        await wait_for(pilot, lambda: isinstance(app.screen, ConsoleScreen))
        assert app.screen.summary.name == "win10"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.domain_list)
    rows = [keys for keys, what, _ in help_rows(readonly=False) if "console" in what]
    assert "c" in rows[0]


async def test_the_palette_lists_the_console(make_app, demo_uri):
    from textual.command import CommandList, CommandPalette

    app = make_app(demo_uri)
    async with app.run_test(size=(100, 30)) as pilot:
        await select(pilot, "win10")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: CommandPalette.is_open(app))
        await pilot.press(*"console")

        def titles() -> list[str]:
            return [o.hit.prompt.plain for o in app.screen.query_one(CommandList).options]

        await wait_for(pilot, lambda: "Console of win10" in titles())
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConsoleScreen))


async def test_keys_typed_ahead_never_reach_the_power_keys(make_app, demo_uri):
    # `c` then, at once, "reboot" and "pause": the screen has not said what its keys do yet
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, "win10")
        await post_burst(app, ["c", *"dpause", "F", "M"])  # one write, as over SSH
        await wait_for(pilot, lambda: "libvirt says" in screen_text(app))
        await pilot.pause(0.2)
        assert state_of(app, "win10") == libvirt.VIR_DOMAIN_RUNNING
        assert not app.action_log.records
        assert isinstance(app.screen, ConsoleScreen)  # no question was opened either


async def test_ctrl_right_bracket_leaves_even_when_not_attached(make_app, demo_uri):
    app = make_app(demo_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_console(pilot, "win10")
        await wait_for(pilot, lambda: "libvirt says" in screen_text(app))
        await pilot.press("ctrl+right_square_bracket")
        await wait_for(pilot, lambda: app.screen is app.domain_list)
